using System.Globalization;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.TrainingFlow;

/// <summary>The training job: live progress events (stage, elapsed) and a kept log; a cancel while running ends the
/// model version as cancelled with nothing in the model store; a cancel while queued shows as cancelled too.</summary>
public sealed class TrainingJobTests : IClassFixture<TrainingJobTests.Portal>
{
    public sealed class Portal : PortalFactory
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(s => HookedRunEvents.Install(s));
        }
    }

    private readonly Portal _portal;

    public TrainingJobTests(Portal portal) => _portal = portal;

    private async Task<(string UserId, Guid ProjectId, Guid TaskId)> ArrangeAsync(string prefix)
    {
        var email = PortalExtensions.UniqueEmail(prefix);
        var (projectId, taskId) = await TrainingFlowTests.ArrangeAsync(_portal, email);
        return (await _portal.UserIdAsync(email), projectId, taskId);
    }

    private Task<ModelVersionSummary> StartAsync(string userId, Guid taskId, string family = "sparse", string? encoder = null) =>
        _portal.InScopeAsync(sp => sp.GetRequiredService<TrainingService>().StartTrainingAsync(userId, new StartTrainingRequest(taskId, family, 5, Encoder: encoder)));

    private async Task<ModelVersionSummary> WaitAsync(string userId, Guid modelId, Func<ModelVersionSummary, bool> done)
    {
        var training = _portal.Services.GetRequiredService<TrainingService>();
        for (var i = 0; i < 1500; i++)
        {
            var s = (await training.GetAsync(userId, modelId)).Summary;
            if (done(s)) return s;
            await Task.Delay(100);
        }
        throw new TimeoutException("The model never reached the expected state.");
    }

    /// <summary>The model card is written in the language of the person who started the training (decision 0012,
    /// amendment card21): a Japanese user's portal culture gives a Japanese card in the registry and in the bundle alike,
    /// and the training's log names the family in Japanese for a Japanese reader; an English user's card stays English.</summary>
    [Fact]
    public async Task A_japanese_user_gets_a_japanese_model_card_in_the_registry_and_the_bundle()
    {
        var (userId, projectId, taskId) = await ArrangeAsync("job-card-ja");
        var before = CultureInfo.CurrentUICulture;
        ModelVersionSummary started;
        try
        {
            CultureInfo.CurrentUICulture = new CultureInfo("ja-JP");
            started = await StartAsync(userId, taskId);
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
        var done = await WaitAsync(userId, started.Id, s => s.State != ModelVersionState.Training);
        var training = _portal.Services.GetRequiredService<TrainingService>();
        var detail = await training.GetAsync(userId, started.Id);
        Assert.True(done.State == ModelVersionState.Draft, detail.Error);
        Assert.Contains(" — モデル v1", detail.ModelCard);
        Assert.Contains("- ファミリー: **n-gram 特徴（sparse）**（指定: n-gram 特徴（sparse））。", detail.ModelCard);
        Assert.Contains("## データの来歴", detail.ModelCard);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"正解率 {done.Accuracy:0.000}"), detail.ModelCard);
        using (var bundle = ModelBundle.Read(File.OpenRead(_portal.Services.GetRequiredService<ModelStore>().BundlePath(projectId, started.Id))))
            Assert.Equal(detail.ModelCard, bundle.ModelCard);

        var log = await _portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>().GetLogAsync(userId, done.JobId!.Value));
        var startedLine = log.Single(l => l.Note?.Code == "Log.TrainingStarted");
        Assert.StartsWith("n-gram 特徴（sparse）を学習します", Localized.In("ja", () => Incubator.Web.LocalizerExtensions.JobLogLine(Localized.L, startedLine)));
        Assert.StartsWith("Training sparse (seed 5)", Localized.In("en", () => Incubator.Web.LocalizerExtensions.JobLogLine(Localized.L, startedLine)));

        var english = await StartAsync(userId, taskId, "sparse");
        await WaitAsync(userId, english.Id, s => s.State != ModelVersionState.Training);
        Assert.Contains("- Family: **sparse** (requested: sparse).", (await training.GetAsync(userId, english.Id)).ModelCard);
    }

    /// <summary>Every training writes the card in both languages (decision 0012, amendment card22): the registry keeps
    /// the starter's card and its language and the other language's card, and the bundle holds the starter's as
    /// model-card.md and the other as model-card.en.md / model-card.ja.md, each the registry's text, each in its language.</summary>
    [Theory]
    [InlineData("ja-JP")]
    [InlineData("en-US")]
    public async Task A_training_writes_the_card_in_both_languages_into_the_registry_and_the_bundle(string culture)
    {
        var (userId, projectId, taskId) = await ArrangeAsync("job-card-both");
        var before = CultureInfo.CurrentUICulture;
        ModelVersionSummary started;
        try
        {
            CultureInfo.CurrentUICulture = new CultureInfo(culture);
            started = await StartAsync(userId, taskId);
        }
        finally
        {
            CultureInfo.CurrentUICulture = before;
        }
        var done = await WaitAsync(userId, started.Id, s => s.State != ModelVersionState.Training);
        var detail = await _portal.Services.GetRequiredService<TrainingService>().GetAsync(userId, started.Id);
        Assert.True(done.State == ModelVersionState.Draft, detail.Error);
        var starter = culture.StartsWith("ja", StringComparison.Ordinal) ? "ja" : "en";
        Assert.Equal(starter, detail.ModelCardLanguage);
        var (japanese, english) = starter == "ja" ? (detail.ModelCard!, detail.OtherModelCard!) : (detail.OtherModelCard!, detail.ModelCard!);
        Assert.Contains(" — モデル v1", japanese);
        Assert.Contains("## データの来歴", japanese);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"正解率 {done.Accuracy:0.000}"), japanese);
        Assert.DoesNotContain("## Data provenance", japanese);
        Assert.Contains(" — model v1", english);
        Assert.Contains("## Data provenance", english);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"Accuracy {done.Accuracy:0.000}"), english);
        Assert.DoesNotContain("## データの来歴", english);

        var path = _portal.Services.GetRequiredService<ModelStore>().BundlePath(projectId, started.Id);
        var other = starter == "ja" ? "model-card.en.md" : "model-card.ja.md";
        using (var zip = System.IO.Compression.ZipFile.OpenRead(path))
            Assert.Equal(["model.onnx", "labels.json", "model-card.md", other, "README.md", "checksums.sha256"], zip.Entries.Select(e => e.FullName));
        using var bundle = ModelBundle.Read(File.OpenRead(path));
        Assert.Equal(detail.ModelCard, bundle.ModelCard);
        Assert.Equal(detail.OtherModelCard, bundle.OtherCard);
        Assert.Equal(starter == "ja" ? CardLanguage.En : CardLanguage.Ja, bundle.OtherCardLanguage);
        Assert.Contains($"- `{other}` — the same card in {(starter == "ja" ? "English" : "Japanese")}", bundle.Readme);
    }

    [Fact]
    public async Task Progress_is_published_live_and_the_log_is_kept()
    {
        var (userId, projectId, taskId) = await ArrangeAsync("job-progress");
        using var seen = new EventSink(_portal.Services.GetRequiredService<IRunEvents>(), projectId);
        var started = await StartAsync(userId, taskId);
        var done = await WaitAsync(userId, started.Id, s => s.State != ModelVersionState.Training);
        Assert.Equal(ModelVersionState.Draft, done.State);
        await seen.WaitForAsync<ModelChanged>(m => m.ModelVersionId == started.Id);
        await seen.SettledAsync();

        // Progress is "latest wins": a subscriber that falls behind skips stages, but always gets the last one, and
        // what it gets is in order.
        var events = seen.Of<TrainingProgressed>().Where(p => p.ModelVersionId == started.Id).ToList();
        Assert.NotEmpty(events);
        Assert.Equal("export", events[^1].Stage);
        // Each line comes with its code and arguments, so the training page says it in the reader's language (issue 18).
        Assert.Equal("Train.Writing", events[^1].Note?.Code);
        Assert.All(events, p => Assert.Equal(p.Message, p.Note?.Message));
        Assert.All(events, p => Assert.True(p.ElapsedSeconds >= 0));
        // Elapsed time only moves forward.
        Assert.True(events.Zip(events.Skip(1)).All(x => x.Second.ElapsedSeconds >= x.First.ElapsedSeconds));

        var log = await _portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>().GetLogAsync(userId, done.JobId!.Value));
        Assert.Contains(log, l => l.Message.StartsWith("Training sparse (seed 5)", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Message.StartsWith("Chose sparse: validation accuracy", StringComparison.Ordinal));
        var job = await _portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == done.JobId));
        Assert.Equal(JobState.Succeeded, job.State);
        // The registry records that a sparse model has no encoder (the compare page's encoder row).
        Assert.Equal(ModelFamilies.NoEncoder, (await _portal.Services.GetRequiredService<TrainingService>().GetAsync(userId, started.Id)).Encoder);
    }

    [Fact]
    public async Task Training_data_with_no_words_fails_with_a_reason_the_model_page_says_in_the_readers_language()
    {
        var email = PortalExtensions.UniqueEmail("job-no-words");
        var owner = await _portal.RegisterAsync(email);
        var projectId = await _portal.InScopeAsync(async sp =>
            (await sp.GetRequiredService<Incubator.Domain.Projects.ProjectService>().CreateProjectAsync(owner.Id, "No words", null)).Id);
        var taskId = await _portal.CreateTaskAsync(email, projectId, TrainingFlowTests.SupportTask);
        // Punctuation only: the reviewers approved it, but there is nothing to learn from.
        string[] marks = ["!", "?", ".", "…", "!!", "??", "?!", "!?", "...", "!!!", "???", "?!?"];
        await _portal.SeedApprovedAsync(projectId, taskId,
            TrainingFlowTests.SupportTask.Labels.SelectMany((l, i) => marks.Skip(i * 4).Take(4).Select(m => (l.Name, m))), owner.Id);

        var started = await StartAsync(owner.Id, taskId);
        var done = await WaitAsync(owner.Id, started.Id, s => s.State != ModelVersionState.Training);
        Assert.Equal(ModelVersionState.Failed, done.State);
        var job = await _portal.InScopeAsync(sp => sp.GetRequiredService<JobQueue>().GetAsync(owner.Id, done.JobId!.Value));
        Assert.Equal((JobState.Failed, "Train.Data.NoWords"), (job.State, job.Note?.Code));
        Assert.Equal(TrainingNotes.NoWords().Message, job.Error);

        using var reader = await AuthenticatedClient.SignInAsync(_portal, email);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/projects/{projectId}/models/{started.Id}");
        request.Headers.AcceptLanguage.ParseAdd("ja");
        using var page = await reader.Http.SendAsync(request);
        var html = System.Net.WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync());
        Assert.Contains("学習に失敗しました: 学習用のテキストに学習できる語がありません。", html);
        Assert.DoesNotContain(TrainingNotes.NoWords().Message, html);
    }

    [Fact]
    public async Task Cancel_while_training_ends_the_version_as_cancelled_and_leaves_no_artefacts()
    {
        var (userId, projectId, taskId) = await ArrangeAsync("job-cancel");
        var queue = _portal.Services.GetRequiredService<JobQueue>();
        Guid? jobId = null;
        var cancelled = 0;
        var gate = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        // The trainer reports each stage synchronously; holding its first report until the cancel has been asked for
        // means the cancel is honoured at the trainer's next check — no timing involved.
        var hooked = _portal.Services.GetRequiredService<HookedRunEvents>();
        hooked.BeforePublish = async e =>
        {
            if (e is TrainingProgressed && e.ProjectId == projectId && Interlocked.Exchange(ref cancelled, 1) == 0)
            {
                var id = await gate.Task;
                await queue.CancelAsync(userId, id);
            }
        };
        using var unhook = new Unhook(hooked);
        var started = await StartAsync(userId, taskId);
        jobId = started.JobId;
        gate.SetResult(jobId!.Value);

        var done = await WaitAsync(userId, started.Id, s => s.State != ModelVersionState.Training);
        Assert.Equal(ModelVersionState.Cancelled, done.State);
        Assert.Null(done.Accuracy);
        var store = _portal.Services.GetRequiredService<ModelStore>();
        Assert.False(Directory.Exists(store.Folder(projectId, started.Id)));
        var job = await _portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId));
        for (var i = 0; i < 100 && !job.IsFinished; i++)
        {
            await Task.Delay(100);
            job = await _portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == jobId));
        }
        Assert.Equal(JobState.Cancelled, job.State);
        // The log written before the cancel is kept.
        var log = await queue.GetLogAsync(userId, jobId.Value);
        Assert.Contains(log, l => l.Message.StartsWith("Training sparse", StringComparison.Ordinal));
        // Nothing can be downloaded from a cancelled version.
        await Assert.ThrowsAsync<Incubator.Domain.Common.ConflictException>(() => _portal.Services.GetRequiredService<TrainingService>().OpenBundleAsync(userId, started.Id));
    }

    [Fact]
    public async Task Auto_trains_every_family_records_the_comparison_and_says_the_encoder_is_english_only()
    {
        var (userId, _, taskId) = await ArrangeAsync("job-auto");
        var started = await StartAsync(userId, taskId, "auto");
        var done = await WaitAsync(userId, started.Id, s => s.State != ModelVersionState.Training);
        var detail = await _portal.Services.GetRequiredService<TrainingService>().GetAsync(userId, started.Id);
        Assert.True(done.State == ModelVersionState.Draft, detail.Error);
        Assert.Equal(["sparse", "dense", "hybrid"], detail.Compared.Select(c => c.Family));
        Assert.Contains(done.Family, new[] { "sparse", "dense", "hybrid" });
        var chosen = detail.Compared.Single(c => c.Family == done.Family);
        Assert.Equal(chosen.Accuracy, done.Accuracy);
        Assert.Contains("- Tried sparse: validation accuracy", detail.ModelCard);
        Assert.Contains("- Tried dense: validation accuracy", detail.ModelCard);
        Assert.Contains("- Tried hybrid: validation accuracy", detail.ModelCard);
        if (done.Family is "dense" or "hybrid") Assert.Contains("knows English only", detail.ModelCard);
    }

    /// <summary>Below 16 rows per label auto pools sparse, dense and hybrid (decision 0019, amendment pool): the registry
    /// names the model "pooled", not the hybrid head it is exported as, the comparison keeps every family and adds the
    /// pool's own row (the model's validation figures), and the card says so.</summary>
    [Fact]
    public async Task Auto_on_eight_rows_per_label_records_the_pool_as_what_training_produced()
    {
        var email = PortalExtensions.UniqueEmail("job-pool");
        var owner = await _portal.RegisterAsync(email);
        var projectId = await _portal.InScopeAsync(async sp =>
            (await sp.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Pool " + Guid.NewGuid().ToString("N")[..6], null)).Id);
        var taskId = await _portal.CreateTaskAsync(email, projectId, TrainingFlowTests.SupportTask);
        var small = Incubator.Tests.Training.TrainingFixtures.English().GroupBy(r => r.Label).SelectMany(g => g.Take(8)).ToList();
        await _portal.SeedApprovedAsync(projectId, taskId, small.Select(r => (r.Label, r.Text)), owner.Id);
        var userId = await _portal.UserIdAsync(email);

        var started = await StartAsync(userId, taskId, "auto");
        var done = await WaitAsync(userId, started.Id, s => s.State != ModelVersionState.Training);
        var detail = await _portal.Services.GetRequiredService<TrainingService>().GetAsync(userId, started.Id);
        Assert.True(done.State == ModelVersionState.Draft, detail.Error);
        Assert.Equal(ModelFamilies.PooledName, done.Family);
        Assert.Equal(["sparse", "dense", "hybrid", "pooled"], detail.Compared.Select(c => c.Family));
        var pooled = detail.Compared[^1];
        Assert.Equal(done.Accuracy, pooled.Accuracy);
        Assert.Equal(done.MacroF1, pooled.MacroF1);
        Assert.Contains("- Family: **pooled**, exported as one hybrid head (requested: auto).", detail.ModelCard);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"- The pool of the three: validation accuracy {pooled.Accuracy:0.000}"), detail.ModelCard);
        Assert.DoesNotContain("- Tried pooled", detail.ModelCard);
        Assert.True(ModelFamilies.UsesEncoder(done.Family));
        Assert.Equal("float", detail.Encoder);
        // The bundle is still a hybrid bundle: what a user downloads loads and predicts like any other.
        var (path, _, _) = await _portal.Services.GetRequiredService<TrainingService>().OpenBundleAsync(userId, started.Id);
        await using var zip = File.OpenRead(path);
        using var loaded = ModelBundle.Read(zip);
        Assert.Equal(ModelFamily.Hybrid, loaded.Family);
    }

    /// <summary>The portal's training asks for the 8-bit encoder: the job trains on it, the bundle carries it (a quarter of
    /// the float bundle's size), and the model page's card names it.</summary>
    [Fact]
    public async Task A_hybrid_training_with_the_8_bit_encoder_ships_the_8_bit_encoder()
    {
        var (userId, _, taskId) = await ArrangeAsync("job-int8");
        var started = await StartAsync(userId, taskId, "hybrid", "int8");
        var done = await WaitAsync(userId, started.Id, s => s.State != ModelVersionState.Training);
        var detail = await _portal.Services.GetRequiredService<TrainingService>().GetAsync(userId, started.Id);
        Assert.True(done.State == ModelVersionState.Draft, detail.Error);
        Assert.Contains(Incubator.Domain.Training.Onnx.EncoderGraph.DisplayName(EncoderKind.MiniLmInt8), detail.ModelCard);
        Assert.Equal("int8", detail.Encoder);
        // The float encoder alone is 86 MiB; the 8-bit bundle is about 25 MiB.
        Assert.InRange(detail.BundleBytes!.Value, 10L << 20, 40L << 20);
    }

    private sealed class Unhook(HookedRunEvents hooked) : IDisposable
    {
        public void Dispose() => hooked.BeforePublish = null;
    }
}
