using System.Globalization;
using System.Text;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Mining;
using Incubator.Domain.Review;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Mining;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Self-training from the mining page: from a corpus and its mining run, start self-training, watch its rounds
/// arrive live, open the model version it made, and from there its uncertain texts in the review queue, most uncertain
/// first. The small Japanese fixture keeps it quick (character n-grams, a sparse model, two rounds).</summary>
[Collection(BrowserCollection.Name)]
public sealed class SelfTrainingBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task From_a_corpus_self_train_watch_the_rounds_get_a_model_and_review_its_uncertain_texts()
    {
        using var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        const string email = "st-owner@example.com";
        await owner.RegisterAsync(email, Password);
        var projectId = await owner.CreateProjectAsync("Self-training");
        var taskId = await portal.CreateTaskAsync(email, projectId, MiningFixtures.JapaneseTask);
        var ownerId = await portal.UserIdAsync(email);
        await portal.InScopeAsync(async sp =>
        {
            using var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", MiningFixtures.JapaneseLabelled().Select(l => l.Text))));
            return await sp.GetRequiredService<CorpusService>().ImportAsync(ownerId, projectId, null, "tickets-ja.txt", stream, new TextFileOptions(TextFileFormat.Txt));
        });

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/mine");
        await Expect(owner.Page.GetByTestId("st-needs-run")).ToBeVisibleAsync();
        await owner.FillAsync("mine-per-label", "4");
        await owner.FillAsync("mine-margin", "0");
        await owner.ClickAsync("mine-start");
        await Expect(owner.Page.Locator("[data-testid=mining-run-state][data-state=Succeeded]")).ToHaveCountAsync(1, new() { Timeout = 120_000 });

        // A reviewer approves three mined candidates of two labels elsewhere: the active-learning line appears with the
        // queue's pending count.
        var mined = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId).ToListAsync());
        await portal.InScopeAsync(async sp =>
        {
            foreach (var c in mined.GroupBy(c => c.Label).OrderBy(g => g.Key, StringComparer.Ordinal).Take(2).SelectMany(g => g.Take(QuickModel.MinPerLabel)))
                await sp.GetRequiredService<DecideCandidate>().DecideAsync(ownerId, c.Id, new Decision(DecisionKind.Approve), c.Version);
            return 0;
        });
        var pendingBefore = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && c.Stage == CandidateStage.Selected));
        await Expect(owner.Page.GetByTestId("al-queue")).ToContainTextAsync($" of {pendingBefore} pending scored)");

        // The finished run is offered as the seeds; two rounds, five uncertain texts.
        await Expect(owner.Page.GetByTestId("st-start")).ToBeVisibleAsync();
        await owner.FillAsync("st-rounds", "2");
        await owner.FillAsync("st-uncertain", "5");
        await owner.ClickAsync("st-start");
        // The rounds arrive on the open page (round 0 is the seed model), then the model and the queue link.
        await Expect(owner.Page.Locator("[data-testid=st-round][data-round='0']")).ToHaveCountAsync(1, new() { Timeout = 120_000 });
        await Expect(owner.Page.Locator("[data-testid=st-round][data-round='0']")).ToContainTextAsync("Seed model: held-out agreement");
        await Expect(owner.Page.GetByTestId("st-model")).ToBeVisibleAsync(new() { Timeout = 120_000 });
        var run = await portal.QueryAsync(db => db.MiningRuns.AsNoTracking().SingleAsync(r => r.SourceRunId != null));
        var rounds = SelfTrainingService.ReadRounds(run.SummaryJson);
        Assert.InRange(rounds.Count, 2, 3);
        await Expect(owner.Page.GetByTestId("st-round")).ToHaveCountAsync(rounds.Count);
        await Expect(owner.Page.Locator("[data-testid=st-round][data-round='1']")).ToContainTextAsync("Round 1 of 2: held-out agreement");
        var job = await portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == run.JobId));
        await Expect(owner.Page.Locator($"[data-testid=st-run][data-state={job.State}]")).ToHaveCountAsync(1);
        var queued = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.MiningRunId == run.Id && c.Status == CandidateStatus.Pending));
        Assert.Equal(5, queued);
        await Expect(owner.Page.GetByTestId("st-uncertain-queue")).ToContainTextAsync($"({queued} pending of {queued})");
        // The same open page's active-learning line counts them too, without a reload (it once stayed at the old count).
        var pendingAfter = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && c.Stage == CandidateStage.Selected));
        Assert.Equal(pendingBefore + queued, pendingAfter);
        await Expect(owner.Page.GetByTestId("al-queue")).ToContainTextAsync($"of {pendingAfter} pending scored)");

        // The model version it made is an ordinary one.
        await owner.ClickAsync("st-model");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/projects/{projectId}/models/{run.ModelVersionId}$"));
        await owner.WaitInteractiveAsync();
        await Expect(owner.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", nameof(ModelVersionState.Draft));
        await Expect(owner.Page.GetByTestId("model-download")).ToBeVisibleAsync();
        await Expect(owner.Page.GetByTestId("model-self-trained")).ToContainTextAsync(run.CorpusName);
        await Expect(owner.Page.GetByTestId("model-uncertain-queue")).ToContainTextAsync($"({queued} pending of {queued})");
        // A reviewer approves one of them elsewhere: the open page's count follows the database.
        await portal.InScopeAsync(async sp =>
        {
            var first = await portal.QueryAsync(db => db.Candidates.AsNoTracking().FirstAsync(c => c.MiningRunId == run.Id));
            await sp.GetRequiredService<DecideCandidate>().DecideAsync(ownerId, first.Id, new Decision(DecisionKind.Approve), first.Version);
            return 0;
        });
        var pending = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.MiningRunId == run.Id && c.Status == CandidateStatus.Pending));
        Assert.Equal(queued - 1, pending);
        await Expect(owner.Page.GetByTestId("model-uncertain-queue")).ToContainTextAsync($"({pending} pending of {queued})");

        // Its uncertain texts in the queue, most uncertain first.
        await owner.ClickAsync("model-uncertain-queue");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex($"/tasks/{taskId}/review\\?run={run.Id}&sort=MostUncertain"));
        await owner.WaitInteractiveAsync();
        var expected = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.MiningRunId == run.Id)
            .OrderByDescending(c => c.Uncertainty).ThenByDescending(c => c.CreatedAt).Select(c => new { c.Text, c.Uncertainty }).ToListAsync());
        await Expect(owner.Page.GetByTestId("review-text")).ToHaveCountAsync(expected.Count);
        var shown = (await owner.Page.GetByTestId("review-text").AllInnerTextsAsync()).Select(t => t.Trim()).ToList();
        Assert.Equal(expected.Select(e => e.Text), shown.Select(s => expected.Select(e => e.Text).Single(s.Contains)));
        var scores = (await owner.Page.GetByTestId("review-uncertainty").AllInnerTextsAsync()).ToList();
        Assert.Equal(expected.Count, scores.Count);
        Assert.Equal(expected.Select(e => e.Uncertainty!.Value.ToString("0.00", CultureInfo.InvariantCulture)), scores.Select(s => s.Split(' ').Last().Trim()));

        await owner.Page.Context.CloseAsync();
    }
}
