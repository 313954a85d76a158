using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>Two models trained and published through the registry; the Author builds a query of both with the visual
/// builder, sees the same text in the query field, runs it over a corpus, sees the funnel and exports the hits.</summary>
[Collection(BrowserCollection.Name)]
public sealed class QueryBrowserTests(BrowserFixture browser)
{
    private static readonly TaskSpec MoodTask = new()
    {
        Name = "Mood",
        Instruction = "Is the customer happy or upset?",
        Labels = [new LabelSpec { Name = "positive", Description = "Happy." }, new LabelSpec { Name = "upset", Description = "Unhappy." }],
    };

    private static IEnumerable<(string Label, string Text)> MoodSamples()
    {
        string[] happy = ["thank you so much", "great service", "I love it", "wonderful help", "very happy", "you are the best"];
        string[] upset = ["this is terrible", "I am furious", "awful experience", "very disappointed", "I hate this", "worst ever"];
        for (var i = 0; i < 12; i++)
        {
            yield return ("positive", $"Note {i}: {happy[i % 6]}, {happy[(i + 2) % 6]}.");
            yield return ("upset", $"Note {i}: {upset[i % 6]}, {upset[(i + 2) % 6]}.");
        }
    }

    private static async Task PublishAsync(PortalFactory portal, string ownerId, Guid taskId)
    {
        var training = portal.Services.GetRequiredService<TrainingService>();
        var started = await training.StartTrainingAsync(ownerId, new StartTrainingRequest(taskId, "sparse", 5));
        for (var i = 0; i < 600; i++)
        {
            var s = (await training.GetAsync(ownerId, started.Id)).Summary;
            if (s.State == ModelVersionState.Draft)
            {
                await training.PublishAsync(ownerId, started.Id);
                return;
            }
            Assert.Equal(ModelVersionState.Training, s.State);
            await Task.Delay(200);
        }
        throw new TimeoutException("training did not finish");
    }

    [Fact]
    public async Task Author_builds_a_two_model_query_with_the_builder_runs_it_and_exports_the_hits()
    {
        using var portal = new PortalFactory(realServer: true);
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        const string email = "query-owner@example.com";
        await owner.RegisterAsync(email, "Incub8tor-pass");
        var projectId = await owner.CreateProjectAsync("Query project");
        var ownerId = await portal.UserIdAsync(email);

        var mail = await portal.CreateTaskAsync(email, projectId);
        await portal.SeedApprovedAsync(projectId, mail, TrainingSeed.MailSamples(), ownerId);
        var mood = await portal.CreateTaskAsync(email, projectId, MoodTask);
        await portal.SeedApprovedAsync(projectId, mood, MoodSamples().ToList(), ownerId);
        await PublishAsync(portal, ownerId, mail);
        await PublishAsync(portal, ownerId, mood);

        // A corpus of 40 texts: shipping × upset, shipping × happy, billing × upset, billing × happy.
        string[] texts = Enumerable.Range(0, 10).SelectMany(i => new[]
        {
            $"Ticket {i}: where is my parcel, the courier is late, this is terrible.",
            $"Ticket {i}: the package delivery arrived, thank you so much, great service.",
            $"Ticket {i}: my invoice was charged twice, I am furious.",
            $"Ticket {i}: refund received for the invoice, wonderful help, very happy.",
        }).ToArray();
        var corpusId = Guid.NewGuid();
        await portal.QueryAsync(db =>
        {
            db.Corpora.Add(new Corpus { Id = corpusId, ProjectId = projectId, Name = "tickets", FileName = "tickets.txt", TextCount = texts.Length, CreatedAt = DateTimeOffset.UtcNow });
            db.CorpusTexts.AddRange(texts.Select((t, i) => new CorpusText { CorpusId = corpusId, Ordinal = i, Text = t, Line = i + 1 }));
            return db.SaveChangesAsync();
        });

        await owner.GotoAsync($"/projects/{projectId}/query");
        // Builder: Mail:shipping AND NOT Mood:positive.
        await owner.ClickAsync("qb-add-clause");
        await owner.Page.Locator("[data-testid=qb-label]").First.ClickAsync();
        await owner.Page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = "shipping" }).First.ClickAsync();
        await owner.ClickAsync("qb-add-clause");
        await owner.Page.Locator("[data-testid=qb-model]").Nth(1).ClickAsync();
        await owner.Page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = "Mood" }).First.ClickAsync();
        await owner.Page.Locator("[data-testid=qb-not]").Nth(1).ClickAsync();
        await Expect(owner.Page.GetByTestId("query-text")).ToHaveValueAsync("Mail:shipping AND NOT Mood:positive");
        await Expect(owner.Page.GetByTestId("query-valid")).ToBeVisibleAsync();

        // Live syntax checking points at the position of a mistake.
        await owner.Page.GetByTestId("query-text").FillAsync("Mail:shipping AND NOT Mood:");
        await Expect(owner.Page.GetByTestId("query-error")).ToHaveAttributeAsync("data-offset", "27");
        await Expect(owner.Page.GetByTestId("query-error-message")).ToContainTextAsync("Line 1, column 28: Expected a label name after “Mood:” but found the end of the query.");
        await owner.Page.GetByTestId("query-text").FillAsync("Mail:shipping AND NOT Mood:positive");
        await Expect(owner.Page.GetByTestId("query-valid")).ToBeVisibleAsync();

        await owner.ClickAsync("query-run");
        await owner.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/query-runs/[0-9a-f-]{36}$"));
        await Expect(owner.Page.GetByTestId("query-run-state")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 60_000 });
        // The state chip is the Jobs page's: "Completed" in green, not a grey chip of the page's own.
        await Expect(owner.Page.GetByTestId("query-run-state")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bmud-chip-color-success\b"));
        await Expect(owner.Page.GetByTestId("query-run-progress")).ToHaveAttributeAsync("data-processed", "40");

        var runId = Guid.Parse(owner.Page.Url[^36..]);
        var hits = await portal.QueryAsync(db => db.QueryHits.Where(h => h.RunId == runId).OrderBy(h => h.Ordinal).Select(h => h.Text).ToListAsync());
        var clause1 = await portal.QueryAsync(db => db.QueryRuns.Where(r => r.Id == runId).Select(r => r.FunnelJson).SingleAsync());
        Assert.NotEmpty(hits);
        // The page shows the stored results: the funnel's match count and one row per hit.
        await Expect(owner.Page.GetByTestId("funnel-matched")).ToHaveTextAsync(hits.Count.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(owner.Page.GetByTestId("funnel-clause")).ToHaveCountAsync(2);
        await Expect(owner.Page.GetByTestId("funnel-step")).ToHaveCountAsync(2);
        await Expect(owner.Page.GetByTestId("query-hit")).ToHaveCountAsync(Math.Min(hits.Count, 25));
        Assert.Contains("\"matched\":" + hits.Count, clause1);

        var download = await owner.Page.RunAndWaitForDownloadAsync(() => owner.ClickAsync("query-export"));
        var csv = await File.ReadAllLinesAsync(await download.PathAsync());
        Assert.Equal("ordinal,text,Mail:shipping,Mood:positive", csv[0]);
        Assert.Equal(hits.Count + 1, csv.Length);
        for (var k = 0; k < hits.Count; k++)
            Assert.Contains("\"" + hits[k] + "\",", csv[k + 1]);

        await owner.Page.Context.CloseAsync();
    }
}
