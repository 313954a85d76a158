using System.Globalization;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Generation;
using Incubator.Domain.Llm;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Labelling;

/// <summary>What one text of a batch became: a label, "none of these", or rejected with a reason.</summary>
public sealed record TextVerdict(int Ordinal, string? Label, bool NoneOfThese, LabelRejectReason? Rejected, string? Detail);

/// <summary>One answer read: a verdict for every text of the batch (in batch order) and the pieces that belonged to no
/// text (an unknown id, a repeated id, unreadable text).</summary>
public sealed record BatchResult(IReadOnlyList<TextVerdict> Texts, IReadOnlyList<(LabelRejectReason Reason, string Detail)> Pieces)
{
    /// <summary>Every rejected piece by reason: the texts' and the loose pieces'.</summary>
    public IEnumerable<LabelRejectReason> Rejections =>
        Texts.Where(t => t.Rejected is not null).Select(t => t.Rejected!.Value).Concat(Pieces.Select(p => p.Reason));
}

/// <param name="Calls">Batches, one call each.</param>
/// <param name="DefaultBudgetTokens">The budget a run gets when its author sets none: twice the expected tokens.</param>
public sealed record LabellingEstimate(int Texts, int Calls, long InputTokens, long OutputTokens, decimal Cost, long DefaultBudgetTokens)
{
    public long Tokens => InputTokens + OutputTokens;
}

/// <summary>The LLM labels texts in batches: the prompt (the task's labels and several numbered texts), the answer's
/// reading (one JSON object, id → label, read with the generation's tolerant <see cref="OutputParser"/>), the estimate,
/// and the stratified choice of texts by the miner's labels. No I/O: the job and the `label` verb share it.</summary>
public static class CorpusLabeller
{
    public const int DefaultBatchSize = 20;
    public const int MaxBatchSize = 100;

    /// <summary>What the LLM writes when no label fits. A label of the task with one of these names wins over it.</summary>
    public static readonly string[] NoneWords = ["none", "none of these", "none of the above", "n/a"];

    /// <summary>Output tokens per text: the id, the label and the JSON around them.</summary>
    private const int OutputTokensPerText = 8;

    /// <summary>The system message: the task and its labels, and the answer's form.</summary>
    public static string SystemPrompt(TaskSpec spec)
    {
        var sb = new StringBuilder();
        sb.AppendLine("You label texts for a text classification task.");
        sb.Append("Task: ").AppendLine(spec.Instruction.Trim());
        sb.AppendLine("Labels:");
        foreach (var l in spec.Labels)
        {
            sb.Append("- ").Append(l.Name);
            if (!string.IsNullOrWhiteSpace(l.Description)) sb.Append(": ").Append(l.Description.Trim());
            sb.AppendLine();
            foreach (var e in l.Examples.Take(2)) sb.Append("  example: ").AppendLine(JsonSerializer.Serialize(e));
        }
        sb.AppendLine("You get a JSON object of numbered texts. Answer with ONE JSON object and nothing else: its keys are exactly the "
            + "numbers you were given, each value is exactly one label name from the list above, or \"none\" when no label fits the text.");
        return sb.ToString();
    }

    /// <summary>The user message: the batch's texts as a JSON object keyed "1", "2", … (escaped, so a text cannot break it).</summary>
    public static string UserPrompt(IReadOnlyList<string> texts)
    {
        var numbered = new Dictionary<string, string>();
        for (var i = 0; i < texts.Count; i++) numbered[(i + 1).ToString(CultureInfo.InvariantCulture)] = texts[i];
        return "Label these texts:\n" + JsonSerializer.Serialize(numbered, new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    public static LlmRequest Request(TaskSpec spec, IReadOnlyList<string> texts, LlmProfile profile) =>
        new(SystemPrompt(spec), UserPrompt(texts), JsonMode: true, Temperature: 0,
            MaxOutputTokens: Math.Max(profile.MaxOutputTokens, texts.Count * OutputTokensPerText + 32));

    /// <summary>Reads an answer for the batch whose texts have <paramref name="ordinals"/> (id n is ordinals[n-1]).</summary>
    public static BatchResult Parse(string answer, IReadOnlyList<int> ordinals, IReadOnlyList<string> labelNames)
    {
        var ids = Enumerable.Range(1, ordinals.Count).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        var parsed = OutputParser.Parse(answer, ids);
        var labels = new LabelMatcher(labelNames);
        var none = new LabelMatcher(NoneWords);
        var verdicts = new TextVerdict?[ordinals.Count];
        var pieces = new List<(LabelRejectReason, string)>();
        foreach (var p in parsed.Accepted)
        {
            var k = int.Parse(p.Label, CultureInfo.InvariantCulture) - 1;
            if (verdicts[k] is not null) continue; // the parser already reports a repeated id
            if (labels.Match(p.Text) is { } label) verdicts[k] = new TextVerdict(ordinals[k], label, false, null, null);
            else if (none.Match(p.Text) is not null) verdicts[k] = new TextVerdict(ordinals[k], null, true, null, null);
            else verdicts[k] = new TextVerdict(ordinals[k], null, false, LabelRejectReason.UnknownLabel, p.Text);
        }
        foreach (var r in parsed.Rejected)
        {
            var reason = r.Reason switch
            {
                RejectReason.UnknownLabel => LabelRejectReason.UnknownId,
                RejectReason.Duplicate => LabelRejectReason.Duplicate,
                _ => LabelRejectReason.Malformed,
            };
            // A value for a known id that could not be read is that text's verdict; everything else is a loose piece.
            if (r.Label is { } id && reason == LabelRejectReason.Malformed && int.Parse(id, CultureInfo.InvariantCulture) - 1 is var k && verdicts[k] is null)
                verdicts[k] = new TextVerdict(ordinals[k], null, false, reason, r.Detail);
            else
                pieces.Add((reason, reason == LabelRejectReason.UnknownId ? r.Detail : $"{r.Detail} {r.Text}".Trim()));
        }
        for (var k = 0; k < verdicts.Length; k++)
            verdicts[k] ??= new TextVerdict(ordinals[k], null, false, LabelRejectReason.MissingId, ids[k]);
        return new BatchResult(verdicts!, pieces);
    }

    /// <summary>Calls, tokens and cost for labelling <paramref name="texts"/> texts of <paramref name="averageChars"/>
    /// characters in batches of <paramref name="batchSize"/> (chars/4 tokens: an estimate, and labelled as one).</summary>
    public static LabellingEstimate Estimate(TaskSpec spec, int texts, double averageChars, int batchSize, LlmProfile profile)
    {
        var calls = texts == 0 ? 0 : (int)Math.Ceiling(texts / (double)batchSize);
        var system = LlmCost.EstimateTokenCount(SystemPrompt(spec)) + 10;
        var perText = (long)Math.Ceiling(averageChars / LlmCost.CharsPerToken) + 4;
        var input = calls * (long)system + texts * perText;
        var output = texts * (long)OutputTokensPerText + calls * 4L;
        var cost = LlmCost.Cost(new LlmUsage((int)Math.Min(int.MaxValue, input), (int)Math.Min(int.MaxValue, output), true), profile);
        return new LabellingEstimate(texts, calls, input, output, cost, Math.Max(1000, 2 * (input + output)));
    }

    /// <summary>Which texts to label. <paramref name="probabilities"/>: the miner's view of each text (in
    /// <paramref name="ordinals"/>' order) over <paramref name="labels"/>; a text's miner label is its most probable one.
    /// With no <paramref name="limit"/> (or one at least the corpus): every text, in corpus order. Otherwise a sample
    /// stratified by the miner's label — each label's share of the corpus, at least one text for every label the miner
    /// gave, spread evenly from its most to its least confident texts (not its easiest N) — ordered so that every prefix
    /// is spread over the labels too (a run stopped short by its budget has labelled a fair slice).</summary>
    public static IReadOnlyList<SampleItem> Choose(IReadOnlyList<int> ordinals, IReadOnlyList<float[]> probabilities, IReadOnlyList<string> labels, int? limit)
    {
        var best = new (int Ordinal, int Label, float Confidence)[ordinals.Count];
        for (var i = 0; i < ordinals.Count; i++)
        {
            var p = probabilities[i];
            var arg = 0;
            for (var j = 1; j < p.Length; j++) if (p[j] > p[arg]) arg = j;
            best[i] = (ordinals[i], arg, p[arg]);
        }
        if (limit is not { } n || n >= ordinals.Count) return best.Select(b => new SampleItem(b.Ordinal, labels[b.Label])).ToList();
        if (n <= 0) return [];

        var groups = best.GroupBy(b => b.Label).Select(g => g.OrderByDescending(b => b.Confidence).ThenBy(b => b.Ordinal).ToList())
            .OrderBy(g => g[0].Label).ToList();
        // Largest remainder over the labels' shares, each label the miner used getting one first when there is room.
        var quota = groups.Select(g => n >= groups.Count ? 1 : 0).ToArray();
        var left = n - quota.Sum();
        var exact = groups.Select((g, i) => Math.Max(0, (double)g.Count / ordinals.Count * n - quota[i])).ToArray();
        var floor = exact.Select((e, i) => Math.Min((int)Math.Floor(e), groups[i].Count - quota[i])).ToArray();
        for (var i = 0; i < groups.Count; i++) quota[i] += floor[i];
        left -= floor.Sum();
        foreach (var i in Enumerable.Range(0, groups.Count).OrderByDescending(i => exact[i] - Math.Floor(exact[i])).ThenByDescending(i => groups[i].Count))
        {
            if (left <= 0) break;
            if (quota[i] < groups[i].Count) { quota[i]++; left--; }
        }
        for (var i = 0; left > 0 && i < groups.Count; i++)
        {
            var add = Math.Min(left, groups[i].Count - quota[i]);
            quota[i] += add;
            left -= add;
        }
        var picked = new List<(double Position, int Label, SampleItem Item)>();
        for (var gi = 0; gi < groups.Count; gi++)
        {
            var g = groups[gi];
            for (var j = 0; j < quota[gi]; j++)
            {
                var at = (int)Math.Floor((j + 0.5) * g.Count / quota[gi]);
                picked.Add((RadicalInverse(j), g[at].Label, new SampleItem(g[at].Ordinal, labels[g[at].Label])));
            }
        }
        return picked.OrderBy(p => p.Position).ThenBy(p => p.Label).Select(p => p.Item).ToList();
    }

    /// <summary>0, ½, ¼, ¾, ⅛…: the j-th pick's place in the order, so a label's first picks span its confidence range.</summary>
    private static double RadicalInverse(int j)
    {
        double result = 0, f = 0.5;
        for (; j > 0; j >>= 1, f /= 2) if ((j & 1) == 1) result += f;
        return result;
    }
}
