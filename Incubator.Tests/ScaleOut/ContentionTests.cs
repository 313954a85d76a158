using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.ScaleOut;

/// <summary>The measurement as a test: one very large corpus upload over HTTP while ten reviewers keep deciding
/// and a job keeps committing. Before the import was batched, it held SQLite's write lock for 44 s and decisions failed
/// with 500 "database is locked". Nothing here is timed; it asserts that nobody got a 5xx and no job failed.
/// <para>INCUBATOR_CONTENTION_TEXTS sets the corpus size (default 1,000,000, the documented limit).</para></summary>
[Collection(HeavyCollection.Name)]
public sealed class ContentionTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Reviewers = 10;
    private const int ItemsPerReviewer = 20;

    public static int TextCount =>
        int.TryParse(Environment.GetEnvironmentVariable("INCUBATOR_CONTENTION_TEXTS"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? Math.Min(n, CorpusService.MaxTexts)
            : CorpusService.MaxTexts;

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task A_huge_import_while_ten_reviewers_decide_and_a_job_runs_gives_no_5xx_and_fails_no_job(DatabaseProvider provider)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        using var portal = new PortalFactory();
        foreach (var (k, v) in await TestServers.DatabaseSettingsAsync(provider)) portal.With(k, v);
        using var corpusFile = new TempFolder("incubator-contention");
        var path = Path.Combine(corpusFile.Path, "tickets.txt");
        await WriteCorpusAsync(path, TextCount);

        var ownerEmail = PortalExtensions.UniqueEmail("owner");
        var owner = await portal.RegisterAsync(ownerEmail);
        var reviewerEmails = Enumerable.Range(0, Reviewers).Select(i => PortalExtensions.UniqueEmail($"reviewer{i}")).ToList();
        foreach (var e in reviewerEmails) await portal.RegisterAsync(e);
        var projectId = await portal.InScopeAsync(async sp => (await sp.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Contention", null)).Id);
        var taskId = await portal.CreateTaskAsync(ownerEmail, projectId, null, [.. reviewerEmails.Select(e => (e, ProjectRole.Reviewer))]);
        var texts = Enumerable.Range(0, Reviewers * ItemsPerReviewer).Select(i => $"Customer message {i} about an invoice that looks wrong").ToList();
        await portal.SeedCandidatesAsync(projectId, taskId, texts);
        var ids = await portal.QueryAsync(db => db.Candidates.Where(c => c.TaskId == taskId).OrderBy(c => c.Text).Select(c => c.Id).ToListAsync());
        // A job that commits a step every 20 ms throughout: its heartbeat and commits compete with the import too.
        var job = await portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>()
            .EnqueueAsync(owner.Id, projectId, DiagnosticsJob.KindName, "keeps committing", new DiagnosticsJob.Payload(100_000, 20)));

        using var signedIn = await AuthenticatedClient.SignInAsync(portal, ownerEmail);
        // Its own client with the owner's cookie: a million texts take longer than HttpClient's default 100 s timeout.
        using var uploader = portal.CreateDefaultClient(new Uri("http://localhost"),
            new Microsoft.AspNetCore.Mvc.Testing.Handlers.CookieContainerHandler(signedIn.Cookies));
        uploader.Timeout = TimeSpan.FromMinutes(20);
        var clients = new List<AuthenticatedClient>();
        foreach (var e in reviewerEmails) clients.Add(await AuthenticatedClient.SignInAsync(portal, e));
        try
        {
            var statuses = new System.Collections.Concurrent.ConcurrentBag<(int Reviewer, HttpStatusCode Status, string Body)>();
            await using var file = File.OpenRead(path);
            var upload = uploader.PostAsync($"/api/projects/{projectId}/corpora?fileName=tickets.txt&format=Txt", new StreamContent(file));
            // Each reviewer decides and undoes their own items for as long as the upload runs.
            var reviewing = Enumerable.Range(0, Reviewers).Select(r => Task.Run(async () =>
            {
                var mine = ids.Skip(r * ItemsPerReviewer).Take(ItemsPerReviewer).ToDictionary(id => id, _ => 0L);
                while (!upload.IsCompleted)
                {
                    foreach (var id in mine.Keys.ToList())
                    {
                        if (upload.IsCompleted) break;
                        var kind = mine[id] % 2 == 0 ? "Approve" : "Undo";
                        using var response = await clients[r].Http.PostAsJsonAsync($"/api/candidates/{id}/decisions",
                            new { kind, expectedVersion = mine[id] }, PortalExtensions.Json);
                        statuses.Add((r, response.StatusCode, (int)response.StatusCode >= 500 ? await response.Content.ReadAsStringAsync() : ""));
                        if (response.IsSuccessStatusCode) mine[id] = (await response.ReadJsonAsync<CandidateRow>()).Version;
                    }
                }
            })).ToList();

            output.WriteLine($"{provider}: arranged in {clock.Elapsed.TotalSeconds:0.0} s");
            using var uploaded = await upload;
            output.WriteLine($"{provider}: {TextCount:N0} texts imported at {clock.Elapsed.TotalSeconds:0.0} s; {statuses.Count} decisions meanwhile");
            await Task.WhenAll(reviewing);

            var body = await uploaded.Content.ReadAsStringAsync();
            Assert.True(uploaded.StatusCode == HttpStatusCode.Created, $"{(int)uploaded.StatusCode}: {body}");
            var result = System.Text.Json.JsonSerializer.Deserialize<CorpusImportResult>(body, PortalExtensions.Json)!;
            Assert.Equal(TextCount, result.Corpus.TextCount);
            Assert.Equal(CorpusState.Ready, result.Corpus.State);
            // The embeddings job of a million texts is not what this test is about.
            if (result.Corpus.EmbeddingJobId is { } embedding)
                await portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>().CancelAsync(owner.Id, embedding));

            var serverErrors = statuses.Where(s => (int)s.Status >= 500).ToList();
            Assert.True(serverErrors.Count == 0, $"{serverErrors.Count} of {statuses.Count} decisions failed: {serverErrors.FirstOrDefault().Body}");
            Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s.Status));
            Assert.All(Enumerable.Range(0, Reviewers), r => Assert.Contains(statuses, s => s.Reviewer == r));
            var jobs = await portal.QueryAsync(db => db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId).ToListAsync());
            Assert.DoesNotContain(jobs, j => j.State == JobState.Failed);
            var counting = Assert.Single(jobs, j => j.Id == job.Id);
            output.WriteLine($"{provider}: asserted at {clock.Elapsed.TotalSeconds:0.0} s");
            Assert.True(counting.State == JobState.Running && counting.Progress > 0, $"{counting.State} {counting.Progress}");
        }
        finally
        {
            foreach (var c in clients) c.Dispose();
        }
    }

    private static async Task WriteCorpusAsync(string path, int count)
    {
        await using var w = new StreamWriter(path, false, new System.Text.UTF8Encoding(false), 1 << 20);
        string[] topics = ["invoice", "parcel", "refund", "password", "delivery", "subscription", "tracking number", "receipt"];
        for (var i = 0; i < count; i++)
            await w.WriteLineAsync($"Ticket {i}: my {topics[i % topics.Length]} from order {i * 7 % 100_003} has a problem, please look at it today.");
    }
}
