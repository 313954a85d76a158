using System.Globalization;
using System.IO.Compression;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Mining;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Labelling;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>A walk of the whole product at scale, as a user, in one portal with the fake LLM: a task from the editor, a
/// generation run of 300 samples, review (one by one, then in bulk), training and the bundle, a corpus of 5,000 texts
/// (embeddings, mining, self-training), LLM labelling of 300 of them, a query, the jobs page and the overview. At each
/// step a full-page screenshot and a line in log.txt (in $INCUBATOR_WALK_OUT, default /tmp/walk, then ja/ or en/) with what the page says
/// and the database's numbers for the same thing, which must be equal: a count on screen that differs from the database
/// (an open page gone stale while a job ran elsewhere) is what this walk exists to find. Pages kept open in other tabs
/// while jobs run must follow without a reload.
///
/// A developer tool, not part of CI (it takes minutes): run-tests.sh leaves the "Walk" category out unless given a
/// filter of its own. Run it with <c>dotnet test Incubator.Tests --filter Category=Walk</c> (both languages, or add
/// <c>&amp;DisplayName~en</c> / <c>~ja</c>). In Japanese (character n-grams everywhere, no encoder to load) the screenshots
/// need a CJK font where Chromium runs (Debian: fonts-noto-cjk) to show the text rather than boxes; in English the MiniLM
/// encoder embeds the 5,000 texts, mines, self-trains (an uneven corpus: the card's view is checked against the job's
/// log) and runs the trained hybrid model over the corpus.</summary>
[Collection(BrowserCollection.Name)]
[Trait("Category", "Walk")]
public sealed class ScaleWalk(BrowserFixture browser, ITestOutputHelper output)
{
    private const string Password = "Incub8tor-pass";
    private const string Email = "walker@example.com";
    private const int PerLabel = 150; // two labels: 300 samples
    private const int CorpusSize = 5000;
    private const int LabelLimit = 300;
    private const int LabelBatch = 20;
    private const int MinePerLabel = 100;
    private const int Uncertain = 40;
    /// <summary>The walk's language: its template, labels and seeded writer.</summary>
    private WalkData _d = WalkData.Japanese;

    private string[] Labels => _d.Labels;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private string OutDir => Path.Combine(Environment.GetEnvironmentVariable("INCUBATOR_WALK_OUT") is { Length: > 0 } d ? d : Path.Combine(Path.GetTempPath(), "walk"), _d.Language);

    private int _step;

    /// <summary>One thing seen on a page and the database's number for it.</summary>
    private sealed record Seen(string What, string Page, string Db);

    /// <summary>Takes the step's screenshot, appends its line to log.txt (and the test output), then asserts that each
    /// page value equals the database's. <paramref name="live"/> pairs are logged only: read while a job moved between the
    /// two reads (the same numbers are asserted once the job has ended), or about the fake data's model rather than the
    /// product.</summary>
    private async Task StepAsync(IPage page, string name, IReadOnlyList<Seen> seen, IReadOnlyList<Seen>? live = null, string? note = null)
    {
        _step++;
        var file = Path.Combine(OutDir, $"{_step:00}-{name}.png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = file, FullPage = true });
        string Show(Seen s) => s.Page == s.Db ? $"{s.What} page={s.Page} db={s.Db}" : $"{s.What} page={s.Page} db={s.Db} MISMATCH";
        var parts = seen.Select(Show).Concat((live ?? []).Select(s => $"{s.What} page={s.Page} db={s.Db} (not asserted)"));
        if (note is not null) parts = parts.Append(note);
        var line = $"{DateTime.UtcNow:HH:mm:ss} {_step:00}-{name}: " + string.Join("; ", parts);
        await File.AppendAllTextAsync(Path.Combine(OutDir, "log.txt"), line + "\n");
        output.WriteLine(line);
        foreach (var s in seen) Assert.True(s.Page == s.Db, $"{_step:00}-{name}: {s.What} shows {s.Page}, the database has {s.Db} ({file})");
    }

    /// <summary>Reads a page value and the database's until they agree (a page follows the database within a moment) or
    /// <paramref name="timeoutMs"/> passes; returns the last pair either way, for <see cref="StepAsync"/> to judge.</summary>
    private static async Task<Seen> AgreeAsync(string what, Func<Task<string>> onPage, Func<Task<string>> inDb, int timeoutMs = 20_000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var db = await inDb();
            string shown;
            try
            {
                shown = await onPage();
            }
            catch (Exception ex) when (ex is PlaywrightException or TimeoutException)
            {
                shown = "(absent)";
            }
            if (shown == db || clock.ElapsedMilliseconds > timeoutMs) return new Seen(what, shown, db);
            await Task.Delay(250);
        }
    }

    private static Func<Task<string>> Attr(ILocator locator, string attribute) =>
        async () => await locator.GetAttributeAsync(attribute, new LocatorGetAttributeOptions { Timeout = 2_000 }) ?? "(none)";

    /// <summary>The element's text as written (textContent: MudBlazor's buttons upper-case theirs with CSS, which
    /// innerText would return), white space collapsed.</summary>
    private static Func<Task<string>> Text(ILocator locator) =>
        async () => Regex.Replace(await locator.TextContentAsync(new LocatorTextContentOptions { Timeout = 2_000 }) ?? "", @"\s+", " ").Trim();

    private static Func<Task<string>> Count(ILocator locator) => async () => (await locator.CountAsync()).ToString(Inv);

    private static string N(int n) => n.ToString(Inv);

    private static string N0(int n) => n.ToString("N0", CultureInfo.GetCultureInfo("en-US"));

    // ---- The seeded writer: food posts, movie posts and posts about neither, per language. ----

    private sealed record WalkData(string Language, string LanguageButton, string Template, string[] Labels,
        string[] FoodSubjects, string[] FoodPredicates, string[] MovieSubjects, string[] MoviePredicates, string[] OtherSubjects,
        string[] OtherPredicates, string[] When, string[] Tails, Func<string, string, string, string, int, string> Format, int FoodTenths, int MovieTenths)
    {
        /// <summary>Japanese: character n-grams everywhere (generation's dedup, the corpus's embeddings, training), so no
        /// encoder is loaded; the corpus is 40 % food, 40 % movies, 20 % neither.</summary>
        public static readonly WalkData Japanese = new("ja", "Japanese", "builtin:food-or-movies:ja", ["食べ物の話", "映画の話"],
            [
            "駅前のラーメン屋", "祖母の肉じゃが", "新しくできたパン屋", "手作りのカレー", "週末の焼き肉", "近所の寿司屋", "抹茶のパフェ",
            "朝ごはんの卵焼き", "屋台のたこ焼き", "母の味噌汁", "冷やし中華", "夏のかき氷", "北海道のチーズケーキ", "自家製の餃子", "旬の秋刀魚",
            "商店街のコロッケ", "老舗のうなぎ屋", "カフェのナポリタン",
        ],
            [
            "が本当においしかった", "を初めて作ってみた", "の味付けが少し濃かった", "がまた食べたくなった", "のレシピを友達に教わった",
            "は値段の割に量が多い", "に長い行列ができていた", "の香りがたまらない", "を家族で取り分けた", "に季節限定の味が出た",
        ],
            [
            "新作のアニメ映画", "昔の白黒映画", "話題のホラー映画", "あの監督の最新作", "主演俳優の演技", "映画館の大きなスクリーン",
            "予告編で見たSF映画", "字幕版の洋画", "シリーズ最終作の映画", "短編映画祭の作品", "実話をもとにした映画", "子供と観たアニメ映画",
            "リバイバル上映の名作", "ドキュメンタリー映画", "吹き替え版の冒険映画",
        ],
            [
            "の結末に泣いた", "の脚本がよく練られていた", "を二回も観てしまった", "の音楽が頭から離れない", "は前評判ほどではなかった",
            "のラストシーンが印象的だった", "の映像がとにかく美しい", "の続編が発表された", "の舞台挨拶に当選した", "の感想を友達と語り合った",
        ],
            [
            "朝の通勤電車", "新しいスマホ", "庭の草むしり", "週末の大掃除", "近所の公園の桜", "ジムのランニングマシン", "会社の健康診断",
            "引っ越しの段ボール", "自転車のタイヤ", "図書館の返却期限",
        ],
            [
            "のせいで一日が慌ただしかった", "のことで少し悩んでいる", "がようやく片付いた", "について家族と話した", "を来週に延ばした",
        ],
            ["昨日", "先週末", "今朝", "久しぶりに", "仕事帰りに", "休みの日に", "雨の日に", "友達と", "一人で", "夜遅くに"],
            ["。また行きたい", "。おすすめです", "。写真を撮り忘れた", "。次は家族と一緒に", "。来月もう一度", "。少し考えさせられた", "。記録しておく"],
            (when, subject, predicate, tail, number) => $"{when}、{subject}{predicate}{tail}（{number}）", FoodTenths: 4, MovieTenths: 4);

        /// <summary>English: the MiniLM encoder embeds the corpus, mines, self-trains (hybrid) and runs the trained model; the
        /// corpus is 60 % food, 20 % movies, 20 % neither, so the miner's raw view may see uneven label counts.</summary>
        public static readonly WalkData English = new("en", "English", "builtin:food-or-movies:en", ["about food", "about movies"],
            ["the ramen place by the station", "my grandmother's beef stew", "the new bakery on Elm Street", "our homemade curry",
             "the weekend barbecue", "the sushi bar next door", "the matcha parfait", "the breakfast omelette", "the street-food tacos",
             "my mother's miso soup", "the cold noodle salad", "the summer shaved ice", "the baked cheesecake", "the homemade dumplings",
             "the grilled mackerel", "the corner shop croquettes", "the old eel restaurant", "the cafe's spaghetti"],
            ["was really delicious", "was something I cooked for the first time", "was seasoned a little too strongly",
             "is something I already want to eat again", "came from a recipe a friend taught me", "is a big portion for the price",
             "had a long queue outside", "smelled wonderful", "was shared by the whole family", "had a seasonal flavour this month"],
            ["the new animated film", "an old black-and-white film", "the much-talked-about horror film", "that director's latest film",
             "the lead actor's performance", "the big cinema screen", "the sci-fi film from the trailer", "the subtitled foreign film",
             "the last film of the series", "the short film festival entry", "the film based on a true story", "the cartoon I watched with the kids",
             "the re-released classic film", "the documentary film", "the dubbed adventure film"],
            ["had an ending that made me cry", "had a tightly written script", "is a film I watched twice", "had a score I cannot get out of my head",
             "was not as good as the reviews said", "had a memorable final scene", "looked simply beautiful", "is getting a sequel",
             "had a premiere I won tickets for", "is a film I talked over with friends"],
            ["the morning commuter train", "my new phone", "the garden weeding", "the weekend clean-up", "the cherry trees in the park",
             "the gym treadmill", "the health check at work", "the moving boxes", "the bicycle tyre", "the library due date"],
            ["made the whole day hectic", "is something I keep worrying about", "is finally sorted out", "came up when I talked with family",
             "got pushed to next week"],
            ["Yesterday", "Last weekend", "This morning", "For the first time in ages", "On the way home from work", "On my day off",
             "On a rainy day", "With friends", "On my own", "Late at night"],
            [". Would go again", ". Recommended", ". Forgot to take a photo", ". Next time with the family", ". Once more next month",
             ". It made me think", ". Writing it down"],
            (when, subject, predicate, tail, number) => $"{when}, {subject} {predicate}{tail} (post {number})", FoodTenths: 6, MovieTenths: 2);

        public static WalkData For(string language) => language == "en" ? English : Japanese;

        public string Compose(Random r, string[] subjects, string[] predicates, int number) =>
            Format(When[r.Next(When.Length)], subjects[r.Next(subjects.Length)], predicates[r.Next(predicates.Length)], Tails[r.Next(Tails.Length)], number);
    }

    /// <summary>Generation answer n's sample for a label (0 food, 1 movies): seeded by n, so a rerun writes the same.</summary>
    private string Sample(int n, int label)
    {
        var r = new Random(n * 2 + label);
        return label == 0 ? _d.Compose(r, _d.FoodSubjects, _d.FoodPredicates, 10_000 + n) : _d.Compose(r, _d.MovieSubjects, _d.MoviePredicates, 10_000 + n);
    }

    /// <summary>The corpus: the language's shares of food, movies and neither, all distinct (each carries its line number).</summary>
    private List<string> CorpusTexts()
    {
        var r = new Random(20261206);
        return Enumerable.Range(1, CorpusSize).Select(i => r.Next(10) is var tenth && tenth < _d.FoodTenths ? _d.Compose(r, _d.FoodSubjects, _d.FoodPredicates, i)
            : tenth < _d.FoodTenths + _d.MovieTenths ? _d.Compose(r, _d.MovieSubjects, _d.MoviePredicates, i)
            : _d.Compose(r, _d.OtherSubjects, _d.OtherPredicates, i)).ToList();
    }

    /// <summary>What the fake LLM labeller answers for a corpus text: the topic its subject gives away, or "none".</summary>
    private string LabelFor(string text) =>
        _d.FoodSubjects.Any(text.Contains) ? Labels[0] : _d.MovieSubjects.Any(text.Contains) ? Labels[1] : "none";

    [Theory]
    [InlineData("ja")]
    [InlineData("en")]
    public async Task Walk_the_whole_product_at_scale(string language)
    {
        _d = WalkData.For(language);
        Directory.CreateDirectory(OutDir);
        foreach (var old in Directory.GetFiles(OutDir, "*.png")) File.Delete(old);
        File.WriteAllText(Path.Combine(OutDir, "log.txt"), $"Scale walk, {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss} UTC\n");
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // The fake LLM: generation answers (one sample per asked label) and labelling answers (by each text's subject).
        // Two gates hold it mid-job so that a moment of a running job can be compared with the database at rest.
        await using var fake = await FakeOpenAiServer.StartAsync();
        var generationGate = new ManualResetEventSlim(false);
        var labellingGate = new ManualResetEventSlim(false);
        // Opens the gates first whatever happens (disposed before the fake server, which waits for held answers).
        using var openGates = new Releaser(() => { generationGate.Set(); labellingGate.Set(); });
        var generationCalls = 0;
        var labellingCalls = 0;
        var writer = FakeOpenAiServer.LabelWriter(Labels, Sample);
        fake.DefaultResponder = request =>
        {
            if (FakeOpenAiServer.AskedLabels(request, Labels).Count > 0)
            {
                if (Interlocked.Increment(ref generationCalls) > 60) generationGate.Wait(TimeSpan.FromSeconds(90));
                return writer(request);
            }
            if (Interlocked.Increment(ref labellingCalls) > 3) labellingGate.Wait(TimeSpan.FromSeconds(90));
            var answer = new JsonObject();
            foreach (var (id, text) in LabellingFixture.TextsOf(request)) answer[id] = LabelFor(text);
            return FakeReply.Completion(answer.ToJsonString(new System.Text.Json.JsonSerializerOptions
            {
                Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            }));
        };
        using var portal = new PortalFactory(realServer: true)
            .With("Llm:Provider", "OpenAICompatible")
            .With("Llm:Endpoint", fake.OpenAIEndpoint)
            .With("Llm:Model", "fake-model")
            .With("Llm:MaxConcurrency", "2");
        using var folder = new TempFolder("incubator-walk");
        var url = portal.ServerAddress;

        // ---- 1. Register, a project, a task from the editor, 300 samples generated and watched live. ----
        var me = await PortalBrowser.OpenAsync(browser.Browser, url);
        await me.RegisterAsync(Email, Password, "Walker");
        var projectId = await me.CreateProjectAsync("Scale walk");
        await me.GotoAsync($"/projects/{projectId}/tasks/new");
        await me.Page.GetByTestId("template-language").GetByText(_d.LanguageButton).ClickAsync();
        await me.Page.Locator($"[data-testid=template-card][data-template='{_d.Template}']").GetByTestId("use-template").ClickAsync();
        await Expect(me.Page.Locator("input[data-testid=label-name-0], [data-testid=label-name-0] input").First).ToHaveValueAsync(Labels[0]);
        await me.ClickAsync("save-task");
        await me.WaitForUrlAsync(new Regex("/tasks/[0-9a-f-]{36}$"));
        await me.WaitInteractiveAsync();
        var taskId = Guid.Parse(me.Page.Url[^36..]);
        var task = await portal.QueryAsync(db => db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId));
        var userId = await portal.UserIdAsync(Email);
        Task<TaskProgress> progress() => portal.InScopeAsync(sp => sp.GetRequiredService<GetTaskProgress>().GetAsync(userId, taskId));
        ILocator StepCount(PortalBrowser b, string step) => b.Page.GetByTestId($"step-{step}").GetByTestId("step-count");
        await StepAsync(me.Page, "task", [
            await AgreeAsync("define step", Text(StepCount(me, "Define")), async () => $"{Labels.Length} labels · version {task.CurrentVersion}"),
            await AgreeAsync("collect state", Attr(me.Page.GetByTestId("step-Collect"), "data-state"), async () => "NotStarted"),
        ]);

        // A second tab keeps the task page open through the run: its stepper must follow without a reload.
        var taskTab = new PortalBrowser(await me.Page.Context.NewPageAsync(), url);
        await taskTab.GotoAsync($"/projects/{projectId}/tasks/{taskId}");

        await me.GotoAsync($"/projects/{projectId}/tasks/{taskId}/generate");
        await me.FillAsync("gen-per-label", N(PerLabel));
        await me.ClickAsync("gen-start");
        await me.WaitForUrlAsync(new Regex("/runs/[0-9a-f-]{36}$"));
        await me.WaitInteractiveAsync();
        var runId = Guid.Parse(me.Page.Url[^36..]);
        var runJob = await portal.QueryAsync(db => db.GenerationRuns.Where(r => r.Id == runId).Select(r => r.JobId!.Value).SingleAsync());
        Task<string> StateOf(Guid jobId) => portal.QueryAsync(async db => (await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId)).State.ToString());
        Task<int> RunCandidates(Guid run, CandidateStage? stage = null) =>
            portal.QueryAsync(db => db.Candidates.CountAsync(c => c.RunId == run && (stage == null || c.Stage == stage)));

        // Live, with the fake LLM held after 60 answers: the open run page's numbers against the database at rest.
        await Expect(me.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", "Running", new() { Timeout = 60_000 });
        await WaitUntilAsync(() => Volatile.Read(ref generationCalls) > 60, "the generation run reaching the held answer");
        var pool = me.Page.GetByTestId("run-label");
        await StepAsync(me.Page, "generation-live", [
            await AgreeAsync("run state", Attr(me.Page.GetByTestId("run-state"), "data-state"), () => StateOf(runJob)),
            await AgreeAsync("samples so far (pool+selected per label, summed)", async () =>
                N((await pool.EvaluateAllAsync<int[]>("ls => ls.map(l => parseInt(l.dataset.pool) + parseInt(l.dataset.selected))")).Sum()),
                async () => N(await RunCandidates(runId))),
            await AgreeAsync("task tab collect state", Attr(taskTab.Page.GetByTestId("step-Collect"), "data-state"), async () => "Active"),
            await AgreeAsync("task tab collect step", Text(StepCount(taskTab, "Collect")),
                async () => $"{Incubator.Domain.Common.EnglishCount.Of(await RunCandidates(runId, CandidateStage.Selected), "sample", "samples")} · 1 run, 1 running · {await RunCandidates(runId, CandidateStage.Pool)} generated so far"),
        ], note: $"fake LLM answered {Volatile.Read(ref generationCalls)} calls, held");
        generationGate.Set();
        await Expect(me.Page.GetByTestId("run-state")).ToHaveAttributeAsync("data-state", new Regex("Succeeded|StoppedShort|Failed|Cancelled"), new() { Timeout = 300_000 });
        var run = await portal.QueryAsync(db => db.GenerationRuns.AsNoTracking().SingleAsync(r => r.Id == runId));
        var perLabelSeen = new List<Seen>();
        foreach (var label in Labels)
        {
            var row = me.Page.Locator($"[data-testid=run-label][data-label='{label}']");
            perLabelSeen.Add(await AgreeAsync($"selected '{label}'", Attr(row, "data-selected"),
                async () => N(await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.RunId == runId && c.Label == label && c.Stage == CandidateStage.Selected)))));
        }
        var selected = await RunCandidates(runId, CandidateStage.Selected);
        await StepAsync(me.Page, "generation-done", [
            await AgreeAsync("run state", Attr(me.Page.GetByTestId("run-state"), "data-state"), () => StateOf(runJob)),
            await AgreeAsync("outcome", Attr(me.Page.GetByTestId("run-outcome").First, "data-code"), async () => run.Outcome?.ToString() ?? ""),
            await AgreeAsync("selected total", Attr(me.Page.GetByTestId("run-selected-total"), "data-selected"), async () => N(selected)),
            .. perLabelSeen,
            await AgreeAsync("tokens", Attr(me.Page.GetByTestId("run-tokens"), "data-tokens"), async () => (run.InputTokens + run.OutputTokens).ToString(Inv)),
            await AgreeAsync("rejected shown", Count(me.Page.GetByTestId("run-rejected-item")),
                async () => N(await portal.QueryAsync(db => db.RejectedSamples.CountAsync(s => s.RunId == runId)))),
        ], note: $"{run.Calls} calls, {await RunCandidates(runId)} candidates in all");
        Assert.Equal(2 * PerLabel, selected);

        // The task tab, never reloaded.
        await StepAsync(taskTab.Page, "task-tab-after-run", [
            await AgreeAsync("collect step", Text(StepCount(taskTab, "Collect")),
                async () => $"{Incubator.Domain.Common.EnglishCount.Of(await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Stage == CandidateStage.Selected)), "sample", "samples")} · 1 run"),
            await AgreeAsync("review step", Text(StepCount(taskTab, "Review")), async () => { var p = await progress(); return $"{p.Approved} of {p.Target} approved"; }),
            await AgreeAsync("collect state", Attr(taskTab.Page.GetByTestId("step-Collect"), "data-state"), async () => "Done"),
        ]);

        // ---- 2. Review: some one by one, the rest in bulk; the stepper's counts. ----
        await me.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        var counts = me.Page.GetByTestId("review-counts");
        Task<int> Approved() => portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Status == CandidateStatus.Approved));
        Task<int> SelectedPending() => portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Stage == CandidateStage.Selected && c.Status == CandidateStatus.Pending));
        const int OneByOne = 12;
        for (var i = 1; i <= OneByOne; i++)
        {
            var pendingRow = me.Page.Locator("tr", new() { Has = me.Page.Locator("[data-testid=review-status][data-status=Pending]") }).First;
            await pendingRow.GetByTestId("row-approve").ClickAsync();
            await Expect(counts).ToHaveAttributeAsync("data-approved", N(i));
        }
        await StepAsync(me.Page, "review-one-by-one", [
            await AgreeAsync("approved", Attr(counts, "data-approved"), async () => N(await Approved())),
            await AgreeAsync("pending", Attr(counts, "data-pending"), async () => N(await SelectedPending())),
            await AgreeAsync("approved chip", Text(me.Page.GetByTestId("count-approved")), async () => $"Approved: {N0(await Approved())}"),
        ]);
        await me.ClickAsync("bulk-approve");
        await me.Page.Locator(".mud-dialog .mud-dialog-actions button").Last.ClickAsync();
        await Expect(counts).ToHaveAttributeAsync("data-pending", "0", new() { Timeout = 120_000 });
        await StepAsync(me.Page, "review-bulk", [
            await AgreeAsync("approved", Attr(counts, "data-approved"), async () => N(await Approved())),
            await AgreeAsync("pending", Attr(counts, "data-pending"), async () => N(await SelectedPending())),
            await AgreeAsync("review step", Text(StepCount(me, "Review")), async () => { var p = await progress(); return $"{p.Approved} of {p.Target} approved"; }),
            await AgreeAsync("review state", Attr(me.Page.GetByTestId("step-Review"), "data-state"), async () => (await progress()).Steps.Single(s => s.Step == TaskStep.Review).State.ToString()),
        ]);
        await StepAsync(taskTab.Page, "task-tab-after-review", [
            await AgreeAsync("review step", Text(StepCount(taskTab, "Review")), async () => { var p = await progress(); return $"{p.Approved} of {p.Target} approved"; }),
        ]);

        // ---- 3. Train (the models page, then the training dashboard), the bundle, publish. ----
        await me.GotoAsync($"/projects/{projectId}/models");
        await me.ClickAsync("train-start");
        await me.WaitForUrlAsync(new Regex("/models/[0-9a-f-]{36}$"));
        await me.WaitInteractiveAsync();
        var modelId = Guid.Parse(me.Page.Url[^36..]);
        await Expect(me.Page.GetByTestId("model-state")).Not.ToHaveAttributeAsync("data-state", "Training", new() { Timeout = 600_000 });
        var model = await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().SingleAsync(m => m.Id == modelId));
        await StepAsync(me.Page, "training-done", [
            await AgreeAsync("model state", Attr(me.Page.GetByTestId("model-state"), "data-state"), async () => model.State.ToString()),
            await AgreeAsync("accuracy", Attr(me.Page.GetByTestId("metrics-validation").GetByTestId("metric-accuracy"), "data-value"),
                async () => model.Accuracy?.ToString("0.0000", Inv) ?? "(none)"),
        ], note: $"family {model.Family} (asked {model.RequestedFamily}), dataset of {await portal.QueryAsync(db => db.DatasetVersions.Where(d => d.Id == model.DatasetVersionId).Select(d => d.Count).SingleAsync())} rows, {await Approved()} approved");
        Assert.Equal(ModelVersionState.Draft, model.State);
        var download = await me.Page.RunAndWaitForDownloadAsync(() => me.ClickAsync("model-download"));
        using (var zip = ZipFile.OpenRead((await download.PathAsync())!))
            Assert.NotNull(zip.GetEntry("model.onnx"));
        await me.ClickAsync("next-publish");
        await Expect(me.Page.GetByTestId("model-state")).ToHaveAttributeAsync("data-state", "Published");
        await StepAsync(me.Page, "published", [
            await AgreeAsync("model state", Attr(me.Page.GetByTestId("model-state"), "data-state"),
                async () => (await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().SingleAsync(m => m.Id == modelId))).State.ToString()),
            await AgreeAsync("publish step", Text(StepCount(me, "Publish")), async () => $"v{model.Number} published"),
        ], note: $"bundle {new FileInfo((await download.PathAsync())!).Length} bytes with model.onnx");

        // The published model in the playground, on one new post of each topic (written like the samples, unseen).
        await me.GotoAsync($"/projects/{projectId}/playground");
        var playSeen = new List<Seen>();
        for (var label = 0; label < Labels.Length; label++)
        {
            await me.FillAsync("play-text", Sample(90_000 + label, label));
            await me.ClickAsync("play-predict");
            await Expect(me.Page.GetByTestId("play-label")).ToBeVisibleAsync();
            await Task.Delay(500);
            playSeen.Add(await AgreeAsync($"playground label of a new '{Labels[label]}' post (page against the written topic)", Text(me.Page.GetByTestId("play-label")), async () => Labels[label], 5_000));
        }
        await StepAsync(me.Page, "playground", [], live: playSeen, note: "logged, not asserted: the fake data's model, not a product behaviour");

        // ---- 4. A corpus of 5,000 texts: upload, embeddings, mining, self-training. ----
        var texts = CorpusTexts();
        var corpusFile = Path.Combine(folder.Path, "posts.txt");
        await File.WriteAllLinesAsync(corpusFile, texts);
        await me.GotoAsync($"/projects/{projectId}/corpora");
        await me.Page.GetByTestId("corpus-file").SetInputFilesAsync(corpusFile);
        await Expect(me.Page.GetByTestId("corpus-preview")).ToContainTextAsync(texts[0]);
        await me.ClickAsync("corpus-upload");
        await Expect(me.Page.GetByTestId("import-report")).ToBeVisibleAsync(new() { Timeout = 180_000 });
        await Expect(me.Page.Locator("[data-testid=corpus-row-embeddings][data-ready=true]")).ToHaveCountAsync(1, new() { Timeout = 600_000 });
        var corpus = await portal.QueryAsync(db => db.Corpora.AsNoTracking().SingleAsync(c => c.ProjectId == projectId));
        await StepAsync(me.Page, "corpus", [
            await AgreeAsync("kept", Text(me.Page.GetByTestId("report-kept")), async () => $"Texts kept: {N0(corpus.TextCount)}"),
            await AgreeAsync("texts in the table", Text(me.Page.GetByTestId("corpus-row-texts")), async () => N0(
                await portal.QueryAsync(db => db.CorpusTexts.CountAsync(t => t.CorpusId == corpus.Id)))),
            await AgreeAsync("embeddings ready", Attr(me.Page.GetByTestId("corpus-row-embeddings"), "data-ready"),
                async () => corpus.EmbeddedCount >= corpus.TextCount ? "true" : "false"),
        ], note: $"embedder {(await me.Page.GetByTestId("corpus-row-embedder").InnerTextAsync()).Trim()}, language {corpus.Language}");
        Assert.Equal(CorpusSize, corpus.TextCount);

        // Two more tabs stay open from here on: the mining page and the task's review queue.
        var mineTab = new PortalBrowser(await me.Page.Context.NewPageAsync(), url);
        await mineTab.GotoAsync($"/projects/{projectId}/tasks/{taskId}/mine");
        var queueTab = new PortalBrowser(await me.Page.Context.NewPageAsync(), url);
        await queueTab.GotoAsync($"/projects/{projectId}/tasks/{taskId}/review");
        var queueCounts = queueTab.Page.GetByTestId("review-counts");

        await me.GotoAsync($"/projects/{projectId}/tasks/{taskId}/mine");
        await me.FillAsync("mine-per-label", N(MinePerLabel));
        await me.ClickAsync("mine-start");
        await Expect(me.Page.Locator("[data-testid=mining-run-state][data-state=Succeeded]")).ToHaveCountAsync(1, new() { Timeout = 600_000 });
        var mining = await portal.QueryAsync(db => db.MiningRuns.AsNoTracking().SingleAsync(r => r.TaskId == taskId && r.SourceRunId == null));
        Task<int> PendingScored() => SelectedPending();
        await StepAsync(me.Page, "mining-done", [
            await AgreeAsync("mined", Text(me.Page.GetByTestId("mining-run-count")),
                async () => N(await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.MiningRunId == mining.Id)))),
            await AgreeAsync("run state", Attr(me.Page.GetByTestId("mining-run-state"), "data-state"), () => StateOf(mining.JobId!.Value)),
        ], note: $"embedder {mining.Embedder}");
        await StepAsync(queueTab.Page, "queue-tab-after-mining", [
            await AgreeAsync("pending", Attr(queueCounts, "data-pending"), async () => N(await SelectedPending())),
            await AgreeAsync("approved", Attr(queueCounts, "data-approved"), async () => N(await Approved())),
        ]);
        await StepAsync(mineTab.Page, "mine-tab-after-mining", [
            await AgreeAsync("mining runs", Count(mineTab.Page.GetByTestId("mining-run-state")),
                async () => N(await portal.QueryAsync(db => db.MiningRuns.CountAsync(r => r.TaskId == taskId && r.SourceRunId == null)))),
            await AgreeAsync("mined", Text(mineTab.Page.GetByTestId("mining-run-count")),
                async () => N(await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.MiningRunId == mining.Id)))),
        ]);

        // Self-training from the mining run, its rounds arriving live.
        await Expect(me.Page.GetByTestId("st-start")).ToBeVisibleAsync();
        await me.FillAsync("st-rounds", "3");
        await me.FillAsync("st-uncertain", N(Uncertain));
        await me.ClickAsync("st-start");
        await Expect(me.Page.Locator("[data-testid=st-round][data-round='0']")).ToHaveCountAsync(1, new() { Timeout = 600_000 });
        Task<MiningRun?> SelfRun() => portal.QueryAsync(db => db.MiningRuns.AsNoTracking().SingleOrDefaultAsync(r => r.SourceRunId == mining.Id));
        var stJob = (await SelfRun())!.JobId!.Value;
        await StepAsync(me.Page, "self-training-live", [], live: [
            new Seen("rounds shown", N(await me.Page.GetByTestId("st-round").CountAsync()), N(SelfTrainingService.ReadRounds((await SelfRun())!.SummaryJson).Count)),
            new Seen("state", await me.Page.GetByTestId("st-run").GetAttributeAsync("data-state") ?? "(none)", await StateOf(stJob)),
        ]);
        await Expect(me.Page.GetByTestId("st-model")).ToBeVisibleAsync(new() { Timeout = 600_000 });
        var selfRun = (await SelfRun())!;
        Task<int> UncertainPending() => portal.QueryAsync(db => db.Candidates.CountAsync(c => c.MiningRunId == selfRun.Id && c.Status == CandidateStatus.Pending));
        Task<int> UncertainQueued() => portal.QueryAsync(db => db.Candidates.CountAsync(c => c.MiningRunId == selfRun.Id));
        await StepAsync(me.Page, "self-training-done", [
            await AgreeAsync("state", Attr(me.Page.GetByTestId("st-run"), "data-state"), () => StateOf(stJob)),
            await AgreeAsync("rounds shown", Count(me.Page.GetByTestId("st-round")), async () => N(SelfTrainingService.ReadRounds((await SelfRun())!.SummaryJson).Count)),
            await AgreeAsync("uncertain in the queue", async () => Regex.Match(await Text(me.Page.GetByTestId("st-uncertain-queue"))(), @"\(\d+ pending of \d+\)").Value,
                async () => $"({await UncertainPending()} pending of {await UncertainQueued()})"),
            await AgreeAsync("model link's version", async () => Regex.Match(await Text(me.Page.GetByTestId("st-model"))(), @"\d+").Value,
                async () => N((await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().SingleAsync(m => m.Id == selfRun.ModelVersionId))).Number)),
            await AgreeAsync("active-learning line", async () => Regex.Match(await Text(me.Page.GetByTestId("al-queue"))(), @"of \d+ pending scored").Value,
                async () => $"of {await PendingScored()} pending scored"),
        ]);
        await StepAsync(queueTab.Page, "queue-tab-after-self-training", [
            await AgreeAsync("pending", Attr(queueCounts, "data-pending"), async () => N(await SelectedPending())),
        ]);
        await StepAsync(mineTab.Page, "mine-tab-after-self-training", [
            await AgreeAsync("self-training state", Attr(mineTab.Page.GetByTestId("st-run"), "data-state"), () => StateOf(stJob)),
            await AgreeAsync("rounds shown", Count(mineTab.Page.GetByTestId("st-round")), async () => N(SelfTrainingService.ReadRounds((await SelfRun())!.SummaryJson).Count)),
            await AgreeAsync("active-learning line", async () => Regex.Match(await Text(mineTab.Page.GetByTestId("al-queue"))(), @"of \d+ pending scored").Value,
                async () => $"of {await PendingScored()} pending scored"),
        ]);

        // The model version it made, and its uncertain texts in the queue, most uncertain first.
        await me.ClickAsync("st-model");
        await me.WaitForUrlAsync(new Regex($"/projects/{projectId}/models/{selfRun.ModelVersionId}$"));
        await me.WaitInteractiveAsync();
        var selfModel = await portal.QueryAsync(db => db.ModelVersions.AsNoTracking().SingleAsync(m => m.Id == selfRun.ModelVersionId));
        await StepAsync(me.Page, "self-trained-model", [
            await AgreeAsync("model state", Attr(me.Page.GetByTestId("model-state"), "data-state"), async () => selfModel.State.ToString()),
            await AgreeAsync("self-trained from", async () => (await Text(me.Page.GetByTestId("model-self-trained"))()).Contains(selfRun.CorpusName, StringComparison.Ordinal) ? selfRun.CorpusName : "(other)",
                async () => selfRun.CorpusName),
            await AgreeAsync("uncertain link", async () => Regex.Match(await Text(me.Page.GetByTestId("model-uncertain-queue"))(), @"\(\d+ pending of \d+\)").Value,
                async () => $"({await UncertainPending()} pending of {await UncertainQueued()})"),
        ], note: $"model v{selfModel.Number}, family {selfModel.Family}");
        // Which view the self-training's rounds used: the model card on the page against the job's log in the database
        // (English pools choose between the z-scored view and the raw view by the raw view's own label counts over the pool,
        // decision 0032, amendment st19;
        // character rounds write no such line).
        await me.Page.GetByTestId("model-card").Locator(".mud-expand-panel-header").ClickAsync();
        await StepAsync(me.Page, "self-trained-model-card", [
            await AgreeAsync("the rounds' view (card on the page against the job log)", async () =>
                {
                    var card = await Text(me.Page.GetByTestId("model-card-body"))();
                    return card.Contains("averaged with the miner's raw similarity scores", StringComparison.Ordinal) ? "raw view"
                        : card.Contains("averaged with the miner's scores", StringComparison.Ordinal) ? "z-scored view"
                        : card.Contains("No human labels", StringComparison.Ordinal) ? "character rounds" : "(no card)";
                },
                async () =>
                {
                    var notes = await portal.QueryAsync(db => db.JobLog.AsNoTracking().Where(l => l.JobId == stJob && l.NoteJson != null).Select(l => l.NoteJson!).ToListAsync());
                    return notes.Any(n => n.Contains("\"SelfTrain.Log.RawView\"", StringComparison.Ordinal)) ? "raw view"
                        : notes.Any(n => n.Contains("\"SelfTrain.Log.EvenView", StringComparison.Ordinal)) ? "z-scored view" : "character rounds";
                }),
        ], note: Regex.Match(selfModel.ModelCard ?? "", @"[\d.]+ nats|the surest \d+% of the pool").Value is { Length: > 0 } seen ? $"card: {seen}" : null);
        await me.ClickAsync("model-uncertain-queue");
        await me.WaitForUrlAsync(new Regex($"/tasks/{taskId}/review\\?run={selfRun.Id}&sort=MostUncertain"));
        await me.WaitInteractiveAsync();
        var firstUncertain = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.MiningRunId == selfRun.Id)
            .OrderByDescending(c => c.Uncertainty).ThenByDescending(c => c.CreatedAt).ThenBy(c => c.Id).Select(c => c.Text).FirstAsync());
        await StepAsync(me.Page, "uncertain-queue", [
            await AgreeAsync("rows on the first page", Count(me.Page.GetByTestId("review-text")), async () => N(Math.Min(25, await UncertainQueued()))),
            await AgreeAsync("first row (the most uncertain)", async () => await Text(me.Page.GetByTestId("review-text").First)() is var t && t.Contains(firstUncertain, StringComparison.Ordinal) ? firstUncertain : t,
                async () => firstUncertain),
        ]);

        // ---- 5. LLM labelling of 300 texts of the corpus; the queue with disagreements first. ----
        await me.GotoAsync($"/projects/{projectId}/tasks/{taskId}/label");
        await me.FillAsync("label-limit", N(LabelLimit));
        await me.FillAsync("label-batch", N(LabelBatch));
        await me.Page.Keyboard.PressAsync("Tab");
        await Expect(me.Page.Locator($"[data-testid=label-estimate-calls][data-calls='{LabelLimit / LabelBatch}']")).ToHaveCountAsync(1);
        await me.ClickAsync("label-start");
        // Live, with the fake held after three batches.
        var labelRow = me.Page.GetByTestId("label-run-state");
        await Expect(me.Page.Locator($"[data-testid=label-run-state][data-done='{3 * LabelBatch}']")).ToHaveCountAsync(1, new() { Timeout = 180_000 });
        var labelling = await portal.QueryAsync(db => db.LabellingRuns.AsNoTracking().SingleAsync(r => r.TaskId == taskId));
        Task<int> LlmCandidates() => portal.QueryAsync(db => db.Candidates.CountAsync(c => c.LabellingRunId == labelling.Id));
        await StepAsync(me.Page, "labelling-live", [
            await AgreeAsync("texts done", Attr(labelRow, "data-done"), async () => N((await portal.QueryAsync(db => db.LabellingRuns.AsNoTracking().SingleAsync(r => r.Id == labelling.Id))).TextsDone)),
            await AgreeAsync("sample size", Attr(labelRow, "data-total"), async () => N(labelling.SampleSize)),
            await AgreeAsync("job state", Attr(labelRow.Locator("[data-testid=job-state]"), "data-state"), () => StateOf(labelling.JobId!.Value)),
            await AgreeAsync("labelled so far", Attr(me.Page.GetByTestId("label-run-counts"), "data-labelled"), async () => N(await LlmCandidates())),
        ]);
        await StepAsync(queueTab.Page, "queue-tab-labelling-live", [
            await AgreeAsync("pending", Attr(queueCounts, "data-pending"), async () => N(await SelectedPending())),
        ]);
        await StepAsync(mineTab.Page, "mine-tab-labelling-live", [
            await AgreeAsync("active-learning line", async () => Regex.Match(await Text(mineTab.Page.GetByTestId("al-queue"))(), @"of \d+ pending scored").Value,
                async () => $"of {await PendingScored()} pending scored"),
        ]);
        labellingGate.Set();
        await Expect(me.Page.Locator("[data-testid=label-run-state][data-state=Succeeded]")).ToHaveCountAsync(1, new() { Timeout = 300_000 });
        labelling = await portal.QueryAsync(db => db.LabellingRuns.AsNoTracking().SingleAsync(r => r.Id == labelling.Id));
        var labelCounts = me.Page.GetByTestId("label-run-counts");
        await StepAsync(me.Page, "labelling-done", [
            await AgreeAsync("texts done", Attr(labelRow, "data-done"), async () => N(labelling.TextsDone)),
            await AgreeAsync("labelled", Attr(labelCounts, "data-labelled"), async () => N(await LlmCandidates())),
            await AgreeAsync("none of these", Attr(labelCounts, "data-none"), async () => N(labelling.NoneOfThese)),
        ], note: $"{labelling.Calls} calls, {labelling.Disagreed} disagreed with the miner");
        Assert.Equal(LabelLimit, labelling.TextsDone);
        await StepAsync(queueTab.Page, "queue-tab-after-labelling", [
            await AgreeAsync("pending", Attr(queueCounts, "data-pending"), async () => N(await SelectedPending())),
            await AgreeAsync("approved", Attr(queueCounts, "data-approved"), async () => N(await Approved())),
        ]);
        await StepAsync(mineTab.Page, "mine-tab-after-labelling", [
            await AgreeAsync("active-learning line", async () => Regex.Match(await Text(mineTab.Page.GetByTestId("al-queue"))(), @"of \d+ pending scored").Value,
                async () => $"of {await PendingScored()} pending scored"),
        ]);

        await me.ClickAsync("label-run-review");
        await me.WaitForUrlAsync(new Regex($"/tasks/{taskId}/review\\?source=LlmLabelled"));
        await me.WaitInteractiveAsync();
        var llmRows = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.LabellingRunId == labelling.Id).Select(c => new { c.Label, c.MinerLabel }).ToListAsync());
        var disagreed = llmRows.Count(c => c.MinerLabel != c.Label);
        var firstPage = Math.Min(25, llmRows.Count);
        await StepAsync(me.Page, "disagreements-first", [
            await AgreeAsync("rows on the first page", Count(me.Page.GetByTestId("review-miner-label")), async () => N(firstPage)),
            await AgreeAsync("disagreeing rows on the first page", async () =>
                N((await me.Page.GetByTestId("review-miner-label").EvaluateAllAsync<string[]>("ms => ms.map(m => m.dataset.agrees)")).Count(a => a == "false")),
                async () => N(Math.Min(disagreed, firstPage))),
            await AgreeAsync("first page order (false before true)", async () =>
                string.Join("", (await me.Page.GetByTestId("review-miner-label").EvaluateAllAsync<string[]>("ms => ms.map(m => m.dataset.agrees)")).Select(a => a == "false" ? "d" : "a")),
                async () => new string('d', Math.Min(disagreed, firstPage)) + new string('a', firstPage - Math.Min(disagreed, firstPage))),
        ], note: $"{llmRows.Count} LLM-labelled, {disagreed} disagree with the miner");

        // ---- 6. A query over the corpus, the jobs page, the overview. ----
        await me.GotoAsync($"/projects/{projectId}/query");
        await me.ClickAsync("qb-add-clause");
        await me.Page.Locator("[data-testid=qb-label]").First.ClickAsync();
        await me.Page.Locator(".mud-popover-open .mud-list-item").Filter(new() { HasText = Labels[1] }).First.ClickAsync();
        // The builder writes the query's text: wait for the chosen label there (it was read too early once).
        await Expect(me.Page.GetByTestId("query-text")).ToHaveValueAsync(new Regex(":\"?" + Regex.Escape(Labels[1]) + "\"?$")); // quoted when it holds a space
        await Expect(me.Page.GetByTestId("query-valid")).ToBeVisibleAsync();
        var expression = await me.Page.GetByTestId("query-text").InputValueAsync();
        await me.ClickAsync("query-run");
        await me.WaitForUrlAsync(new Regex("/query-runs/[0-9a-f-]{36}$"));
        await me.WaitInteractiveAsync();
        await Expect(me.Page.GetByTestId("query-run-state")).ToHaveAttributeAsync("data-state", "Succeeded", new() { Timeout = 300_000 });
        var queryId = Guid.Parse(me.Page.Url[^36..]);
        var query = await portal.QueryAsync(db => db.QueryRuns.AsNoTracking().SingleAsync(r => r.Id == queryId));
        var hits = await portal.QueryAsync(db => db.QueryHits.CountAsync(h => h.RunId == queryId));
        var progressBar = me.Page.GetByTestId("query-run-progress");
        await StepAsync(me.Page, "query", [
            await AgreeAsync("expression", Text(me.Page.GetByTestId("query-run-expression")), async () => query.Expression),
            await AgreeAsync("processed", Attr(progressBar, "data-processed"), async () => N(query.Processed)),
            await AgreeAsync("total", Attr(progressBar, "data-total"), async () => N(query.Total)),
            await AgreeAsync("progress line (numbers written like the funnel's)", Text(progressBar), async () => $"{N0(query.Processed)} / {N0(query.Total)} texts"),
            await AgreeAsync("matched", Text(me.Page.GetByTestId("funnel-matched")), async () => N0(hits)),
            await AgreeAsync("hits on the first page", Count(me.Page.GetByTestId("query-hit")), async () => N(Math.Min(25, hits))),
        ], note: $"typed {expression}");
        Assert.Equal(CorpusSize, query.Processed);
        // The hits against the truth the corpus was written with: the queried label's posts, found by the model.
        var queried = query.Expression[(query.Expression.LastIndexOf(':') + 1)..].Trim('"');
        var hitTexts = await portal.QueryAsync(db => db.QueryHits.Where(h => h.RunId == queryId).Select(h => h.Text).ToListAsync());
        await StepAsync(me.Page, "query-truth", [], live: [
            new Seen($"hits that are '{queried}' posts as written (db) against all hits (db)", N(hitTexts.Count(t => LabelFor(t) == queried)), N(hitTexts.Count)),
        ], note: $"logged, not asserted: how well the fake data's model finds its topic is no product behaviour; the corpus's posts: {string.Join(", ", Labels.Select(l => $"{l} {texts.Count(t => LabelFor(t) == l)}"))}, none {texts.Count(t => LabelFor(t) == "none")}");


        await me.GotoAsync($"/projects/{projectId}/jobs");
        var jobs = await portal.QueryAsync(db => db.Jobs.AsNoTracking().Where(j => j.ProjectId == projectId).Select(j => j.State).ToListAsync());
        var jobChips = me.Page.GetByTestId("jobs-table").GetByTestId("job-state");
        var jobSeen = new List<Seen>
        {
            await AgreeAsync("jobs listed", Count(jobChips), async () => N(Math.Min(25, jobs.Count))),
        };
        foreach (var state in jobs.Distinct().OrderBy(s => s.ToString(), StringComparer.Ordinal))
            jobSeen.Add(await AgreeAsync($"jobs {state}", Count(me.Page.Locator($"[data-testid=jobs-table] [data-testid=job-state][data-state={state}]")),
                async () => N(jobs.Count(s => s == state))));
        // A job's note (why it stopped short or failed) starts a line of its own, under the progress line.
        var notes = me.Page.GetByTestId("job-note");
        jobSeen.Add(await AgreeAsync("job notes under their progress line (against the notes shown)",
            async () => N(await notes.EvaluateAllAsync<int>("ns => ns.filter(n => { const line = n.closest('td').querySelector('[data-testid=job-progress-line]'); return !line || n.getBoundingClientRect().top >= line.getBoundingClientRect().bottom - 1; }).length")),
            async () => N(await notes.CountAsync())));
        await StepAsync(me.Page, "jobs", jobSeen);

        await me.GotoAsync($"/projects/{projectId}");
        var open = new[] { JobState.Queued, JobState.Running, JobState.Paused };
        var finished = new[] { JobState.Succeeded, JobState.StoppedShort, JobState.Failed, JobState.Cancelled };
        await StepAsync(me.Page, "overview", [
            await AgreeAsync("active jobs", Text(me.Page.GetByTestId("stat-active-jobs")),
                async () => N(await portal.QueryAsync(db => db.Jobs.CountAsync(j => j.ProjectId == projectId && open.Contains(j.State))))),
            await AgreeAsync("finished jobs", Text(me.Page.Locator(".mud-paper").Filter(new() { HasText = "Finished jobs" }).Locator(".mud-typography-h4")),
                async () => N(await portal.QueryAsync(db => db.Jobs.CountAsync(j => j.ProjectId == projectId && finished.Contains(j.State))))),
            await AgreeAsync("members", Text(me.Page.GetByTestId("stat-members")),
                async () => N(await portal.QueryAsync(db => db.ProjectMembers.CountAsync(m => m.ProjectId == projectId)))),
        ]);
        await StepAsync(taskTab.Page, "task-tab-at-the-end", [
            await AgreeAsync("collect step", Text(StepCount(taskTab, "Collect")), async () =>
            {
                var p = await progress();
                return $"{Incubator.Domain.Common.EnglishCount.Of(p.Samples, "sample", "samples")} · {Incubator.Domain.Common.EnglishCount.Of(p.Runs, "run", "runs")}";
            }),
            await AgreeAsync("samples (selected stage)", async () => Regex.Match(await Text(StepCount(taskTab, "Collect"))(), @"^\d+").Value,
                async () => N(await portal.QueryAsync(db => db.Candidates.CountAsync(c => c.TaskId == taskId && c.Stage == CandidateStage.Selected)))),
            await AgreeAsync("review step", Text(StepCount(taskTab, "Review")), async () => { var p = await progress(); return $"{p.Approved} of {p.Target} approved"; }),
            await AgreeAsync("train step", Text(StepCount(taskTab, "Train")),
                async () => $"{Incubator.Domain.Common.EnglishCount.Of(await portal.QueryAsync(db => db.ModelVersions.CountAsync(m => m.TaskId == taskId && (m.State == ModelVersionState.Draft || m.State == ModelVersionState.Published || m.State == ModelVersionState.Retired))), "model", "models")} trained"),
        ], note: $"wall time so far {clock.Elapsed:mm\\:ss}");

        // The same pages on a phone (390 px wide) in the walk's language, for a person to look at: the lists read as
        // label/value cards, not tables scrolled sideways inside their boxes. Counted and logged, not asserted.
        var phone = await PortalBrowser.OpenAsync(browser.Browser, url, locale: _d.Language == "ja" ? "ja-JP" : "en-US", timezoneId: "Asia/Tokyo");
        await phone.Page.SetViewportSizeAsync(390, 844);
        await phone.SignInAsync(Email, Password);
        const string sideways = "() => [...document.querySelectorAll('.mud-table-container, .mud-simple-table .mud-table-container, .mud-table-root')]"
            + ".filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1).length";
        foreach (var (name, path) in new[]
        {
            ("phone-tasks", $"/projects/{projectId}/tasks"), ("phone-task", $"/projects/{projectId}/tasks/{taskId}"),
            ("phone-review", $"/projects/{projectId}/tasks/{taskId}/review"), ("phone-models", $"/projects/{projectId}/models"),
            ("phone-model", $"/projects/{projectId}/models/{modelId}"), ("phone-corpora", $"/projects/{projectId}/corpora"),
            ("phone-mine", $"/projects/{projectId}/tasks/{taskId}/mine"), ("phone-jobs", $"/projects/{projectId}/jobs"),
            ("phone-overview", $"/projects/{projectId}"),
        })
        {
            await phone.GotoAsync(path);
            await phone.Page.WaitForTimeoutAsync(1_500);
            if (name == "phone-model")
                await phone.Page.GetByTestId("model-card").Locator(".mud-expand-panel-header").ClickAsync(new LocatorClickOptions { Timeout = 5_000 });
            await phone.Page.WaitForTimeoutAsync(500);
            await StepAsync(phone.Page, name, [], live: [
                new Seen("table boxes scrolled sideways (page) against none", N(await phone.Page.EvaluateAsync<int>(sideways)), "0"),
                new Seen("page width (px) against the screen's", N(await phone.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth")), "390"),
            ]);
        }
        await phone.Page.Context.CloseAsync();

        await File.AppendAllTextAsync(Path.Combine(OutDir, "log.txt"), $"Walk finished in {clock.Elapsed:mm\\:ss}\n");
        output.WriteLine($"Walk finished in {clock.Elapsed:mm\\:ss}");
        await me.Page.Context.CloseAsync();
    }

    private sealed class Releaser(Action release) : IDisposable
    {
        public void Dispose() => release();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, int timeoutMs = 120_000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.ElapsedMilliseconds > timeoutMs) throw new TimeoutException($"Waited {timeoutMs / 1000} s for {what}.");
            await Task.Delay(100);
        }
    }
}
