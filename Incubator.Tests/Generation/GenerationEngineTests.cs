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
            // 4: exact duplicate of call 1's first sample (same label) and a fresh one
            Distinct(1, labels).Replace("\"配送\"", "\"x\"").Replace("\"x\"", "\"配送\"").Replace($"{1 * 7 + 1}番目", "999番目"),
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

        Assert.Equal("The budget was reached.", summary.StopReason);
        Assert.Equal(3, client.Calls);
        Assert.Equal(6, summary.Accepted);
        Assert.Equal(6, store.Candidates.Count(c => c.Stage == CandidateStage.Selected));
        Assert.Equal("The budget was reached.", store.StopReason);
    }

    [Fact]
    public async Task A_label_the_model_never_writes_ends_the_run_with_a_reason_instead_of_looping()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => $"{{\"請求\": \"請求について{n}回目の質問があります、番号{n * 13}。\"}}");
        var store = new MemoryGenerationStore();
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 2, Oversample: 1, Concurrency: 2), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        Assert.NotNull(summary.StopReason);
        Assert.Contains("配送", summary.StopReason);
        Assert.True(client.Calls <= GenerationEngine.MaxCallsPerNeededSample * 2 + 2, $"{client.Calls} calls");
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

        Assert.Null(summary.StopReason);
        Assert.Equal(5, second.Calls);
        Assert.Equal(16, store.Candidates.Count);
        Assert.Equal(8, store.Candidates.Count(c => c.Stage == CandidateStage.Selected));
        Assert.Equal(16, store.Candidates.Select(c => c.Text).Distinct().Count());
    }

    [Fact]
    public async Task A_model_that_keeps_failing_stops_the_run_with_its_error_instead_of_retrying_forever()
    {
        string[] labels = ["請求", "配送"];
        var client = new ScriptedLlmClient((n, _) => throw new LlmException("The LLM endpoint answered 500 (InternalServerError) after 3 attempts: boom", 500));
        var store = new MemoryGenerationStore();
        var summary = await Engine().RunAsync(Spec(labels), client, Profile, new GenerationSettings(PerLabel: 2, Oversample: 1, Concurrency: 1), store,
            NullGenerationObserver.Instance, CancellationToken.None);

        Assert.NotNull(summary.StopReason);
        Assert.Contains("boom", summary.StopReason);
        Assert.Equal(5, summary.FailedCalls);
        Assert.Equal(5, client.Calls);
        Assert.Empty(store.Candidates);
    }
}
