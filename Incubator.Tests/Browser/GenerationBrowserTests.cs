using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>An author starts a generation run against the fake OpenAI-compatible server; a second member watching
/// the run page in another browser sees samples arrive live, the token and cost meter move, and pause, resume and
/// cancel take effect.</summary>
[Collection(BrowserCollection.Name)]
public sealed class GenerationBrowserTests(BrowserFixture browser)
{
    private const string Password = "Incub8tor-pass";

    [Fact]
    public async Task A_watcher_sees_samples_arrive_live_and_pause_resume_cancel_work()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        var calls = 0;
        fake.DefaultResponder = request =>
        {
            var n = Interlocked.Increment(ref calls);
            var json = $"{{\"billing\": \"Invoice {n} shows a charge of {n * 3} euros that I never agreed to, please explain it.\", "
                       + $"\"shipping\": \"Parcel {n} was promised for Monday {n} but the tracking page has not moved since.\"}}";
            var stream = request.Json?["stream"]?.GetValue<bool>() == true;
            return stream
                ? FakeReply.Stream([json[..20], json[20..]], chunkDelay: TimeSpan.FromMilliseconds(150), promptTokens: 300, completionTokens: 60)
                : FakeReply.Completion(json, promptTokens: 300, completionTokens: 60, delay: TimeSpan.FromMilliseconds(300));
        };
        using var portal = new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible")
            .With("Llm:Endpoint", fake.OpenAIEndpoint)
            .With("Llm:Model", "fake-model")
            .With("Llm:MaxConcurrency", "1")
            .With("Llm:InputPricePerMillion", "2")
            .With("Llm:OutputPricePerMillion", "8");
        var url = portal.ServerAddress;

        var author = await PortalBrowser.OpenAsync(browser.Browser, url);
        await author.RegisterAsync("gen-author@example.com", Password);
        var watcher = await PortalBrowser.OpenAsync(browser.Browser, url);
        await watcher.RegisterAsync("gen-watcher@example.com", Password);
        var projectId = await author.CreateProjectAsync("Support mail");

        Guid taskId;
        await using (var scope = portal.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();
            await using var ctx = await db.CreateDbContextAsync();
            var authorId = await ctx.Users.Where(u => u.Email == "gen-author@example.com").Select(u => u.Id).SingleAsync();
            await scope.ServiceProvider.GetRequiredService<ProjectService>().AddMemberAsync(authorId, projectId, "gen-watcher@example.com", ProjectRole.Reviewer);
            var task = await scope.ServiceProvider.GetRequiredService<TaskService>().CreateTaskAsync(authorId, projectId, new TaskSpec
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
            taskId = task.Id;
        }

        await author.GotoAsync($"/projects/{projectId}/tasks/{taskId}/generate");
        await Expect(author.Page.GetByTestId("gen-estimate-cost")).ToBeVisibleAsync();
        await author.FillAsync("gen-per-label", "40");
        await author.ClickAsync("gen-start");
        await author.WaitForUrlAsync(new System.Text.RegularExpressions.Regex("/runs/[0-9a-f-]{36}$"));
        var runUrl = author.Page.Url;
        await author.WaitInteractiveAsync();

        await watcher.Page.GotoAsync(runUrl);
        await watcher.WaitInteractiveAsync();
        var samples = watcher.Page.GetByTestId("run-sample");
        var before = await samples.CountAsync();
        // Live: more samples appear on the open page without a reload, and the meters move.
        await watcher.Page.WaitForFunctionAsync($"() => document.querySelectorAll('[data-testid=run-sample]').length > {before + 2}");
        var tokens1 = long.Parse((await watcher.Page.GetByTestId("run-tokens").GetAttributeAsync("data-tokens"))!);
        var cost1 = decimal.Parse((await watcher.Page.GetByTestId("run-cost").GetAttributeAsync("data-cost"))!, System.Globalization.CultureInfo.InvariantCulture);
        await watcher.Page.WaitForFunctionAsync($"() => parseInt(document.querySelector('[data-testid=run-tokens]').dataset.tokens) > {tokens1}");
        Assert.True(cost1 > 0);
        // The run page's stepper follows the run too: what it has generated so far, before the run selects any sample.
        var collect = watcher.Page.GetByTestId("step-Collect").GetByTestId("step-count");
        await Expect(collect).ToContainTextAsync(new System.Text.RegularExpressions.Regex(@"1 running · \d+ generated so far"));
        var generated = int.Parse(System.Text.RegularExpressions.Regex.Match(await collect.TextContentAsync() ?? "", @"(\d+) generated so far").Groups[1].Value);
        await watcher.Page.WaitForFunctionAsync("n => { const m = document.querySelector('[data-testid=step-Collect] [data-testid=step-count]')"
            + "?.textContent.match(/(\\d+) generated so far/); return m !== null && parseInt(m[1]) > n; }", generated);

        await author.ClickAsync("run-pause");
        await Expect(watcher.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "Paused");
        var pausedCount = await CountCandidatesAsync(portal);
        await Task.Delay(1000);
        Assert.Equal(pausedCount, await CountCandidatesAsync(portal));
        // Paused counts as running; the count is the paused run's pool in the database.
        var pool = await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.Stage == CandidateStage.Pool));
        Assert.True(pool > 0);
        await Expect(collect).ToContainTextAsync($"1 running · {pool} generated so far");

        await author.ClickAsync("run-resume");
        await Expect(watcher.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", new System.Text.RegularExpressions.Regex("Queued|Running"));
        await watcher.Page.WaitForFunctionAsync($"() => document.querySelectorAll('[data-testid=run-sample]').length > 0");
        await WaitUntilAsync(async () => await CountCandidatesAsync(portal) > pausedCount);

        await author.ClickAsync("run-cancel");
        await Expect(watcher.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "Cancelled");
        await Expect(author.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "Cancelled");

        await author.Page.Context.CloseAsync();
        await watcher.Page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_refusal_that_belongs_to_no_field_is_said_on_the_generate_form_not_swallowed()
    {
        await using var llm = await FakeOpenAiServer.StartAsync();
        using var portal = new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible").With("Llm:Endpoint", llm.OpenAIEndpoint).With("Llm:Model", "fake");
        var owner = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await owner.RegisterAsync("g-cap@example.com", Password);
        var projectId = await owner.CreateProjectAsync("Capped generation");
        var taskId = await portal.CreateTaskAsync("g-cap@example.com", projectId, Incubator.Tests.Mining.MiningFixtures.EnglishTask);
        var ownerId = await portal.UserIdAsync("g-cap@example.com");
        // The project has spent its day's tokens on the site's connection: the service refuses the estimate and the start
        // with the cap (a refusal about the connection, not about any field of the form).
        await portal.QueryAsync(async db =>
        {
            db.SiteSettings.Add(new Incubator.Domain.Accounts.SiteSettings { DailyTokensPerProject = 1000 });
            db.LlmSpend.Add(new Incubator.Domain.Llm.LlmSpend { At = DateTimeOffset.UtcNow, UserId = ownerId, ProjectId = projectId, Tokens = 1000 });
            return await db.SaveChangesAsync();
        });

        await owner.GotoAsync($"/projects/{projectId}/tasks/{taskId}/generate");
        await Expect(owner.Page.GetByTestId("gen-start")).ToBeEnabledAsync();
        await owner.ClickAsync("gen-start");
        // Before: the refusal went to a field list that shows only the form's five fields, and Start seemed to do nothing.
        await Expect(owner.Page.GetByTestId("gen-error")).ToContainTextAsync("1,000 of 1,000 tokens used today");
        Assert.Equal(0, await portal.QueryAsync(db => db.GenerationRuns.CountAsync()));
        Assert.Empty(llm.ChatRequests);

        await owner.Page.Context.CloseAsync();
    }

    private static Task<int> CountCandidatesAsync(PortalFactory portal) =>
        portal.QueryAsync(db => db.Candidates.CountAsync());

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (var i = 0; i < 300; i++)
        {
            if (await condition()) return;
            await Task.Delay(100);
        }
        Assert.Fail("condition not reached within 30 s");
    }
}
