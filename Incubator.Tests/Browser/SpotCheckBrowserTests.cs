using Incubator.Domain.Review;
using Incubator.Domain.Projects;
using Incubator.Domain.Data;
using Incubator.Domain.Generation;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>The Owner draws a spot-check on a run's page, reviews the drawn samples in focus mode by keyboard, sees the
/// estimate, and accepts the rest of the run in one step.</summary>
[Collection(BrowserCollection.Name)]
public sealed class SpotCheckBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task Owner_draws_reviews_and_accepts_the_rest_of_a_run()
    {
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var owner = await PortalBrowser.OpenAsync(browser.Browser, url);
        await owner.RegisterAsync("spot-owner@example.com", "Incub8tor-pass");
        var projectId = await owner.CreateProjectAsync("Spot project");

        var taskId = await portal.CreateTaskAsync("spot-owner@example.com", projectId);
        var runId = Guid.NewGuid();
        await portal.QueryAsync(async db =>
        {
            var versionId = await db.TaskVersions.Where(v => v.TaskId == taskId).Select(v => v.Id).SingleAsync();
            db.GenerationRuns.Add(new GenerationRun
            {
                Id = runId, ProjectId = projectId, TaskId = taskId, TaskVersionId = versionId, TaskVersionNumber = 1, ConnectionId = Guid.NewGuid(),
                ConnectionName = "earlier run", Model = "fake", PerLabelTarget = 6, Round = 1, CreatedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        await portal.SeedCandidatesAsync(projectId, taskId, Enumerable.Range(0, 12).Select(i => $"Spot sample {i} about order {700 + i}.").ToList(),
            runId: runId, labelOf: i => i % 2 == 0 ? "billing" : "shipping");

        await owner.GotoAsync($"/projects/{projectId}/runs/{runId}");
        await owner.FillAsync("spot-size", "4");
        await owner.ClickAsync("spot-draw");
        await Expect(owner.Page.GetByTestId("spot-estimate")).ToContainTextAsync("Reviewed 0 of 4");
        await owner.ClickAsync("spot-review");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("review/focus\\?spotcheck="));
        await owner.WaitInteractiveAsync();
        for (var i = 0; i < 4; i++)
        {
            await Expect(owner.Page.GetByTestId("focus-status")).ToHaveAttributeAsync("data-status", "Pending");
            await owner.Page.Keyboard.PressAsync("a");
        }
        await Expect(owner.Page.GetByTestId("focus-done")).ToBeVisibleAsync();

        await owner.GotoAsync($"/projects/{projectId}/runs/{runId}");
        await Expect(owner.Page.GetByTestId("spot-estimate")).ToContainTextAsync("Reviewed 4 of 4");
        await owner.FillAsync("spot-threshold", "0.4");
        await owner.ClickAsync("spot-accept");
        await owner.Page.Locator(".mud-dialog .mud-dialog-actions button").Last.ClickAsync();
        await Expect(owner.Page.GetByTestId("spot-accepted")).ToContainTextAsync("8 samples were accepted by spot-check");
        Assert.Equal(8, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.RunId == runId && c.AcceptedBySpotCheckId != null)));
        Assert.Equal(4, await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.RunId == runId && c.AcceptedBySpotCheckId == null && c.Status == CandidateStatus.Approved)));

        await owner.Page.Context.CloseAsync();
    }
}
