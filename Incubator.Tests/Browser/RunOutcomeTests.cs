using System.Net;
using System.Text.Json;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Generation;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Incubator.Web.Api;
using Incubator.Web.Cli;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>One real portal (and one signed-in browser) for every outcome: an owner, a project, an API client.</summary>
public sealed class RunOutcomePortal : IAsyncLifetime
{
    public const string Password = "Incub8tor-pass";
    public const string OwnerEmail = "outcomes@example.com";
    /// <summary>How long runs here wait for an endpoint that went away (the product's default is 10 minutes).</summary>
    public static readonly TimeSpan EndpointWait = TimeSpan.FromSeconds(6);

    private readonly SemaphoreSlim _browserGate = new(1, 1);
    private PortalBrowser? _browser;

    public RunOutcomePortal()
    {
        Portal = new PortalFactory(realServer: true)
            // Each request is tried twice with tiny pauses, so a dead endpoint is known at once.
            .With("Llm:MaxAttempts", "2")
            .With("Llm:RetryBaseDelay", "00:00:00.020")
            .With("Llm:RetryMaxDelay", "00:00:00.100")
            .With("Generation:EndpointWait", EndpointWait.ToString("c"));
    }

    public PortalFactory Portal { get; }

    public string OwnerId { get; private set; } = "";

    public Guid ProjectId { get; private set; }

    public AuthenticatedClient Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _ = Portal.ServerAddress;
        OwnerId = (await Portal.RegisterAsync(OwnerEmail, Password)).Id;
        ProjectId = (await Portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().CreateProjectAsync(OwnerId, "Outcomes", null))).Id;
        Api = await AuthenticatedClient.SignInAsync(Portal, OwnerEmail);
    }

    /// <summary>The owner's browser, signed in once.</summary>
    public async Task<PortalBrowser> BrowserAsync(BrowserFixture fixture)
    {
        await _browserGate.WaitAsync();
        try
        {
            if (_browser is null)
            {
                _browser = await PortalBrowser.OpenAsync(fixture.Browser, Portal.ServerAddress);
                await _browser.SignInAsync(OwnerEmail, Password);
            }
            return _browser;
        }
        finally
        {
            _browserGate.Release();
        }
    }

    public async Task DisposeAsync()
    {
        if (_browser is not null) await _browser.Page.Context.CloseAsync();
        Api?.Dispose();
        Portal.Dispose();
        _browserGate.Dispose();
    }
}

/// <summary>Every way a run ends, through the real portal, job worker, Semantic Kernel connector and HTTP against the
/// fake OpenAI-compatible server, and the same scenario through the `generate` verb: the job row, the REST API (job and
/// run), the Jobs page, the run page, the task page, the activity feed and the CLI exit code say the same
/// (docs/decisions/0020-truthful-outcomes.md).</summary>
[Collection(BrowserCollection.Name)]
public sealed class RunOutcomeTests(BrowserFixture browser, RunOutcomePortal portal) : IClassFixture<RunOutcomePortal>, IAsyncLifetime
{
    private static readonly string[] Labels = ["請求", "配送"];
    private readonly TempFolder _folder = new("incubator-outcomes");
    private readonly RunOutcomePortal _p = portal;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _folder.Dispose();
        return Task.CompletedTask;
    }

    private static TaskSpec Spec(string name) => FakeSamples.Spec(Labels) with { Name = name };

    private static string Say(int n, int label) => FakeSamples.Sentence(n, label);

    private async Task<(Guid TaskId, Guid ConnectionId)> ArrangeAsync(string name, string endpoint) =>
        await _p.Portal.InScopeAsync(async sp =>
        {
            var task = await sp.GetRequiredService<TaskService>().CreateTaskAsync(_p.OwnerId, _p.ProjectId, Spec(name), null);
            var connection = await sp.GetRequiredService<LlmConnectionService>().CreateAsync(_p.OwnerId, _p.ProjectId,
                new LlmConnectionInput(name, LlmProvider.OpenAICompatible, endpoint, "fake", null, 0.9, 512, 2, null, 0m, 0m));
            return (task.Id, connection.Id);
        });

    private async Task<RunSummary> StartAsync(Guid taskId, Guid connectionId, int perLabel, double oversample = 2, long? budgetTokens = null)
    {
        using var response = await _p.Api.Http.PostJsonAsync($"/api/projects/{_p.ProjectId}/runs",
            new StartRunRequest(taskId, connectionId, perLabel, oversample, 2, budgetTokens));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await response.ReadJsonAsync<RunSummary>();
    }

    private async Task<JobView> JobAsync(Guid jobId)
    {
        using var response = await _p.Api.Http.GetAsync($"/api/jobs/{jobId}");
        response.EnsureSuccessStatusCode();
        return await response.ReadJsonAsync<JobView>();
    }

    private async Task<RunStatus> RunAsync(Guid runId)
    {
        using var response = await _p.Api.Http.GetAsync($"/api/runs/{runId}");
        response.EnsureSuccessStatusCode();
        return await response.ReadJsonAsync<RunStatus>();
    }

    private async Task<JobView> WaitForAsync(Guid jobId, Func<JobView, bool> condition, string what, TimeSpan? timeout = null)
    {
        JobView? last = null;
        await Poll.UntilAsync(async () => condition(last = await JobAsync(jobId)), timeout ?? TimeSpan.FromSeconds(60),
            () => Task.FromResult($"job never became {what}: {last}"));
        return last!;
    }

    /// <summary>The `generate` verb in-process with the same task, against <paramref name="endpoint"/>.</summary>
    private async Task<(int Code, JsonElement Json)> CliAsync(string name, string endpoint, int perLabel, params string[] extra)
    {
        var taskFile = Path.Combine(_folder.Path, name + ".json");
        await File.WriteAllTextAsync(taskFile, TaskJson.Serialize(Spec(name)));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync(["generate", "--task", taskFile, "--endpoint", endpoint, "--model", "fake", "--per-label", perLabel.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--oversample", "2", "--concurrency", "2", "--max-attempts", "2", "--out", Path.Combine(_folder.Path, name + ".tsv"), "--json", .. extra], stdout, stderr);
        Assert.True(stdout.ToString().TrimStart().StartsWith('{'), $"exit {code}\n{stdout}\n{stderr}");
        return (code, JsonDocument.Parse(stdout.ToString()).RootElement.Clone());
    }

    /// <summary>The exit code that goes with a job's end state.</summary>
    private static int ExitCodeOf(JobState state) => state switch
    {
        JobState.Succeeded => GenerateVerb.Completed,
        JobState.StoppedShort => GenerateVerb.StoppedShort,
        _ => GenerateVerb.Failed,
    };

    /// <summary>The Jobs page, the run page and the task page show <paramref name="state"/> ("Waiting" while waiting) and,
    /// when given, the note <paramref name="code"/>; the activity feed has the job's end.</summary>
    private async Task PagesSayAsync(string name, Guid taskId, Guid runId, string state, string? code)
    {
        var page = await _p.BrowserAsync(browser);
        await page.GotoAsync($"/projects/{_p.ProjectId}/jobs");
        // Jobs are listed newest first: the first row with the run's title is its job.
        var row = page.Page.Locator("tr").Filter(new() { Has = page.Page.Locator("[data-testid=job-title]", new() { HasText = name }) }).First;
        await Expect(row.Locator("[data-testid=job-state]")).ToHaveAttributeAsync("data-state", state);
        if (code is not null) await Expect(row.Locator("[data-testid=job-note]")).ToHaveAttributeAsync("data-code", code);

        await page.GotoAsync($"/projects/{_p.ProjectId}/runs/{runId}");
        await Expect(page.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", state);
        if (code is not null && state != "Waiting") await Expect(page.Page.GetByTestId("run-outcome")).ToHaveAttributeAsync("data-code", code);
        if (state == "Waiting") await Expect(page.Page.GetByTestId("run-waiting")).ToBeVisibleAsync();

        await page.GotoAsync($"/projects/{_p.ProjectId}/tasks/{taskId}");
        var runRow = page.Page.Locator($"[data-testid=run-row][data-run='{runId}']");
        await Expect(runRow.Locator("[data-testid=run-row-state]")).ToHaveAttributeAsync("data-state", state);
        if (code is not null) await Expect(runRow.Locator("[data-testid=run-row-note]")).ToHaveAttributeAsync("data-code", code);
    }

    /// <summary>A fake that writes like a model following the prompt, slowly enough to be killed mid-run.</summary>
    private static async Task<FakeOpenAiServer> SlowFakeAsync()
    {
        var fake = await FakeOpenAiServer.StartAsync();
        fake.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, Say, delay: TimeSpan.FromMilliseconds(150));
        return fake;
    }

    /// <summary>Stops the fake (its port refuses connections from then on) once it has had <paramref name="calls"/> calls.</summary>
    private static async Task KillAfterAsync(FakeOpenAiServer fake, int calls)
    {
        await Poll.UntilAsync(() => Task.FromResult(fake.ChatRequests.Count >= calls), TimeSpan.FromSeconds(60), () => Task.FromResult($"{fake.ChatRequests.Count} calls"));
        await fake.DisposeAsync();
    }

    /// <summary>A run whose endpoint is killed after a few answers, until its job says it is waiting.</summary>
    private async Task<(Guid TaskId, RunSummary Run, JobView Waiting, int Port)> RunUntilKilledAsync(string name)
    {
        var fake = await SlowFakeAsync();
        var port = fake.BaseUrl.Port;
        var (taskId, connectionId) = await ArrangeAsync(name, fake.OpenAIEndpoint);
        var run = await StartAsync(taskId, connectionId, perLabel: 4);
        await KillAfterAsync(fake, 4);
        var waiting = await WaitForAsync(run.JobId!.Value, j => j.Waiting || j.State != JobState.Running, "waiting");
        Assert.True(waiting.Waiting, waiting.ToString());
        Assert.Equal("Run.Waiting", waiting.Note!.Code);
        return (taskId, run, waiting, port);
    }

    private async Task FeedSaysAsync(string kind, string name)
    {
        var overview = await _p.Portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().GetOverviewAsync(_p.OwnerId, _p.ProjectId, 200));
        // English for the API, the title's note for the feed to say in the reader's language.
        Assert.Contains(overview.RecentActivity, a => a.Kind == kind && a.Detail == $"Generate · {name}"
            && a.DetailNote is { Code: "Title.Generate" } note && note.Args.SequenceEqual([name]));
    }

    [Fact]
    public async Task An_endpoint_unreachable_from_the_start_fails_at_once_with_the_reason_and_a_connection_test()
    {
        const string name = "unreachable";
        // An address where nothing listens any more.
        var gone = await FakeOpenAiServer.StartAsync();
        var endpoint = gone.OpenAIEndpoint;
        await gone.DisposeAsync();
        var (taskId, connectionId) = await ArrangeAsync(name, endpoint);

        var run = await StartAsync(taskId, connectionId, perLabel: 3);
        var job = await WaitForAsync(run.JobId!.Value, j => j.State is JobState.Failed or JobState.StoppedShort or JobState.Succeeded, "finished");

        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("Run.Failed.UnreachableTest", job.Note!.Code);
        Assert.Contains("Connection test:", job.Note.Message);
        Assert.Equal(job.Note.Message, job.Error);
        // Failed at once: no more calls than were in flight together, and never "waiting for the endpoint".
        var status = await RunAsync(run.Id);
        Assert.Equal((RunOutcome.Failed, JobState.Failed, false), (status.Outcome, status.State, status.Waiting));
        Assert.InRange(status.FailedCalls, 1, 2);
        Assert.Equal(status.Calls, status.FailedCalls);
        Assert.DoesNotContain(await _p.Portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>().GetLogAsync(_p.OwnerId, job.Id)),
            l => l.Message.StartsWith("Waiting for the endpoint", StringComparison.Ordinal));
        // The connection's test is kept: the Generate page marks it from now on.
        var choice = await _p.Portal.InScopeAsync(sp => sp.GetRequiredService<GenerationService>().ChooseConnectionAsync(_p.OwnerId, _p.ProjectId));
        Assert.False(choice.Connections.Single(c => c.Id == connectionId).LastTest!.Ok);

        await PagesSayAsync(name, taskId, run.Id, "Failed", "Run.Failed.UnreachableTest");
        await FeedSaysAsync(ActivityKinds.JobFailed, name);
        var (code, json) = await CliAsync(name, endpoint, 3);
        Assert.Equal((ExitCodeOf(job.State), "Failed", "Run.Failed.Unreachable"), (code, json.GetProperty("outcome").GetString(), json.GetProperty("note").GetProperty("code").GetString()));
    }

    [Fact]
    public async Task An_endpoint_killed_mid_run_makes_the_run_wait_and_it_completes_by_itself_when_the_endpoint_is_back()
    {
        const string name = "comes back";
        var (taskId, run, _, port) = await RunUntilKilledAsync(name);
        Assert.True((await RunAsync(run.Id)).Waiting);
        await PagesSayAsync(name, taskId, run.Id, "Waiting", null);

        // Back on the same address; answers continue where they stopped (no repeats).
        await using var back = await FakeOpenAiServer.StartAsync(port);
        back.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, Say, firstAnswer: 100);
        var done = await WaitForAsync(run.JobId!.Value, j => j.State != JobState.Running, "finished");

        Assert.Equal(JobState.Succeeded, done.State);
        Assert.Null(done.Note);
        var status = await RunAsync(run.Id);
        Assert.Equal((RunOutcome.Completed, 8, false), (status.Outcome, status.Selected, status.Waiting));
        Assert.True(status.FailedCalls >= 1, status.ToString());
        Assert.NotEmpty(back.ChatRequests);
        await PagesSayAsync(name, taskId, run.Id, "Succeeded", null);
        await FeedSaysAsync(ActivityKinds.JobCompleted, name);

        // The command line waits and resumes the same way.
        var cliFake = await SlowFakeAsync();
        var cliPort = cliFake.BaseUrl.Port;
        var cli = CliAsync(name, cliFake.OpenAIEndpoint, 4);
        await KillAfterAsync(cliFake, 4);
        await Task.Delay(TimeSpan.FromSeconds(1));
        await using var cliBack = await FakeOpenAiServer.StartAsync(cliPort);
        cliBack.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, Say, firstAnswer: 100);
        var (code, json) = await cli;
        Assert.Equal((ExitCodeOf(done.State), "Completed"), (code, json.GetProperty("outcome").GetString()));
        Assert.True(json.GetProperty("failedCalls").GetInt32() >= 1);
    }

    [Fact]
    public async Task An_endpoint_killed_for_longer_than_the_run_waits_fails_the_run_with_the_reason()
    {
        const string name = "stays away";
        var (taskId, run, waiting, _) = await RunUntilKilledAsync(name);

        var done = await WaitForAsync(run.JobId!.Value, j => j.State != JobState.Running, "finished", RunOutcomePortal.EndpointWait * 10);
        Assert.Equal(JobState.Failed, done.State);
        Assert.Equal("Run.Failed.Gone", done.Note!.Code);
        Assert.Equal(Math.Ceiling(RunOutcomePortal.EndpointWait.TotalMinutes).ToString(System.Globalization.CultureInfo.InvariantCulture), done.Note.Args[1]);
        // It waited (about) as long as configured before it gave up.
        Assert.True(done.FinishedAt - waiting.WaitingSince >= RunOutcomePortal.EndpointWait - TimeSpan.FromSeconds(1), $"{waiting.WaitingSince} → {done.FinishedAt}");
        var status = await RunAsync(run.Id);
        Assert.Equal((RunOutcome.Failed, false), (status.Outcome, status.Waiting));
        // What the answers before brought is kept and selected.
        Assert.True(status.Selected > 0, status.ToString());
        await PagesSayAsync(name, taskId, run.Id, "Failed", "Run.Failed.Gone");
        await FeedSaysAsync(ActivityKinds.JobFailed, name);

        var cliFake = await SlowFakeAsync();
        var cli = CliAsync(name, cliFake.OpenAIEndpoint, 4, "--endpoint-wait", "2");
        await KillAfterAsync(cliFake, 4);
        var (code, json) = await cli;
        Assert.Equal((ExitCodeOf(done.State), "Run.Failed.Gone"), (code, json.GetProperty("note").GetProperty("code").GetString()));
    }

    [Fact]
    public async Task A_run_whose_every_sample_is_a_duplicate_stops_short_not_successful()
    {
        const string name = "all duplicates";
        var fake = await FakeOpenAiServer.StartAsync();
        // The model writes the same two texts every time.
        fake.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, (_, label) => Say(1, label));
        var (taskId, connectionId) = await ArrangeAsync(name, fake.OpenAIEndpoint);
        var first = await StartAsync(taskId, connectionId, perLabel: 1, oversample: 1);
        Assert.Equal(JobState.Succeeded, (await WaitForAsync(first.JobId!.Value, j => j.State != JobState.Running && j.State != JobState.Queued, "finished")).State);

        var run = await StartAsync(taskId, connectionId, perLabel: 3);
        var done = await WaitForAsync(run.JobId!.Value, j => j.State != JobState.Running && j.State != JobState.Queued, "finished");

        Assert.Equal(JobState.StoppedShort, done.State);
        Assert.Equal("Run.Short.Repeats", done.Note!.Code);
        Assert.Equal([$"{Labels[0]} 0/3, {Labels[1]} 0/3", "6"], done.Note.Args);
        var status = await RunAsync(run.Id);
        Assert.Equal((RunOutcome.StoppedShort, 0), (status.Outcome, status.Selected));
        Assert.All(status.Shortfalls, s => Assert.Equal(ShortReason.Repeats, s.Reason));
        await PagesSayAsync(name, taskId, run.Id, "StoppedShort", "Run.Short.Repeats");
        await FeedSaysAsync(ActivityKinds.JobStoppedShort, name);

        await using var cliFake = await FakeOpenAiServer.StartAsync();
        cliFake.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, (_, label) => Say(1, label));
        var (code, json) = await CliAsync(name, cliFake.OpenAIEndpoint, 3);
        Assert.Equal((ExitCodeOf(done.State), "StoppedShort", "Run.Short.Repeats"),
            (code, json.GetProperty("outcome").GetString(), json.GetProperty("note").GetProperty("code").GetString()));
    }

    /// <summary>Issue 18: in the Japanese UI the run page's messages — the outcome, each shortfall, each rejected
    /// sample's reason and detail ("1.000 similar to …" before) — and the Jobs page's note are Japanese sentences, not
    /// English ones made on the server.</summary>
    [Fact]
    public async Task In_the_japanese_ui_a_stopped_runs_messages_are_japanese_sentences()
    {
        const string name = "japanese messages";
        await using var fake = await FakeOpenAiServer.StartAsync();
        fake.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, (_, label) => Say(1, label));
        var (taskId, connectionId) = await ArrangeAsync(name, fake.OpenAIEndpoint);
        var run = await StartAsync(taskId, connectionId, perLabel: 3);
        var done = await WaitForAsync(run.JobId!.Value, j => j.State != JobState.Running && j.State != JobState.Queued, "finished");
        Assert.Equal(JobState.StoppedShort, done.State);

        const string email = "yuki@example.com";
        var reader = await PortalBrowser.OpenAsync(browser.Browser, _p.Portal.ServerAddress, locale: "ja-JP");
        try
        {
            await reader.RegisterAsync(email, RunOutcomePortal.Password);
            await _p.Portal.InScopeAsync(sp => sp.GetRequiredService<ProjectService>().AddMemberAsync(_p.OwnerId, _p.ProjectId, email, ProjectRole.Viewer));
            await reader.GotoAsync($"/projects/{_p.ProjectId}/runs/{run.Id}");
            await Expect(reader.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "StoppedShort");
            await Expect(reader.Page.GetByTestId("run-outcome")).ToHaveAttributeAsync("data-code", "Run.Short.Repeats");
            await Expect(reader.Page.GetByTestId("run-rejected-detail").First).ToHaveAttributeAsync("data-code", "Sample.Similar");

            var messages = new List<string>();
            foreach (var id in new[] { "run-outcome", "run-shortfall", "run-rejected-item", "run-rejected-detail", "run-state" })
                messages.AddRange(await reader.Page.GetByTestId(id).AllInnerTextsAsync());
            await reader.GotoAsync($"/projects/{_p.ProjectId}/jobs");
            var row = reader.Page.Locator("tr").Filter(new() { Has = reader.Page.Locator("[data-testid=job-title]", new() { HasText = name }) }).First;
            await Expect(row.Locator("[data-testid=job-note]")).ToHaveAttributeAsync("data-code", "Run.Short.Repeats");
            messages.Add(await row.Locator("[data-testid=job-note]").InnerTextAsync());
            messages.Add(await row.Locator("[data-testid=job-state]").InnerTextAsync());

            Assert.True(messages.Count >= 6, string.Join(" | ", messages));
            // A sentence with no Japanese in it was made in English: labels here are Japanese, so data cannot pass for one.
            var english = messages.Where(m => !System.Text.RegularExpressions.Regex.IsMatch(m, @"[\p{IsHiragana}\p{IsKatakana}\p{IsCJKUnifiedIdeographs}]")).ToList();
            Assert.True(english.Count == 0, "English on the Japanese pages: " + string.Join(" | ", english));
            Assert.DoesNotContain(messages, m => m.Contains("similar to", StringComparison.Ordinal) || m.Contains("Stopped short", StringComparison.Ordinal));
        }
        finally
        {
            await reader.Page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task A_run_that_reaches_its_budget_stops_short_with_the_budget_as_the_reason()
    {
        const string name = "budget";
        await using var fake = await FakeOpenAiServer.StartAsync();
        // 11 + 7 tokens an answer: a budget of 50 is crossed by the third.
        fake.DefaultResponder = FakeOpenAiServer.LabelWriter(Labels, Say, delay: TimeSpan.FromMilliseconds(50));
        var (taskId, connectionId) = await ArrangeAsync(name, fake.OpenAIEndpoint);

        var run = await StartAsync(taskId, connectionId, perLabel: 10, budgetTokens: 50);
        var done = await WaitForAsync(run.JobId!.Value, j => j.State != JobState.Running && j.State != JobState.Queued, "finished");

        Assert.Equal(JobState.StoppedShort, done.State);
        Assert.Equal("Run.Short.Budget", done.Note!.Code);
        var status = await RunAsync(run.Id);
        Assert.Equal((RunOutcome.StoppedShort, 50L), (status.Outcome, status.BudgetTokens));
        Assert.True(status.Tokens >= 50 && status.Tokens < 50 + 2 * 18, status.ToString());
        Assert.All(status.Shortfalls, s => Assert.Equal(ShortReason.Budget, s.Reason));
        await PagesSayAsync(name, taskId, run.Id, "StoppedShort", "Run.Short.Budget");
        await FeedSaysAsync(ActivityKinds.JobStoppedShort, name);

        var (code, json) = await CliAsync(name, fake.OpenAIEndpoint, 10, "--budget-tokens", "50");
        Assert.Equal((ExitCodeOf(done.State), "Run.Short.Budget"), (code, json.GetProperty("note").GetProperty("code").GetString()));
    }
}
