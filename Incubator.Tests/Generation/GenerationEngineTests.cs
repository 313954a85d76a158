using Incubator.Domain.Review;
using Incubator.Domain.Benchmarks;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Llm;
using Incubator.Domain.Tasks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Incubator.Tests.Generation;

/// <summary>The engine with an in-process scripted model: exact counts of what is kept, rejected and why.</summary>
public sealed class GenerationEngineTests
{
    private static readonly LlmProfile Profile = new(null, "scripted", LlmProvider.OpenAICompatible, "http://127.0.0.1:1/v1", "fake", null, 0.9, 1024, 4, null, 1m, 2m);

    // Japanese keeps the engine on the character n-gram embedder: no model to load, and every numbered sentence
    // below is distinct for it.
    private static TaskSpec Spec(params string[] labels) => new()
    {
        Name = "テスト",
        Instruction = "問い合わせを内容で分類する。",
        Labels = labels.Select(l => new LabelSpec { Name = l, Description = l + "に関する問い合わせ。" }).ToList(),
        Preferences = new TaskPreferences { Language = "ja" },
    };

    private static GenerationEngine Engine() =>
        new(new DemonstrationBank(new EmbedderSelector(new CharNgramEmbedder(), new CharNgramEmbedder())), new EmbedderSelector(new CharNgramEmbedder(), new CharNgramEmbedder()), NullLogger<GenerationEngine>.Instance);

    private static readonly string[] Topics = ["請求書", "配送", "返品", "ログイン", "料金", "解約", "故障", "住所変更", "ポイント", "クーポン", "在庫", "予約"];

    /// <summary>Call n writes a different sentence for every label, so nothing is a duplicate.</summary>
    private static string Distinct(int n, string[] labels) =>
        "{" + string.Join(", ", labels.Select((l, i) => $"\"{l}\": \"{Topics[(n + i) % Topics.Length]}について{n * 7 + i}番目の質問があります、{l}の件です。\"")) + "}";

    [Fact]
    public async Task Oversampled_pool_is_split_into_selected_centres_and_reserve_per_label()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => Distinct(n, labels));
        var store = new MemoryGenerationStore();
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 3, Oversample: 2, Concurrency: 2), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        Assert.Equal(RunOutcome.Completed, summary.Outcome);
        Assert.Null(summary.StopReason);
        Assert.Equal(6, client.Calls);
        Assert.Equal(12, summary.Accepted);
        foreach (var label in labels)
        {
            Assert.Equal(3, store.Candidates.Count(c => c.Label == label && c.Stage == CandidateStage.Selected));
            Assert.Equal(3, store.Candidates.Count(c => c.Label == label && c.Stage == CandidateStage.Reserve));
        }
        Assert.DoesNotContain(store.Candidates, c => c.Stage == CandidateStage.Pool);
        Assert.Equal(600, summary.InputTokens);
        Assert.Equal(300, summary.OutputTokens);
        Assert.Equal(600 * 1m / 1_000_000 + 300 * 2m / 1_000_000, summary.Cost);
        Assert.Contains("請求", summary.Diversity.Keys);
        Assert.True(client.MaxInFlight <= 2);
    }

    [Fact]
    public async Task Concurrent_calls_in_flight_count_towards_the_pool_so_no_call_is_launched_that_the_round_cannot_use()
    {
        string[] labels = ["請求", "配送"];
        // 2 labels × 12 × oversample 2 = 24 samples per label = 24 calls when nothing is rejected. Before in-flight calls
        // counted, every call returning during the last wave launched another: 31 calls at concurrency 8.
        var client = new InProcessFakeLlm(labels, TimeSpan.FromMilliseconds(40));
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 12, Oversample: 2, Concurrency: 8),
            new MemoryGenerationStore(), NullGenerationObserver.Instance, CancellationToken.None);

        Assert.Null(summary.StopReason);
        Assert.Equal(0, summary.RejectedByReason.Values.Sum());
        Assert.Equal(24, client.Calls);
        Assert.Equal(48, summary.Accepted);
        Assert.Equal(24, summary.Selected);
    }

    [Fact]
    public async Task Unknown_keys_empty_values_duplicates_and_prose_are_rejected_with_exact_counts()
    {
        string[] labels = ["請求", "配送"];
        var answers = new[]
        {
            // 1: valid pair
            Distinct(1, labels),
            // 2: an unknown label beside a valid one, and an empty value
            "{\"請求\": \"" + "請求書の再発行をお願いしたいのですが、手続きを教えてください。" + "\", \"配送\": \"  \", \"在庫\": \"在庫はありますか。\"}",
            // 3: no JSON at all
            "申し訳ありませんが、お手伝いできません。",
            // 4 (asks 配送 alone, 請求 being full): call 1's answer again — 請求's copy is not kept (its pool is full),
            // 配送's is an exact duplicate
            Distinct(1, labels),
        };
        var client = new ScriptedLlmClient((n, _) => n <= answers.Length ? answers[n - 1] : Distinct(n + 100, labels));
        var store = new MemoryGenerationStore();
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 2, Oversample: 1, Concurrency: 1), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        var reasons = store.Rejected.GroupBy(r => r.Piece.Reason).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(1, reasons[RejectReason.UnknownLabel]);
        Assert.Equal(1, reasons[RejectReason.Empty]);
        Assert.Equal(1, reasons[RejectReason.Unparseable]);
        Assert.Equal(1, reasons[RejectReason.Duplicate]);
        Assert.Equal(reasons.Values.Sum(), summary.RejectedByReason.Values.Sum());
        Assert.Contains(store.Rejected, r => r.Piece.Reason == RejectReason.UnknownLabel && r.Piece.Detail.Contains("在庫"));
        Assert.Equal(2, store.Candidates.Count(c => c.Label == "請求" && c.Stage == CandidateStage.Selected));
        Assert.Equal(2, store.Candidates.Count(c => c.Label == "配送" && c.Stage == CandidateStage.Selected));
        Assert.Equal(2, summary.Surplus);
        Assert.Equal(5, client.Calls);
        Assert.Equal(RunOutcome.Completed, summary.Outcome);
    }

    [Fact]
    public async Task The_same_text_written_for_two_labels_is_kept_once_and_both_are_flagged_ambiguous()
    {
        string[] labels = ["請求", "配送"];
        const string same = "荷物の請求書が届かないので、どうすればよいか教えてください。";
        var client = new ScriptedLlmClient((n, _) => n switch
        {
            1 => $"{{\"請求\": \"{same}\", \"配送\": \"配送の遅れについて1回目の問い合わせです。\"}}",
            2 => $"{{\"請求\": \"請求について2回目の別の質問があります。\", \"配送\": \"{same}\"}}",
            _ => Distinct(n + 50, labels),
        });
        var store = new MemoryGenerationStore();
        await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 2, Oversample: 1, Concurrency: 1), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        var flagged = store.Candidates.Where(c => c.Ambiguous).ToList();
        Assert.Equal(2, flagged.Count);
        Assert.Equal(["請求", "配送"], flagged.Select(c => c.Label).Order());
    }

    [Fact]
    public async Task A_token_budget_stops_the_run_cleanly_and_keeps_what_was_paid_for()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => Distinct(n, labels), tokensPerCall: 1000);
        var store = new MemoryGenerationStore();
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 50, Oversample: 3, Concurrency: 1, BudgetTokens: 4_500),
            store, NullGenerationObserver.Instance, CancellationToken.None);

        Assert.Equal((RunOutcome.StoppedShort, ShortReason.Budget), (summary.Outcome, summary.End.Reason));
        Assert.Equal("Run.Short.Budget", summary.End.Note!.Code);
        Assert.Equal(["請求 3/50, 配送 3/50", "94"], summary.End.Note.Args);
        Assert.Equal(3, client.Calls);
        Assert.Equal(6, summary.Accepted);
        Assert.Equal(6, store.Candidates.Count(c => c.Stage == CandidateStage.Selected));
        Assert.All(summary.End.Shortfalls, s => Assert.Equal((3, 50, ShortReason.Budget), (s.Selected, s.Target, s.Reason)));
        Assert.Equal(summary.End, store.End);
    }

    [Fact]
    public async Task A_label_the_model_never_writes_ends_the_run_with_a_reason_instead_of_looping()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => $"{{\"請求\": \"請求について{n}回目の質問があります、番号{n * 13}。\"}}");
        var store = new MemoryGenerationStore();
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 2, Oversample: 1, Concurrency: 2), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        Assert.Equal((RunOutcome.StoppedShort, ShortReason.Unusable), (summary.Outcome, summary.End.Reason));
        Assert.Contains("配送 0/2", summary.StopReason);
        Assert.Equal(new LabelShortfall("配送", 0, 2, ShortReason.Unusable), Assert.Single(summary.End.Shortfalls));
        // 配送 is given up after DefaultStallAfter answers in a row without it, plus what was in flight then.
        Assert.InRange(client.Calls, GenerationEngine.DefaultStallAfter, GenerationEngine.DefaultStallAfter + 2);
        Assert.Equal(2, store.Candidates.Count(c => c.Label == "請求" && c.Stage == CandidateStage.Selected));
    }

    [Fact]
    public async Task A_resumed_run_only_generates_the_shortfall_of_its_current_round()
    {
        string[] labels = ["請求", "配送"];
        var store = new MemoryGenerationStore();
        // First life: cancelled after three calls.
        using (var cts = new CancellationTokenSource())
        {
            var first = new ScriptedLlmClient((n, _) =>
            {
                // Cancel while answering the third call: that answer is still processed, the fourth call is not made.
                if (n == 3) cts.Cancel();
                return Distinct(n, labels);
            }, latency: TimeSpan.FromMilliseconds(20));
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Engine().RunAsync(Spec(labels), first, Profile,
                new GenerationSettings(PerLabel: 4, Oversample: 2, Concurrency: 1), store, NullGenerationObserver.Instance, cts.Token));
        }
        var kept = store.Candidates.Count;
        Assert.Equal(6, kept);

        var second = new ScriptedLlmClient((n, _) => Distinct(n + 1000, labels));
        var summary = await Engine().RunAsync(Spec(labels), second, Profile, new GenerationSettings(PerLabel: 4, Oversample: 2, Concurrency: 1), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        Assert.Equal(RunOutcome.Completed, summary.Outcome);
        Assert.Equal(5, second.Calls);
        Assert.Equal(16, store.Candidates.Count);
        Assert.Equal(8, store.Candidates.Count(c => c.Stage == CandidateStage.Selected));
        Assert.Equal(16, store.Candidates.Select(c => c.Text).Distinct().Count());
    }

    [Fact]
    public async Task An_endpoint_that_never_answers_fails_the_run_at_the_first_failed_call_with_its_error()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => throw new LlmException("The LLM endpoint answered 500 (InternalServerError) after 3 attempts: boom", 500));
        var store = new MemoryGenerationStore();
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 2, Oversample: 1, Concurrency: 1), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        Assert.Equal((RunOutcome.Failed, RunFailure.Unreachable, false), (summary.Outcome, summary.End.Failure, summary.End.Answered));
        Assert.Equal("Run.Failed.Unreachable", summary.End.Note!.Code);
        Assert.Contains("boom", summary.StopReason);
        Assert.Equal(1, summary.FailedCalls);
        Assert.Equal(1, client.Calls);
        Assert.Empty(store.Candidates);
    }

    // ---- proportional generation (docs/decisions/0021-proportional-generation.md) ---------------------------------

    /// <summary>A run of the engine on <paramref name="labels"/> into a memory store (or <paramref name="store"/>).</summary>
    private static Task<GenerationSummary> RunAsync(string[] labels, ILlmClient client, GenerationSettings settings, IGenerationStore? store = null,
        IGenerationObserver? observer = null) =>
        Engine().RunAsync(Spec(labels), client, Profile, settings, store ?? new MemoryGenerationStore(), observer ?? NullGenerationObserver.Instance, CancellationToken.None);

    private static string[] AskedLabels(LlmRequest r, string[] labels) => [.. Incubator.Tests.Fakes.FakeOpenAiServer.AskedLabels(r.System, labels)];

    [Fact]
    public async Task Once_a_label_is_full_later_calls_stop_asking_for_it_and_nothing_beyond_its_pool_is_kept()
    {
        string[] labels = ["請求", "配送", "解約"];
        // The model writes 請求 and 配送 every time but 解約 only every third call: 請求 and 配送 fill first.
        var client = new ScriptedLlmClient((n, r) =>
        {
            var asked = AskedLabels(r, labels);
            var written = labels.Where(l => l != "解約" || n % 3 == 0).ToArray();
            // It writes what it wants, whatever it was asked: extra keys are the engine's problem.
            return "{" + string.Join(", ", written.Select(l => $"\"{l}\": \"{FakeSamples.Sentence(n, Array.IndexOf(labels, l))}\"")) + "}";
        });
        var store = new MemoryGenerationStore();
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 4, Oversample: 2, Concurrency: 1) { StallAfter = 20 }, store);

        Assert.Equal(RunOutcome.Completed, summary.Outcome);
        var asked = client.Requests.Select(r => AskedLabels(r, labels)).ToList();
        // Calls 1-8 ask for all three; 請求 and 配送 are full after call 8; from then on 解約 is asked for alone.
        Assert.All(asked.Take(8), a => Assert.Equal(labels, a));
        Assert.All(asked.Skip(8), a => Assert.Equal(["解約"], a));
        Assert.True(asked.Count > 8, $"{asked.Count} calls");
        Assert.Contains("none of the other labels (\"請求\", \"配送\")", client.Requests.Last().System);
        // 解約 is written every third call: 8 samples need 24 calls. Nothing beyond each pool (8) is kept.
        Assert.Equal(24, client.Calls);
        foreach (var label in labels)
        {
            Assert.Equal(8, store.Candidates.Count(c => c.Label == label));
            Assert.Equal(4, store.Candidates.Count(c => c.Label == label && c.Stage == CandidateStage.Selected));
        }
        Assert.Equal(2 * (24 - 8), summary.Surplus);
        Assert.Equal(2 * (24 - 8), store.Surplus);
        Assert.Empty(store.Rejected);
    }

    [Fact]
    public async Task A_label_is_selected_as_soon_as_its_pool_is_full_while_the_others_still_fill()
    {
        string[] labels = ["請求", "配送"];
        var progress = new List<GenerationProgress>();
        var observer = new RecordingObserver(progress);
        // 配送 comes every other call, so 請求 (goal 4) is full after call 4 while 配送 has 2.
        var client = new ScriptedLlmClient((n, r) => AskedLabels(r, labels).Contains("配送") && n % 2 == 0 ? FakeSamples.Answer(n, labels)
            : $"{{\"請求\": \"{FakeSamples.Sentence(n, 0)}\"}}");
        var store = new MemoryGenerationStore();
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 2, Oversample: 2, Concurrency: 1), store, observer);

        Assert.Equal(RunOutcome.Completed, summary.Outcome);
        // The first report where 請求 shows 2 selected still has 配送 filling: selection did not wait for the other label.
        var first = progress.First(p => p.Selected["請求"] == 2);
        Assert.Equal(0, first.Selected["配送"]);
        Assert.Equal(0, first.Goal["請求"]);
        Assert.Equal(4, first.Goal["配送"]);
        Assert.InRange(first.Pool["配送"], 1, 3);
        Assert.InRange(first.Fraction, 0.5, 0.99);
        Assert.Equal(4 - first.Pool["配送"], first.Missing);
        Assert.Equal(1.0, progress[^1].Fraction);
        Assert.Equal(0, progress[^1].Missing);
        // Ranks follow the selection order within each label.
        foreach (var label in labels)
            Assert.Equal([0, 1], store.Candidates.Where(c => c.Label == label && c.Stage == CandidateStage.Selected).Select(c => c.SpreadRank).Order());
    }

    [Fact]
    public async Task A_label_written_in_only_a_few_ways_is_selected_from_what_it_has_and_the_run_stops_short_with_repeats()
    {
        string[] labels = ["請求", "配送"];
        // 配送 is written in three ways only; 請求 is always new.
        var client = new ScriptedLlmClient((n, r) => $"{{\"請求\": \"{FakeSamples.Sentence(n, 0)}\", \"配送\": \"{FakeSamples.Sentence(n % 3 + 1, 1)}\"}}");
        var store = new MemoryGenerationStore();
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 5, Oversample: 3, Concurrency: 1), store);

        Assert.Equal((RunOutcome.StoppedShort, ShortReason.Repeats), (summary.Outcome, summary.End.Reason));
        Assert.Equal(new LabelShortfall("配送", 3, 5, ShortReason.Repeats), Assert.Single(summary.End.Shortfalls));
        Assert.Equal("Run.Short.Repeats", summary.End.Note!.Code);
        Assert.Equal(["配送 3/5", "2"], summary.End.Note.Args);
        Assert.Equal(3, store.Candidates.Count(c => c.Label == "配送" && c.Stage == CandidateStage.Selected));
        Assert.Equal(5, store.Candidates.Count(c => c.Label == "請求" && c.Stage == CandidateStage.Selected));
        // 配送 stops being asked for after DefaultStallAfter answers without anything new: 3 new ones, then 8 repeats.
        // 請求 fills its pool of 15 by then only if it needs as many calls; the run never pays for more than both.
        Assert.Equal(Math.Max(15, 3 + GenerationEngine.DefaultStallAfter), client.Calls);
    }

    [Fact]
    public async Task The_oversampling_factor_is_a_target_a_label_that_stops_growing_with_enough_samples_is_complete()
    {
        string[] labels = ["請求", "配送"];
        // 配送 has 4 ways: fewer than its pool target (2 × 3 = 6) but more than the 2 it needs.
        var client = new ScriptedLlmClient((n, r) => $"{{\"請求\": \"{FakeSamples.Sentence(n, 0)}\", \"配送\": \"{FakeSamples.Sentence(n % 4 + 1, 1)}\"}}");
        var store = new MemoryGenerationStore();
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 2, Oversample: 3, Concurrency: 1), store);

        Assert.Equal(RunOutcome.Completed, summary.Outcome);
        Assert.Empty(summary.End.Shortfalls);
        Assert.Equal(2, store.Candidates.Count(c => c.Label == "配送" && c.Stage == CandidateStage.Selected));
        Assert.Equal(2, store.Candidates.Count(c => c.Label == "配送" && c.Stage == CandidateStage.Reserve));
    }

    [Fact]
    public async Task Answers_that_hold_nothing_usable_fail_the_run_as_no_usable_output_not_stopped_short()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => "申し訳ありませんが、お手伝いできません。");
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 2, Oversample: 1, Concurrency: 2));

        Assert.Equal((RunOutcome.Failed, RunFailure.NoUsableOutput), (summary.Outcome, summary.End.Failure));
        Assert.Equal("Run.Failed.NoOutput", summary.End.Note!.Code);
        Assert.Equal([summary.Calls.ToString(System.Globalization.CultureInfo.InvariantCulture)], summary.End.Note.Args);
        Assert.InRange(client.Calls, GenerationEngine.DefaultStallAfter, GenerationEngine.DefaultStallAfter + 1);
    }

    [Fact]
    public async Task Samples_that_all_repeat_what_the_task_has_stop_the_run_short_not_successful()
    {
        string[] labels = ["請求", "配送"];
        var store = new MemoryGenerationStore();
        // The first run keeps one answer's samples; the second gets that same answer every time.
        var first = await RunAsync(labels, new ScriptedLlmClient((_, _) => Distinct(1, labels)), new GenerationSettings(PerLabel: 1, Oversample: 1, Concurrency: 1), store);
        Assert.Equal(RunOutcome.Completed, first.Outcome);

        var again = new MemoryGenerationStore();
        foreach (var c in store.Candidates) await again.AddCandidateAsync(c.Label, c.Text, TextNormalizer.Normalize(c.Text), 0, false, CancellationToken.None);
        var known = (await again.LoadAsync(CancellationToken.None)).Known.Count;
        var summary = await RunAsync(labels, new ScriptedLlmClient((_, _) => Distinct(1, labels)), new GenerationSettings(PerLabel: 3, Oversample: 1, Concurrency: 1), new DuplicateOnlyStore(again));

        Assert.Equal(2, known);
        Assert.Equal((RunOutcome.StoppedShort, ShortReason.Repeats), (summary.Outcome, summary.End.Reason));
        Assert.Equal(0, summary.Accepted);
        Assert.Equal(summary.Calls * 2, summary.RejectedByReason[RejectReason.Duplicate]);
        Assert.Equal([new LabelShortfall("請求", 0, 3, ShortReason.Repeats), new LabelShortfall("配送", 0, 3, ShortReason.Repeats)], summary.End.Shortfalls);
    }

    [Fact]
    public async Task An_endpoint_that_goes_away_mid_run_makes_the_run_wait_and_it_resumes_by_itself_when_it_answers_again()
    {
        string[] labels = ["請求", "配送"];
        var waits = new List<EndpointWaiting?>();
        var observer = new RecordingObserver([], waits);
        // Calls 3 to 5 find the endpoint gone (no answer, as after retries); then it is back.
        var client = new ScriptedLlmClient((n, _) => n is >= 3 and <= 5
            ? throw new LlmException("Could not reach the LLM endpoint after 5 attempts: Connection refused (127.0.0.1:9)")
            : Distinct(n, labels));
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 3, Oversample: 2, Concurrency: 2) { EndpointWait = TimeSpan.FromSeconds(4) },
            observer: observer);

        Assert.Equal(RunOutcome.Completed, summary.Outcome);
        Assert.Equal(3, summary.FailedCalls);
        // Told once per failed call while away (each with the last error and the limit), then once that it answers again.
        Assert.Equal(4, waits.Count);
        Assert.All(waits.Take(3), w => Assert.Equal(("Could not reach the LLM endpoint after 5 attempts: Connection refused (127.0.0.1:9)", TimeSpan.FromSeconds(4)), (w!.LastError, w.Limit)));
        Assert.Null(waits[^1]);
        // While away the run tries one call at a time: no two failed calls were in flight together after the first.
        Assert.Equal(6 + 3, client.Calls);
    }

    [Fact]
    public async Task An_endpoint_that_stays_away_longer_than_the_run_waits_fails_the_run_with_the_last_error()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => n >= 2
            ? throw new LlmException("The LLM endpoint answered 503 (ServiceUnavailable) after 5 attempts: overloaded", 503)
            : Distinct(n, labels));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 3, Oversample: 2, Concurrency: 1) { EndpointWait = TimeSpan.FromSeconds(1) });

        Assert.Equal((RunOutcome.Failed, RunFailure.Unreachable, true), (summary.Outcome, summary.End.Failure, summary.End.Answered));
        Assert.Equal("Run.Failed.Gone", summary.End.Note!.Code);
        Assert.Equal(["The LLM endpoint answered 503 (ServiceUnavailable) after 5 attempts: overloaded", "1"], summary.End.Note.Args);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"gave up after {clock.Elapsed}");
        // What the one answer brought is kept and selected: the run failed, the samples it paid for did not.
        Assert.Equal(2, summary.Selected);
        Assert.All(summary.End.Shortfalls, s => Assert.Equal(ShortReason.Failure, s.Reason));
    }

    [Fact]
    public async Task Refused_credentials_fail_the_run_at_once_even_after_answers()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => n >= 2 ? throw new LlmException("The LLM endpoint answered 401 (Unauthorized): Incorrect API key provided.", 401) : Distinct(n, labels));
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 3, Oversample: 2, Concurrency: 1));

        Assert.Equal((RunOutcome.Failed, RunFailure.AuthRefused), (summary.Outcome, summary.End.Failure));
        Assert.Equal(["The LLM endpoint answered 401 (Unauthorized): Incorrect API key provided."], summary.End.Note!.Args);
        Assert.Equal(2, client.Calls);
    }

    [Fact]
    public void The_estimate_gives_an_expected_and_a_worst_case_and_the_cap_grows_with_a_raised_budget()
    {
        string[] labels = ["請求", "配送"];
        var settings = new GenerationSettings(PerLabel: 20, Oversample: 3);
        var e = Engine().Estimate(Spec(labels), settings, Profile);

        Assert.Equal((int)Math.Ceiling(20 * 3 * 1.15), e.Calls);
        Assert.Equal((int)Math.Ceiling(e.Calls * GenerationEngine.WorstCaseFactor), e.WorstCalls);
        Assert.Equal(e.WorstCalls * (e.InputTokens / e.Calls), e.WorstInputTokens);
        Assert.Equal(e.WorstTokens, e.DefaultBudgetTokens);
        Assert.True(e.WorstCost > e.Cost);
        Assert.Equal(e.WorstCalls, GenerationEngine.CallCap(e, settings));
        Assert.Equal(e.WorstCalls, GenerationEngine.CallCap(e, settings with { BudgetTokens = e.DefaultBudgetTokens / 2 }));
        Assert.Equal(e.WorstCalls * 2, GenerationEngine.CallCap(e, settings with { BudgetTokens = e.DefaultBudgetTokens * 2 }));
        Assert.Equal(7, GenerationEngine.CallCap(e, settings with { MaxCalls = 7 }));
    }

    [Fact]
    public async Task The_call_cap_stops_the_run_short_with_cap_as_the_reason()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => Distinct(n, labels));
        var summary = await RunAsync(labels, client, new GenerationSettings(PerLabel: 5, Oversample: 1, Concurrency: 2) { MaxCalls = 3 });

        Assert.Equal((RunOutcome.StoppedShort, ShortReason.Cap), (summary.Outcome, summary.End.Reason));
        Assert.Equal(3, client.Calls);
        Assert.Equal(["請求 3/5, 配送 3/5", "4", "3"], summary.End.Note!.Args);
    }

    private sealed class RecordingObserver(List<GenerationProgress> progress, List<EndpointWaiting?>? waits = null) : IGenerationObserver
    {
        public Task SampleAcceptedAsync(Guid id, string label, string text, int round, bool ambiguous) => Task.CompletedTask;

        public Task SampleRejectedAsync(RejectedPiece piece, int round) => Task.CompletedTask;

        public Task ProgressAsync(GenerationProgress p)
        {
            lock (progress) progress.Add(p);
            return Task.CompletedTask;
        }

        public Task EndpointAsync(EndpointWaiting? waiting)
        {
            lock (progress) waits?.Add(waiting);
            return Task.CompletedTask;
        }
    }

    /// <summary>A memory store whose known samples belong to another run (as the task's earlier samples do in the
    /// database), so they take part in dedup but not in this run's counts.</summary>
    private sealed class DuplicateOnlyStore(MemoryGenerationStore inner) : IGenerationStore
    {
        public async Task<GenerationState> LoadAsync(CancellationToken ct)
        {
            var state = await inner.LoadAsync(ct);
            return state with { Known = state.Known.Select(k => k with { FromThisRun = false }).ToList() };
        }

        public Task<Guid> AddCandidateAsync(string label, string text, string normalizedText, int round, bool ambiguous, CancellationToken ct) =>
            inner.AddCandidateAsync(label, text, normalizedText, round, ambiguous, ct);

        public Task AddRejectedAsync(RejectedPiece piece, int round, CancellationToken ct) => inner.AddRejectedAsync(piece, round, ct);

        public Task MarkAmbiguousAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct) => inner.MarkAmbiguousAsync(ids, ct);

        public Task<(long InputTokens, long OutputTokens, decimal Cost)> RecordCallAsync(LlmUsage usage, decimal cost, bool failed, int surplus, CancellationToken ct) =>
            inner.RecordCallAsync(usage, cost, failed, surplus, ct);

        public Task CompleteSelectionAsync(string label, DiversitySelectionIds selection, RoundStats stats, CancellationToken ct) =>
            inner.CompleteSelectionAsync(label, selection, stats, ct);

        public Task FinishAsync(RunEnd end, CancellationToken ct) => inner.FinishAsync(end, ct);
    }
}
