using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Generation;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>Daily caps on the site's own LLM connection (here the configured one), through the real portal, the real
/// Semantic Kernel client and the fake OpenAI-compatible server, which reports 11 + 7 = 18 tokens per call. A run that
/// reaches its starter's cap stops with that reason; the next one is refused before it starts, in any of their
/// projects; a project's own connection is not capped.</summary>
public sealed class SpendingCapTests : IAsyncLifetime
{
    private const int TokensPerCall = 18;
    private static readonly string[] Labels = ["請求", "配送"];
    private FakeOpenAiServer _llm = null!;
    private PortalFactory _portal = null!;

    public async Task InitializeAsync()
    {
        _llm = await FakeOpenAiServer.StartAsync();
        var calls = 0;
        _llm.DefaultResponder = r => FakeSamples.Reply(r, FakeSamples.Answer(Interlocked.Increment(ref calls), Labels));
        _portal = new PortalFactory()
            .With("Llm:Provider", "OpenAICompatible")
            .With("Llm:Endpoint", _llm.OpenAIEndpoint)
            .With("Llm:Model", "fake")
            .With("Llm:MaxConcurrency", "1");
    }

    public async Task DisposeAsync()
    {
        await _portal.DisposeAsync();
        await _llm.DisposeAsync();
    }

    private async Task<(string UserId, Guid ProjectId, Guid TaskId)> ProjectAsync(AppUser user, string name)
    {
        var projectId = (await _portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(user.Id, name, "")).Id;
        var task = await _portal.Services.GetRequiredService<TaskService>().CreateTaskAsync(user.Id, projectId, new TaskSpec
        {
            Name = "問い合わせ", Instruction = "顧客からの問い合わせを分類する。",
            Labels = [new LabelSpec { Name = Labels[0], Description = "請求について。" }, new LabelSpec { Name = Labels[1], Description = "配送について。" }],
            Preferences = new TaskPreferences { Language = "ja" },
        }, null);
        return (user.Id, projectId, task.Id);
    }

    private Task<RunSummary> StartAsync(string userId, Guid projectId, Guid taskId, Guid connectionId) =>
        _portal.Services.GetRequiredService<GenerationService>().StartAsync(userId, projectId,
            new StartRunRequest(taskId, connectionId, PerLabel: 10, Oversample: 1, Concurrency: 1));

    private async Task<GenerationRun> FinishedAsync(Guid runId)
    {
        var jobId = await _portal.QueryAsync(db => db.GenerationRuns.Where(r => r.Id == runId).Select(r => r.JobId!.Value).SingleAsync());
        await Poll.UntilAsync(async () => await _portal.QueryAsync(db => db.Jobs.AnyAsync(j => j.Id == jobId &&
                (j.State == JobState.Succeeded || j.State == JobState.StoppedShort || j.State == JobState.Failed || j.State == JobState.Cancelled))),
            TimeSpan.FromSeconds(120), async () => (await _portal.QueryAsync(db => db.Jobs.SingleAsync(j => j.Id == jobId))).ProgressMessage ?? "");
        return await _portal.QueryAsync(db => db.GenerationRuns.AsNoTracking().SingleAsync(r => r.Id == runId));
    }

    [Fact]
    public async Task A_per_user_cap_stops_the_run_with_that_reason_and_refuses_the_next_one_in_any_project()
    {
        var admin = await _portal.RegisterAsync(PortalExtensions.UniqueEmail("cap-admin"));
        var (userId, projectId, taskId) = await ProjectAsync(admin, "Capped");
        // Three calls' worth: the fourth is not made.
        await _portal.Services.GetRequiredService<SiteSettingsService>().SetCapsAsync(admin.Id, new SpendingCaps(3 * TokensPerCall, null, null, null));

        var run = await FinishedAsync((await StartAsync(userId, projectId, taskId, LlmConnectionService.ConfiguredConnectionId)).Id);

        Assert.Contains("daily spending cap per user", run.StopReason);
        // The run says it stopped short, and why, in a note the pages translate.
        Assert.Equal(RunOutcome.StoppedShort, run.Outcome);
        var job = await _portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == run.JobId));
        Assert.Equal(JobState.StoppedShort, job.State);
        Assert.Contains("\"Run.Short.SpendingCap\"", job.NoteJson);
        Assert.Equal(3, run.Calls);
        Assert.Equal(3, _llm.ChatRequests.Count);
        var spent = await _portal.QueryAsync(db => db.LlmSpend.Where(s => s.UserId == userId).ToListAsync());
        Assert.Equal(3 * TokensPerCall, spent.Sum(s => s.Tokens));
        Assert.All(spent, s => Assert.Equal((projectId, LlmConnectionService.ConfiguredConnectionId), (s.ProjectId, s.ConnectionId)));

        var (_, otherProject, otherTask) = await ProjectAsync(admin, "Another of theirs");
        var refused = await Assert.ThrowsAsync<DomainValidationException>(() => StartAsync(userId, otherProject, otherTask, LlmConnectionService.ConfiguredConnectionId));
        Assert.Equal("SpendingCapReached", refused.Details.Single().Code);
        Assert.Equal(3, _llm.ChatRequests.Count);
    }

    [Fact]
    public async Task A_per_project_cap_counts_everyone_and_a_projects_own_connection_is_not_capped()
    {
        var admin = await _portal.RegisterAsync(PortalExtensions.UniqueEmail("pcap-admin"));
        var colleague = await _portal.RegisterAsync(PortalExtensions.UniqueEmail("pcap-colleague"));
        var (_, projectId, taskId) = await ProjectAsync(admin, "Shared budget");
        await _portal.Services.GetRequiredService<ProjectService>().AddMemberAsync(admin.Id, projectId, colleague.Email, ProjectRole.Author);
        await _portal.Services.GetRequiredService<SiteSettingsService>().SetCapsAsync(admin.Id, new SpendingCaps(null, null, 2 * TokensPerCall, null));

        var first = await FinishedAsync((await StartAsync(admin.Id, projectId, taskId, LlmConnectionService.ConfiguredConnectionId)).Id);
        Assert.Contains("daily spending cap per project", first.StopReason);
        var refused = await Assert.ThrowsAsync<DomainValidationException>(() => StartAsync(colleague.Id, projectId, taskId, LlmConnectionService.ConfiguredConnectionId));
        Assert.Equal("SpendingCapReached", refused.Details.Single().Code);

        var own = await _portal.Services.GetRequiredService<LlmConnectionService>().CreateAsync(admin.Id, projectId,
            new LlmConnectionInput("Our own key", LlmProvider.OpenAICompatible, _llm.OpenAIEndpoint, "fake", null, 0.9, 1024, 1, null, 0m, 0m));
        var ownRun = await FinishedAsync((await StartAsync(colleague.Id, projectId, taskId, own.Id)).Id);
        Assert.DoesNotContain("spending cap", ownRun.StopReason ?? "");
        Assert.True(ownRun.Calls > 2);
        Assert.Equal(2 * TokensPerCall, await _portal.QueryAsync(db => db.LlmSpend.Where(s => s.ProjectId == projectId).SumAsync(s => s.Tokens)));
    }
}
