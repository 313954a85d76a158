using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.ScaleOut;

/// <summary>The scale-out topology with local processes (what deploy/compose.yaml runs in containers): two portal
/// processes, each with its own data folder, on one PostgreSQL database and one Redis, sharing one folder for models,
/// exports and uploads.</summary>
[Collection(HeavyCollection.Name)]
public sealed partial class TwoInstanceTests
{
    private const string Password = "Incub8tor-pass";

    /// <summary>Two portal processes and what they share.</summary>
    private sealed class Cluster : IAsyncDisposable
    {
        private readonly List<AppProcess> _processes = [];
        private readonly TempFolder _shared = new("incubator-shared");
        private readonly List<TempFolder> _data = [];

        private Cluster(Dictionary<string, string> environment, JobTestHost db)
        {
            Environment = environment;
            Db = db;
        }

        public Dictionary<string, string> Environment { get; }

        /// <summary>The test's own view of the shared database (no worker).</summary>
        public JobTestHost Db { get; }

        public string SharedDirectory => _shared.Path;

        public static async Task<Cluster> CreateAsync(IReadOnlyDictionary<string, string>? settings = null)
        {
            var pg = await TestServers.PostgresAsync();
            var redis = await TestServers.RedisAsync();
            var connection = await pg.CreateDatabaseAsync();
            var environment = new Dictionary<string, string>
            {
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["ASPNETCORE_URLS"] = "http://127.0.0.1:0",
                ["Database__Provider"] = "Postgres",
                ["ConnectionStrings__Incubator"] = connection,
                ["Redis__Configuration"] = redis.Configuration,
                ["Redis__ChannelPrefix"] = $"test-{Guid.NewGuid():N}",
                ["Jobs__LeaseDuration"] = "00:00:03",
                ["Jobs__PollInterval"] = "00:00:00.200",
                ["Logging__LogLevel__Default"] = "Warning",
                ["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Information",
                ["Logging__LogLevel__Incubator.Domain.Jobs.JobWorker"] = "Information",
            };
            if (settings is not null)
                foreach (var (k, v) in settings) environment[k] = v;
            var dbSettings = new Dictionary<string, string?> { ["Database:Provider"] = "Postgres", ["ConnectionStrings:Incubator"] = connection };
            var db = await JobTestHost.CreateAsync(workerName: "test-observer", settings: dbSettings, configure: s => s.AddIncubatorTasks());
            var cluster = new Cluster(environment, db);
            cluster.Environment["Incubator__SharedDirectory"] = cluster._shared.Path;
            return cluster;
        }

        /// <summary>Starts one portal instance named <paramref name="name"/> and waits until it listens.</summary>
        public async Task<(AppProcess Process, string Url)> StartAsync(string name)
        {
            var data = new TempFolder($"incubator-{name}");
            _data.Add(data);
            var env = new Dictionary<string, string>(Environment) { ["INCUBATOR_DATA"] = data.Path, ["Instance__Name"] = name };
            var process = AppProcess.Start(name, [], env, data.Path);
            _processes.Add(process);
            return (process, await process.WaitForListeningAsync(TimeSpan.FromSeconds(90)));
        }

        public string Output => string.Join("\n", _processes.Select(p => p.Output));

        public async Task RunAsync(Func<Task> body)
        {
            try
            {
                await body();
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"{ex.GetType().Name}: {ex.Message}\n{Output}", ex);
            }
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var p in _processes) p.Dispose();
            await Db.DisposeAsync();
            foreach (var d in _data) d.Dispose();
            _shared.Dispose();
        }
    }

    [Fact]
    public async Task Live_samples_of_a_job_on_A_reach_a_browser_on_B_B_finishes_the_run_after_A_dies_and_A_s_cookie_and_bundle_work_on_B()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        var calls = 0;
        // The test hands out LLM answers: a few to start, more while B watches, none while A is killed, then the rest.
        using var permits = new SemaphoreSlim(3);
        var ungated = false;
        fake.DefaultResponder = request =>
        {
            if (!Volatile.Read(ref ungated)) permits.Wait(TimeSpan.FromMinutes(2));
            var n = Interlocked.Increment(ref calls);
            var json = $"{{\"billing\": \"Invoice {n} shows a charge of {n * 3} euros that I never agreed to, please explain it.\", "
                       + $"\"shipping\": \"Parcel {n} was promised for Monday {n} but the tracking page has not moved since.\"}}";
            return request.Json?["stream"]?.GetValue<bool>() == true
                ? FakeReply.Stream([json[..20], json[20..]], chunkDelay: TimeSpan.FromMilliseconds(150))
                : FakeReply.Completion(json, delay: TimeSpan.FromMilliseconds(300));
        };
        await using var cluster = await Cluster.CreateAsync(new Dictionary<string, string>
        {
            ["Llm__Provider"] = "OpenAICompatible",
            ["Llm__Endpoint"] = fake.OpenAIEndpoint,
            ["Llm__Model"] = "fake-model",
            ["Llm__MaxConcurrency"] = "1",
        });
        var browsers = new BrowserFixture();
        await browsers.InitializeAsync();
        try
        {
            await cluster.RunAsync(async () =>
            {
                // Instance A alone: the first account, its project and task, a trained model.
                var (a, urlA) = await cluster.StartAsync("instance-a");
                var onA = await PortalBrowser.OpenAsync(browsers.Browser, urlA);
                await onA.RegisterAsync("scale-owner@example.com", Password);
                var projectId = await onA.CreateProjectAsync("Support mail");
                var taskId = await CreateTaskAsync(cluster, projectId);
                var cookie = await AuthCookieAsync(onA.Page);
                using var httpA = Client(urlA, cookie);
                var modelId = await TrainAsync(cluster, httpA, projectId, taskId);

                // A generation run, started and running on A.
                await onA.GotoAsync($"/projects/{projectId}/tasks/{taskId}/generate");
                await onA.FillAsync("gen-per-label", "6");
                await onA.ClickAsync("gen-start");
                await onA.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/runs/[0-9a-f-]{36}$"));
                var runPath = new Uri(onA.Page.Url).AbsolutePath;
                var runId = Guid.Parse(runPath[^36..]);
                var jobId = await cluster.Db.QueryAsync(db => db.GenerationRuns.Where(r => r.Id == runId).Select(r => r.JobId!.Value).SingleAsync());
                var running = await cluster.Db.WaitForJobAsync(jobId, j => j.State == JobState.Running, "running");
                Assert.Equal("instance-a", running.LeaseOwner);

                // Instance B joins. The cookie A issued works on B (one key ring in the database)...
                var (_, urlB) = await cluster.StartAsync("instance-b");
                using var httpB = Client(urlB, cookie);
                using (var me = await httpB.GetAsync("/api/projects"))
                    Assert.Equal(HttpStatusCode.OK, me.StatusCode);
                // ...and the bundle trained on A downloads from B, byte for byte (one shared folder).
                var bundle = await httpB.GetByteArrayAsync($"/api/models/{modelId}/bundle");
                var stored = await File.ReadAllBytesAsync(Path.Combine(cluster.SharedDirectory, "models", projectId.ToString("N"), modelId.ToString("N"), ModelStore.BundleFile));
                Assert.Equal(stored, bundle);
                Assert.Equal("PK", System.Text.Encoding.ASCII.GetString(bundle, 0, 2));

                // A browser on B (same sign-in cookie) watches the run whose job runs on A: samples arrive live.
                await Poll.UntilAsync(async () => await cluster.Db.QueryAsync(db => db.Candidates.CountAsync(c => c.RunId == runId)) == 6,
                    TimeSpan.FromSeconds(60), async () => $"{await cluster.Db.QueryAsync(db => db.Candidates.CountAsync(c => c.RunId == runId))} candidates after {Volatile.Read(ref calls)} calls");
                var onB = await PortalBrowser.OpenAsync(browsers.Browser, urlB);
                await onB.Page.Context.AddCookiesAsync([new Microsoft.Playwright.Cookie { Name = AuthenticatedClient.AuthCookieName, Value = cookie, Domain = "127.0.0.1", Path = "/" }]);
                await onB.GotoAsync(runPath);
                var samples = onB.Page.GetByTestId("run-sample");
                // Three answers of two samples each, read from the database once the page is up (waited for, not
                // counted at once: under load the first render can come after the navigation returns).
                await Expect(samples).ToHaveCountAsync(6, new() { Timeout = 30_000 });
                var before = await samples.CountAsync();
                permits.Release(3);
                await onB.Page.WaitForFunctionAsync($"() => document.querySelectorAll('[data-testid=run-sample]').length >= {before + 6}");
                Assert.Equal("instance-a", (await cluster.Db.GetJobAsync(jobId)).LeaseOwner);
                var shown = (await samples.AllInnerTextsAsync()).Select(t => t.Trim()).ToList();

                // A dies mid-run, waiting for its seventh answer (SIGKILL: no hand-back). B's worker takes the job over
                // once the lease expires, and gets every answer it asks for.
                a.Kill();
                Volatile.Write(ref ungated, true);
                permits.Release(100);
                var done = await cluster.Db.WaitForJobAsync(jobId, j => j.IsFinished, "finished", TimeSpan.FromSeconds(120));
                Assert.True(done.State == JobState.Succeeded, JobTestHost.Describe(done));
                Assert.Equal(2, done.Attempts);
                await Expect(onB.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "Succeeded");

                // No sample lost: everything B showed before the crash is stored; none duplicated; the run met its target.
                var rows = await cluster.Db.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.RunId == runId).ToListAsync());
                Assert.All(shown, text => Assert.Contains(rows, r => r.Text == text));
                Assert.Equal(rows.Count, rows.Select(r => TextNormalizer.Normalize(r.Text)).Distinct().Count());
                Assert.Equal(rows.Count, rows.Select(r => r.Id).Distinct().Count());
                foreach (var label in new[] { "billing", "shipping" })
                    Assert.Equal(6, rows.Count(r => r.Label == label && r.Stage == CandidateStage.Selected));
            });
        }
        finally
        {
            await browsers.DisposeAsync();
        }
    }

    [Fact]
    public async Task Two_instances_competing_for_200_jobs_run_each_exactly_once_and_both_do_work()
    {
        const int jobCount = 200;
        await using var cluster = await Cluster.CreateAsync();
        await cluster.RunAsync(async () =>
        {
            var (a, _) = await cluster.StartAsync("instance-a");
            var (b, _) = await cluster.StartAsync("instance-b");
            var projectId = await cluster.Db.CreateProjectAsync("jobs");
            var ids = new List<Guid>();
            for (var i = 0; i < jobCount; i++)
                ids.Add((await cluster.Db.Queue.EnqueueInternalAsync(null, projectId, DiagnosticsJob.KindName, $"count {i}", new DiagnosticsJob.Payload(2, 0))).Id);

            List<Job> jobs = [];
            await Poll.UntilAsync(async () =>
            {
                jobs = await cluster.Db.QueryAsync(db => db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id)).ToListAsync());
                return jobs.All(j => j.IsFinished);
            }, TimeSpan.FromSeconds(180), () => Task.FromResult($"{jobs.Count(j => j.IsFinished)} of {jobCount} finished"));

            Assert.All(jobs, j => Assert.True(j.State == JobState.Succeeded && j.Attempts == 1, JobTestHost.Describe(j)));
            var logs = await cluster.Db.QueryAsync(db => db.JobLog.AsNoTracking().Where(l => ids.Contains(l.JobId)).ToListAsync());
            foreach (var id in ids)
            {
                var log = logs.Where(l => l.JobId == id).OrderBy(l => l.Id).ToList();
                Assert.Equal([1, 2], DiagnosticsLog.Steps(log));
                Assert.Single(log, l => l.Message == "Job succeeded.");
            }
            // Each instance says in its own log which jobs it started: every job once, across both, and both worked.
            var startedOnA = StartedJobs(a.FullOutput);
            var startedOnB = StartedJobs(b.FullOutput);
            Assert.Empty(startedOnA.Intersect(startedOnB));
            Assert.Equal(ids.Order(), startedOnA.Concat(startedOnB).Order());
            Assert.True(startedOnA.Count > 0 && startedOnB.Count > 0, $"A started {startedOnA.Count}, B {startedOnB.Count}");
        });
    }

    [GeneratedRegex(@"Job (?<id>[0-9a-f-]{36}) \(diagnostics\.count\) started, attempt 1")]
    private static partial Regex StartedLine();

    private static List<Guid> StartedJobs(string output) => StartedLine().Matches(output).Select(m => Guid.Parse(m.Groups["id"].Value)).ToList();

    private static HttpClient Client(string url, string cookie)
    {
        var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = new Uri(url) };
        http.DefaultRequestHeaders.Add("Cookie", $"{AuthenticatedClient.AuthCookieName}={cookie}");
        return http;
    }

    private static async Task<string> AuthCookieAsync(IPage page) =>
        (await page.Context.CookiesAsync()).Single(c => c.Name == AuthenticatedClient.AuthCookieName).Value;

    private static async Task<Guid> CreateTaskAsync(Cluster cluster, Guid projectId)
    {
        var ownerId = await cluster.Db.QueryAsync(db => db.Users.Where(u => u.Email == "scale-owner@example.com").Select(u => u.Id).SingleAsync());
        await using var scope = cluster.Db.Services.CreateAsyncScope();
        var task = await scope.ServiceProvider.GetRequiredService<TaskService>().CreateTaskAsync(ownerId, projectId, new TaskSpec
        {
            Name = "Support mail",
            Instruction = "Sort customer e-mails by what they are about.",
            Labels =
            [
                new LabelSpec { Name = "billing", Description = "Invoices, charges and refunds." },
                new LabelSpec { Name = "shipping", Description = "Deliveries, parcels and tracking." },
            ],
            Preferences = new TaskPreferences { Language = "en", TextType = TextType.Email, MinWords = 5, MaxWords = 60 },
        }, null);
        var t0 = DateTimeOffset.UtcNow.AddMinutes(-30);
        await cluster.Db.QueryAsync(async db =>
        {
            var i = 0;
            foreach (var (label, text) in TrainingSeed.MailSamples(12))
            {
                db.Candidates.Add(new Candidate
                {
                    Id = Guid.NewGuid(), ProjectId = projectId, TaskId = task.Id, TaskVersionNumber = 1, Label = label, Text = text,
                    NormalizedText = TextNormalizer.Normalize(text), Source = CandidateSource.Generation, Stage = CandidateStage.Selected,
                    Status = CandidateStatus.Approved, ReviewedById = ownerId, ReviewedAt = t0.AddSeconds(i), CreatedAt = t0.AddSeconds(i++),
                });
            }
            return await db.SaveChangesAsync();
        });
        return task.Id;
    }

    /// <summary>Freezes the approved samples and trains the sparse family through A's API; waits for the model.</summary>
    private static async Task<Guid> TrainAsync(Cluster cluster, HttpClient http, Guid projectId, Guid taskId)
    {
        using var frozen = await http.PostAsJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 1, validationShare = 0.25 });
        Assert.True(frozen.IsSuccessStatusCode, await frozen.Content.ReadAsStringAsync());
        var datasetId = (await frozen.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        using var started = await http.PostAsJsonAsync($"/api/tasks/{taskId}/training", new { family = "sparse", seed = 1, datasetVersionId = datasetId });
        Assert.True(started.IsSuccessStatusCode, await started.Content.ReadAsStringAsync());
        var modelId = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        await Poll.UntilAsync(async () =>
            await cluster.Db.QueryAsync(db => db.ModelVersions.Where(m => m.Id == modelId).Select(m => m.State).SingleAsync()) == ModelVersionState.Draft,
            TimeSpan.FromSeconds(120), async () => $"model state {await cluster.Db.QueryAsync(db => db.ModelVersions.Where(m => m.Id == modelId).Select(m => m.State).SingleAsync())}");
        return modelId;
    }
}
