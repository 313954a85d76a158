using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Benchmarks;

/// <summary>Bench only (decision 0032, amendment rank17): which mined texts come first. Per set the training split is the
/// unlabelled pool (truth only printed) and the miner selects `--per-label` 25 and 100 (margin rule as shipped) with each
/// <see cref="MiningOrder"/>: by the best label's similarity (shipped for character n-grams), by the margin over the
/// runner-up (shipped for MiniLM since decision 0032's amendment st19), by the best
/// label's probability in the raw-cosine view (softmax at <see cref="MiningScorer.ProbabilityTemperature"/>). The value
/// is the share of the selected candidates whose mined label is the true one, baseline the similarity order's. Sets:
/// the self-training benchmark's tasks (SST-2, cr, subj, tweeteval_emotion, dbpedia; chABSA on character n-grams), and
/// sms_spam with <see cref="SmsSpamSpec"/>. INCUBATOR_BENCH_DATASETS picks sets; INCUBATOR_BENCH_VECTOR_CACHE keeps vectors.</summary>
internal sealed class MiningOrderBenchmark : IBenchmark
{
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;
    private static readonly int[] PerLabel = [25, 100];

    /// <summary>SMS spam has no task.json; this is the task as a user would write it, written once for this bench and not
    /// tuned to any number.</summary>
    internal static readonly TaskSpec SmsSpamSpec = new()
    {
        Name = "SMS spam",
        Instruction = "Classify each SMS text message as spam or as an ordinary message (ham).",
        Labels =
        [
            new LabelSpec { Name = "ham", Description = "An ordinary personal message between people who know each other: plans, replies, news, chat." },
            new LabelSpec { Name = "spam", Description = "Unsolicited advertising or fraud: prizes, offers, competitions, asking to call a number, text a code or click a link." },
        ],
        Preferences = new TaskPreferences { Language = "en" },
    };

    public string Name => "mining.order";

    public string Description => "mined candidates' precision (per label 25 and 100) ordered by similarity (shipped for character n-grams), margin (shipped for MiniLM), or the raw view's probability";

    public Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct) => Task.Run(() => Run(ct), ct);

    private async Task<IReadOnlyList<BenchmarkRow>> Run(CancellationToken ct)
    {
        var root = SharedDatasets.Find();
        if (root is null) return [new BenchmarkRow(Name, "skipped", 0, "", null, "../shared/datasets not found (set INCUBATOR_DATASETS)")];
        var rows = new List<BenchmarkRow>();
        using var miniLm = new MiniLmEmbedder();
        var charNgrams = new CharNgramEmbedder();
        // The self-training bench's sets and pools (sms_spam with SmsSpamSpec among them).
        foreach (var (name, spec, _, embedder, _, _, pool, vectors, truth, _) in SelfTrainingBenchmark.Pools(root, miniLm, charNgrams, ct))
        {
            var clock = Stopwatch.StartNew();
            var scorer = new MiningScorer(spec, embedder);
            for (var i = 0; i < pool.Count; i++) scorer.Add(i, vectors[i]);
            var labels = spec.Labels.Select(l => l.Name).ToList();
            var priors = string.Join("/", labels.Select(l => (pool.Count(t => truth[t] == l) / (double)pool.Count).ToString("0.00", C)));
            foreach (var n in PerLabel)
            {
                double? baseline = null;
                foreach (var order in Enum.GetValues<MiningOrder>())
                {
                    var mined = await scorer.SelectAsync(n, MiningService.DefaultMargin,
                        ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => pool[i])), _ => false, order);
                    var precision = mined.Count(m => truth[m.Text] == m.Label) / (double)Math.Max(1, mined.Count);
                    var perLabel = string.Join(", ", labels.Select(l => mined.Count(m => m.Label == l) is var k and > 0
                        ? string.Create(C, $"{l} {mined.Count(m => m.Label == l && truth[m.Text] == l) / (double)k:0.00} of {k}") : $"{l} none"));
                    rows.Add(new BenchmarkRow(Name, $"{name}: precision of --per-label {n}, by {order.ToString().ToLowerInvariant()}", precision, "ratio", baseline,
                        string.Create(C, $"{(baseline is null ? "" : "baseline: by similarity; ")}{(order == scorer.Order ? "shipped order for this scorer; " : "")}{mined.Count} candidates from {pool.Count:N0} pool texts ({embedder.Name}, margin {MiningService.DefaultMargin}); per label {perLabel}; true pool shares {priors}; {clock.Elapsed.TotalSeconds:0} s")));
                    baseline ??= precision;
                }
            }
        }
        return rows.Count > 0 ? rows : [new BenchmarkRow(Name, "skipped", 0, "", null, "no set with a task found")];
    }
}
