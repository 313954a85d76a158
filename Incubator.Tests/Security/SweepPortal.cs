using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Labelling;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Projects;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>The ids a route can take, all real rows of one project.</summary>
public sealed record SweepIds(
    Guid ProjectId, Guid TaskId, Guid CandidateId, Guid JobId, Guid GenerationRunId, Guid LabellingRunId, Guid QueryRunId, Guid CorpusId,
    Guid DatasetId, Guid ModelId, Guid InvitationId, Guid ConnectionId);

/// <summary>The "victim" project V, with at least one row of every kind a route takes (task, pending and approved
/// candidates, a finished job, a generation, labelling and query run, a corpus, a frozen dataset, a model version, an
/// invitation), and its Owner, Author, Reviewer and Viewer. The outsider is signed in, not a member of V, and owns a
/// project of their own (O) with a task and a corpus, for mixing O's address with V's ids. Every name and text of V
/// carries <see cref="Marker"/>, so a response that leaks any of V's data is found by one search.</summary>
public class SweepPortal : PortalFactory, IAsyncLifetime
{
    public const string Marker = "ZQX7";

    public const string ProjectName = "Quarantined Orchard " + Marker;

    public const string TaskName = "Orchard task " + Marker;

    public SweepPortal()
    {
    }

    protected SweepPortal(bool realServer)
        : base(realServer)
    {
    }

    public SweepIds Victim { get; private set; } = null!;

    public Guid OutsidersProjectId { get; private set; }

    public Guid OutsidersTaskId { get; private set; }

    public Guid OutsidersCorpusId { get; private set; }

    public string OwnerEmail { get; } = PortalExtensions.UniqueEmail("v-owner");

    public string OutsiderId { get; private set; } = "";

    public string VictimOwnerId { get; private set; } = "";

    /// <summary>Rows of V the API sweep does not need but the service sweep does (a method taking their id).</summary>
    public Guid MiningRunId { get; private set; }

    public Guid SpotCheckId { get; private set; }

    /// <summary>A finished review export of V's task.</summary>
    public Guid ExportJobId { get; private set; }

    public string AuthorId { get; private set; } = "";

    public string ReviewerId { get; private set; } = "";

    public string ViewerId { get; private set; } = "";

    /// <summary>The account id of the victim project's member with this role.</summary>
    public string MemberId(ProjectRole role) => role switch
    {
        ProjectRole.Owner => VictimOwnerId,
        ProjectRole.Author => AuthorId,
        ProjectRole.Reviewer => ReviewerId,
        _ => ViewerId,
    };

    public AuthenticatedClient Owner { get; private set; } = null!;

    public AuthenticatedClient Author { get; private set; } = null!;

    public AuthenticatedClient Reviewer { get; private set; } = null!;

    public AuthenticatedClient Viewer { get; private set; } = null!;

    public AuthenticatedClient Outsider { get; private set; } = null!;

    public AuthenticatedClient Client(ProjectRole role) => role switch
    {
        ProjectRole.Owner => Owner,
        ProjectRole.Author => Author,
        ProjectRole.Reviewer => Reviewer,
        _ => Viewer,
    };

    public virtual async Task InitializeAsync()
    {
        if (RealServer) _ = ServerAddress;
        var author = PortalExtensions.UniqueEmail("v-author");
        var reviewer = PortalExtensions.UniqueEmail("v-reviewer");
        var viewer = PortalExtensions.UniqueEmail("v-viewer");
        var outsider = PortalExtensions.UniqueEmail("o-outsider");
        var owner = await this.RegisterAsync(OwnerEmail);
        VictimOwnerId = owner.Id;
        AuthorId = (await this.RegisterAsync(author)).Id;
        ReviewerId = (await this.RegisterAsync(reviewer)).Id;
        ViewerId = (await this.RegisterAsync(viewer)).Id;
        OutsiderId = (await this.RegisterAsync(outsider)).Id;
        var projects = Services.GetRequiredService<ProjectService>();
        var projectId = (await projects.CreateProjectAsync(owner.Id, ProjectName, "Secret description " + Marker)).Id;
        var taskId = await this.CreateTaskAsync(OwnerEmail, projectId, ReviewSeed.MailTask with { Name = TaskName },
            (author, ProjectRole.Author), (reviewer, ProjectRole.Reviewer), (viewer, ProjectRole.Viewer));
        OutsidersProjectId = (await projects.CreateProjectAsync(OutsiderId, "Outsider's own", "")).Id;
        OutsidersTaskId = await this.CreateTaskAsync(outsider, OutsidersProjectId);

        Owner = await AuthenticatedClient.SignInAsync(this, OwnerEmail);
        Author = await AuthenticatedClient.SignInAsync(this, author);
        Reviewer = await AuthenticatedClient.SignInAsync(this, reviewer);
        Viewer = await AuthenticatedClient.SignInAsync(this, viewer);
        Outsider = await AuthenticatedClient.SignInAsync(this, outsider);

        await this.SeedApprovedAsync(projectId, taskId, TrainingSeed.MailSamples(8).Select(r => (r.Label, r.Text + " " + Marker)), owner.Id);
        await this.SeedCandidatesAsync(projectId, taskId, [$"Pending sample one {Marker}", $"Pending sample two {Marker}"]);
        var candidateId = await this.QueryAsync(db => db.Candidates.Where(c => c.ProjectId == projectId && c.Status == Incubator.Domain.Review.CandidateStatus.Pending)
            .Select(c => c.Id).FirstAsync());

        // Through the API, as the owner: a job (finished before anything is compared), a corpus, a dataset, an invitation.
        using var job = await Owner.Http.PostJsonAsync($"/api/projects/{projectId}/jobs/diagnostics", new { steps = 1, delayMs = 0 });
        var jobId = (await Created(job)).GetProperty("id").GetGuid();
        await WaitForJobsAsync(projectId);
        var corpusId = await UploadCorpusAsync(Owner, projectId, "corpus-" + Marker);
        OutsidersCorpusId = await UploadCorpusAsync(Outsider, OutsidersProjectId, "outsiders-corpus");
        using var dataset = await Owner.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 1 });
        var datasetId = (await Created(dataset)).GetProperty("id").GetGuid();
        using var invitation = await Owner.Http.PostJsonAsync($"/api/projects/{projectId}/invitations",
            new { email = PortalExtensions.UniqueEmail("invited"), role = "Viewer" });
        var invitationId = (await Created(invitation)).GetProperty("invitation").GetProperty("id").GetGuid();
        using var export = await Owner.Http.PostAsync($"/api/tasks/{taskId}/candidates/export-jobs", null);
        ExportJobId = (await Created(export)).GetProperty("job").GetProperty("id").GetGuid();

        // Straight into the database: rows whose real creation needs an LLM endpoint or a training run.
        var runId = Guid.NewGuid();
        var labellingId = Guid.NewGuid();
        var queryId = Guid.NewGuid();
        var modelId = Guid.NewGuid();
        var connectionId = Guid.NewGuid();
        var miningId = Guid.NewGuid();
        var spotId = Guid.NewGuid();
        await this.QueryAsync(async db =>
        {
            // The project's own LLM connection, pointing nowhere (port 9, discard): nothing here calls it successfully.
            db.LlmConnections.Add(new Incubator.Domain.Llm.LlmConnection
            {
                Id = connectionId, ProjectId = projectId, Name = "conn " + Marker, Endpoint = "http://127.0.0.1:9/v1", Model = "m", CreatedAt = DateTimeOffset.UtcNow,
                CreatedById = owner.Id,
            });
            var version = await db.TaskVersions.SingleAsync(v => v.TaskId == taskId);
            var now = DateTimeOffset.UtcNow;
            db.GenerationRuns.Add(new GenerationRun
            {
                Id = runId, ProjectId = projectId, TaskId = taskId, TaskVersionId = version.Id, TaskVersionNumber = version.Number, ConnectionId = connectionId,
                ConnectionName = "conn " + Marker, Model = "m", PerLabelTarget = 2, Outcome = RunOutcome.Completed, CreatedAt = now, CreatedById = owner.Id,
            });
            db.LabellingRuns.Add(new LabellingRun
            {
                Id = labellingId, ProjectId = projectId, TaskId = taskId, TaskVersionNumber = version.Number, CorpusId = corpusId, CorpusName = "corpus-" + Marker,
                ConnectionId = connectionId, ConnectionName = "conn " + Marker, Model = "m", BatchSize = 10, CreatedAt = now, CreatedById = owner.Id,
            });
            db.ModelVersions.Add(new ModelVersion
            {
                Id = modelId, ProjectId = projectId, TaskId = taskId, Number = 1, DatasetVersionId = datasetId, State = ModelVersionState.Draft, CreatedAt = now,
            });
            db.MiningRuns.Add(new Incubator.Domain.Mining.MiningRun
            {
                Id = miningId, ProjectId = projectId, TaskId = taskId, TaskVersionNumber = version.Number, CorpusId = corpusId, CorpusName = "corpus-" + Marker,
                Embedder = "hashing", PerLabel = 2, CreatedAt = now, CreatedById = owner.Id,
            });
            db.SpotChecks.Add(new Incubator.Domain.Review.SpotCheck
            {
                Id = spotId, ProjectId = projectId, TaskId = taskId, RunId = runId, SampleSize = 1, Seed = 1, CreatedAt = now, CreatedById = owner.Id,
            });
            db.QueryRuns.Add(new QueryRun
            {
                Id = queryId, ProjectId = projectId, Kind = QueryRunKind.Query, CorpusId = corpusId, CorpusName = "corpus-" + Marker, Expression = "Mail:billing",
                CreatedAt = now, CreatedById = owner.Id,
            });
            return await db.SaveChangesAsync();
        });
        MiningRunId = miningId;
        SpotCheckId = spotId;
        Victim = new SweepIds(projectId, taskId, candidateId, jobId, runId, labellingId, queryId, corpusId, datasetId, modelId, invitationId, connectionId);
        await WaitForJobsAsync(projectId);
        await WaitForJobsAsync(OutsidersProjectId);
    }

    private static async Task<JsonElement> Created(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"Seeding failed: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static async Task<Guid> UploadCorpusAsync(AuthenticatedClient client, Guid projectId, string name)
    {
        var lines = string.Join('\n', Enumerable.Range(0, 6).Select(i => $"Corpus line {i} about an invoice or a parcel {Marker}"));
        using var content = new ByteArrayContent(Encoding.UTF8.GetBytes(lines));
        content.Headers.ContentType = new("application/octet-stream");
        using var response = await client.Http.PostAsync($"/api/projects/{projectId}/corpora?name={name}&fileName={name}.txt", content);
        return (await Created(response)).GetProperty("corpus").GetProperty("id").GetGuid();
    }

    /// <summary>Waits until no job of the project is queued or running, so background work does not change rows while a
    /// test compares them.</summary>
    public async Task WaitForJobsAsync(Guid projectId)
    {
        for (var i = 0; i < 600; i++)
        {
            var active = await this.QueryAsync(db => db.Jobs.CountAsync(j => j.ProjectId == projectId
                && (j.State == JobState.Queued || j.State == JobState.Running)));
            if (active == 0) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("Jobs of the sweep's project did not finish.");
    }

    /// <summary>Tables whose rows legitimately change on any request (sign-in bookkeeping, key ring, probes); everything
    /// else must be byte-for-byte the same after a refused request.</summary>
    private static readonly HashSet<string> Volatile = new(StringComparer.OrdinalIgnoreCase)
    {
        "__EFMigrationsHistory", "DataProtectionKeys", "HealthProbes", "SignInFailures",
    };

    /// <summary>Row count and a hash of every value of every table (SQLite), by table name.</summary>
    public Task<Dictionary<string, string>> SnapshotAsync() => this.QueryAsync(async db =>
    {
        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var tables = new List<string>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name";
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync()) tables.Add(reader.GetString(0));
        }
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in tables.Where(t => !Volatile.Contains(t)))
        {
            await using var select = connection.CreateCommand();
            select.CommandText = $"SELECT * FROM \"{table}\" ORDER BY rowid";
            await using var reader = await select.ExecuteReaderAsync();
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var rows = 0;
            while (await reader.ReadAsync())
            {
                rows++;
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.IsDBNull(i) ? "\u2400" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture) ?? "";
                    hash.AppendData(Encoding.UTF8.GetBytes(value + "\u241f"));
                }
            }
            result[table] = $"{rows} rows {Convert.ToHexString(hash.GetHashAndReset())[..16]}";
        }
        return result;
    });

    public static IEnumerable<string> Differences(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after) =>
        before.Keys.Union(after.Keys).Where(t => before.GetValueOrDefault(t) != after.GetValueOrDefault(t))
            .Select(t => $"{t}: {before.GetValueOrDefault(t)} -> {after.GetValueOrDefault(t)}");

    Task IAsyncLifetime.DisposeAsync()
    {
        foreach (var c in new[] { Owner, Author, Reviewer, Viewer, Outsider }) c?.Dispose();
        return Task.CompletedTask;
    }
}
