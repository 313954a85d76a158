using Incubator.Domain.Embeddings;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Mining;

public sealed record MinedCandidate(string Label, int Ordinal, string Text, double Similarity, double Margin);

/// <summary>How <see cref="MiningScorer.Rank"/> orders each specific label's texts (those the margin rule gave it); the
/// other label is ordered by task similarity whatever this says. Each scorer has one default,
/// <see cref="MiningScorer.DefaultOrder"/>: <see cref="Margin"/> on MiniLM vectors, <see cref="Similarity"/> on character
/// n-grams (decision 0008; measured in decision 0032, amendments rank17 and st19). <see cref="Probability"/> is a
/// benchmark knob.</summary>
public enum MiningOrder
{
    /// <summary>The best label's cosine similarity, highest first.</summary>
    Similarity,
    /// <summary>The best label's lead over the runner-up (best − second similarity), largest first.</summary>
    Margin,
    /// <summary>The best label's probability in the raw-cosine view (softmax over the specific labels' similarities at
    /// <see cref="MiningScorer.ProbabilityTemperature"/>), highest first: for two labels the same order as the margin,
    /// for more it also counts how close the third and later labels come.</summary>
    Probability,
}

/// <summary>Scores corpus texts against a task's labels by cosine similarity, with no LLM.
/// Each specific label is a vector: its definition ("name: description", averaged with its examples) and, once there
/// are approved samples, blended half-and-half with their centroid. A text's best label wins it when the similarity to
/// that label beats the runner-up by at least the margin; per label the N such texts first in <see cref="Order"/> are
/// taken: the clearest (largest lead over the runner-up) on MiniLM vectors, the most similar on character n-grams
/// (<see cref="DefaultOrder"/>).
/// The <i>other</i> label (if the task has one) takes texts that are close to the task but far from every specific
/// label: texts whose similarity to each specific label is at or below that label's corpus average (z-score ≤ 0) and
/// whose similarity to the task (instruction and labels together) is above the corpus's 10th percentile (which keeps
/// texts off the task's topic out), closest to the task first.</summary>
public sealed class MiningScorer
{
    private readonly List<short> _best = [];
    private readonly List<float> _bestSim = [];
    private readonly List<float> _secondSim = [];
    private readonly List<float> _taskSim = [];
    private readonly List<int> _ordinals = [];
    private readonly List<float[]> _sims = [];
    private readonly float[][] _labelVectors;
    private readonly float[] _taskVector;

    /// <summary>A text whose similarity to some specific label is more than this many standard deviations above the
    /// corpus average for that label is in that label's territory and never an "other" candidate.</summary>
    internal const double OtherMaxZ = 0.0;

    /// <param name="approved">Approved sample texts per label name (may be empty).</param>
    /// <param name="promptEnsemble">Each label's definition is the mean of several prompts built from the task (the
    /// label's name, its description, "name: description", and the instruction followed by each of the last two), not
    /// "name: description" alone. Measured, not shipped (decision 0032, amendment "the teacher").</param>
    public MiningScorer(TaskSpec spec, ITextEmbedder embedder, IReadOnlyDictionary<string, IReadOnlyList<string>>? approved = null,
        double definitionWeight = 0.5, bool promptEnsemble = false)
    {
        Spec = spec;
        Order = DefaultOrder(embedder);
        Specific = spec.Labels.Where(l => !l.IsOther).ToArray();
        if (Specific.Length == 0) throw new ArgumentException("The task has no specific label to mine for.", nameof(spec));
        Other = spec.OtherLabel;
        _labelVectors = new float[Specific.Length][];
        ApprovedUsed = 0;
        for (var i = 0; i < Specific.Length; i++)
        {
            var label = Specific[i];
            var definition = promptEnsemble
                ? Mean(embedder.Embed(PromptEnsemble(spec.Instruction, label)))
                : embedder.Embed([$"{label.Name}: {label.Description}"])[0];
            if (label.Examples.Count > 0) definition = Blend(definition, Mean(embedder.Embed(label.Examples.ToArray())), 0.5);
            if (approved is not null && approved.TryGetValue(label.Name, out var texts) && texts.Count > 0)
            {
                definition = Blend(definition, Mean(embedder.Embed(texts.ToArray())), definitionWeight);
                ApprovedUsed += texts.Count;
            }
            _labelVectors[i] = definition;
        }
        var instruction = embedder.Embed([spec.Instruction])[0];
        _taskVector = Blend(instruction, Mean(_labelVectors), 0.5);
    }

    /// <summary>The prompts a label's definition averages when the scorer is built with <c>promptEnsemble</c>.</summary>
    internal static string[] PromptEnsemble(string instruction, LabelSpec label) =>
    [
        label.Name,
        label.Description,
        $"{label.Name}: {label.Description}",
        $"{instruction} {label.Name}",
        $"{instruction} {label.Name}: {label.Description}",
    ];

    public TaskSpec Spec { get; }

    /// <summary>The order <see cref="Rank"/> and <see cref="SelectAsync"/> use when not given one: <see cref="DefaultOrder"/>
    /// of the scorer's embedder.</summary>
    public MiningOrder Order { get; }

    /// <summary>The one definition of the mining order every path uses (the portal's mining job, `mine`, and through the
    /// mined seeds self-training): character n-grams rank by similarity, every other representation (MiniLM) by margin.
    /// Measured (decision 0032, amendment rank17): by margin the top 100 per label are right more often on all six English
    /// sets (SST-2 0.845 → 0.960, subj 0.545 → 0.790, sms_spam 0.775 → 0.945 …) and less often on chABSA's character
    /// n-grams (0.711 → 0.662).</summary>
    public static MiningOrder DefaultOrder(ITextEmbedder embedder) =>
        embedder.Name == CharNgramEmbedder.RepresentationName ? MiningOrder.Similarity : MiningOrder.Margin;

    public LabelSpec[] Specific { get; }

    public LabelSpec? Other { get; }

    public int ApprovedUsed { get; }

    public int Count => _ordinals.Count;

    public void Add(int ordinal, float[] vector)
    {
        short best = -1;
        double bestSim = double.NegativeInfinity, second = double.NegativeInfinity;
        for (short i = 0; i < _labelVectors.Length; i++)
        {
            var s = VectorMath.Dot(vector, _labelVectors[i]);
            if (s > bestSim)
            {
                second = bestSim;
                bestSim = s;
                best = i;
            }
            else if (s > second)
            {
                second = s;
            }
        }
        if (double.IsNegativeInfinity(second)) second = 0; // one specific label: its similarity is its own margin
        var sims = new float[_labelVectors.Length];
        for (var i = 0; i < sims.Length; i++) sims[i] = (float)VectorMath.Dot(vector, _labelVectors[i]);
        _sims.Add(sims);
        _ordinals.Add(ordinal);
        _best.Add(best);
        _bestSim.Add((float)bestSim);
        _secondSim.Add((float)second);
        _taskSim.Add((float)VectorMath.Dot(vector, _taskVector));
    }

    /// <summary>The temperature of <see cref="MiningOrder.Probability"/>: the raw-cosine view's
    /// (<c>SelfTrainingOptions.EnglishViewTemperature</c>).</summary>
    public const double ProbabilityTemperature = 0.05;

    /// <summary>Ranked (best first) ordinals per label, margin rule applied; the caller skips texts it must not repeat.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<(int Ordinal, double Similarity, double Margin)>> Rank(double margin, MiningOrder? order = null)
    {
        var by = order ?? Order;
        var result = new Dictionary<string, IReadOnlyList<(int, double, double)>>(StringComparer.Ordinal);
        for (var l = 0; l < Specific.Length; l++)
        {
            var list = new List<(int, double, double)>();
            var keys = new List<double>();
            for (var k = 0; k < _ordinals.Count; k++)
            {
                if (_best[k] != l) continue;
                var m = _bestSim[k] - _secondSim[k];
                if (m < margin) continue;
                list.Add((_ordinals[k], _bestSim[k], m));
                keys.Add(by switch
                {
                    MiningOrder.Margin => m,
                    MiningOrder.Probability => BestProbability(k),
                    _ => _bestSim[k],
                });
            }
            if (by == MiningOrder.Similarity)
            {
                list.Sort((a, b) => b.Item2.CompareTo(a.Item2));
                result[Specific[l].Name] = list;
            }
            else
            {
                result[Specific[l].Name] = Enumerable.Range(0, list.Count).OrderByDescending(i => keys[i]).Select(i => list[i]).ToList();
            }
        }
        if (Other is not null && _ordinals.Count > 1)
        {
            // Similarities are judged against the corpus, label by label: a text is "far from every specific label" when
            // its best z-score over the labels is low, and "close to the task" when its task similarity is high for
            // this corpus. Raw cosines would not do: MiniLM gives some labels' true texts lower raw similarity than
            // others' unrelated texts.
            var labelStats = Enumerable.Range(0, _labelVectors.Length).Select(l => MeanStd(_sims.Select(s => s[l]).ToList())).ToArray();
            var taskFloor = Quantile(_taskSim, 0.10);
            var list = new List<(int, double, double)>();
            for (var k = 0; k < _ordinals.Count; k++)
            {
                if (_taskSim[k] < taskFloor) continue;
                var maxZ = double.NegativeInfinity;
                for (var l = 0; l < _labelVectors.Length; l++) maxZ = Math.Max(maxZ, (_sims[k][l] - labelStats[l].Mean) / labelStats[l].Std);
                // Above this corpus's average similarity for some label: that label's territory, not "other".
                if (maxZ >= OtherMaxZ) continue;
                list.Add((_ordinals[k], _taskSim[k], -maxZ));
            }
            // Of the texts below average for every label, the ones closest to the task first.
            list.Sort((a, b) => b.Item2.CompareTo(a.Item2));
            result[Other.Name] = list;
        }
        return result;
    }

    /// <summary>The best label's share of a softmax over text <paramref name="k"/>'s similarities to the specific labels at
    /// <see cref="ProbabilityTemperature"/>.</summary>
    private double BestProbability(int k)
    {
        var sum = 0.0;
        foreach (var s in _sims[k]) sum += Math.Exp((s - _bestSim[k]) / ProbabilityTemperature);
        return 1 / sum;
    }

    /// <summary>The scorer's own view of every added text (in the order added) as probabilities over the task's labels
    /// (in <paramref name="labels"/>' order): a softmax over each specific label's similarity, z-scored against this
    /// corpus (so a label MiniLM scores high for every text does not win everything), with the other label — which has
    /// no vector — given an even share. Self-training blends it with its model's probabilities. <paramref name="zScored"/>
    /// false: the raw similarities (every label keeps its own level, so uneven label shares survive).</summary>
    public float[][] Probabilities(IReadOnlyList<string> labels, double temperature = 1.0, bool zScored = true)
    {
        var stats = Enumerable.Range(0, _labelVectors.Length).Select(l => zScored ? MeanStd(_sims.Select(s => s[l]).ToList()) : (Mean: 0.0, Std: 1.0)).ToArray();
        var index = labels.Select(n => Array.FindIndex(Specific, l => l.Name == n)).ToArray();
        var result = new float[_sims.Count][];
        for (var k = 0; k < _sims.Count; k++)
        {
            var p = new double[labels.Count];
            var max = double.NegativeInfinity;
            for (var j = 0; j < p.Length; j++)
                if (index[j] >= 0) max = Math.Max(max, (_sims[k][index[j]] - stats[index[j]].Mean) / stats[index[j]].Std / temperature);
            var sum = 0.0;
            for (var j = 0; j < p.Length; j++)
            {
                if (index[j] < 0) continue;
                p[j] = Math.Exp((_sims[k][index[j]] - stats[index[j]].Mean) / stats[index[j]].Std / temperature - max);
                sum += p[j];
            }
            var specific = index.Count(i => i >= 0);
            var otherShare = specific == labels.Count ? 0 : 1.0 / labels.Count;
            result[k] = p.Select((v, j) => (float)(index[j] >= 0 ? v / sum * (1 - otherShare * (labels.Count - specific)) : otherShare)).ToArray();
        }
        return result;
    }

    /// <summary>The z-scored view of <see cref="Probabilities"/> as a linear head on a (unit-length) text vector: the
    /// logit of label j is Weights[j]·x + Biases[j] = (x·label_j − mean_j) / std_j / temperature, the mean and spread taken
    /// over this scorer's texts. The other label (no vector) gets a zero row. Used to fold the miner's view into a final
    /// model's weights (<see cref="SelfTrainingOptions.TeacherFold"/>).</summary>
    public (float[][] Weights, float[] Biases) ViewHead(IReadOnlyList<string> labels, double temperature = 1.0)
    {
        var stats = Enumerable.Range(0, _labelVectors.Length).Select(l => MeanStd(_sims.Select(s => s[l]).ToList())).ToArray();
        var weights = new float[labels.Count][];
        var biases = new float[labels.Count];
        for (var j = 0; j < labels.Count; j++)
        {
            var l = Array.FindIndex(Specific, s => s.Name == labels[j]);
            weights[j] = new float[_labelVectors[0].Length];
            if (l < 0) continue;
            for (var k = 0; k < weights[j].Length; k++) weights[j][k] = (float)(_labelVectors[l][k] / stats[l].Std / temperature);
            biases[j] = (float)(-stats[l].Mean / stats[l].Std / temperature);
        }
        return (weights, biases);
    }

    /// <summary>Takes up to <paramref name="perLabel"/> per label from <see cref="Rank"/>, skipping texts for which
    /// <paramref name="excluded"/> is true and texts already taken by another label.</summary>
    public async Task<IReadOnlyList<MinedCandidate>> SelectAsync(int perLabel, double margin,
        Func<IReadOnlyCollection<int>, Task<IReadOnlyDictionary<int, string>>> texts, Func<string, bool> excluded,
        MiningOrder? order = null)
    {
        var ranked = Rank(margin, order);
        var taken = new HashSet<int>();
        var result = new List<MinedCandidate>();
        // Specific labels first: the other label must not take a text a specific label wanted.
        foreach (var label in Specific.Select(l => l.Name).Concat(Other is null ? [] : [Other.Name]))
        {
            var list = ranked[label];
            var picked = 0;
            for (var start = 0; start < list.Count && picked < perLabel; start += perLabel * 2 + 20)
            {
                var chunk = list.Skip(start).Take(perLabel * 2 + 20).ToList();
                var fetched = await texts(chunk.Select(c => c.Ordinal).ToList());
                foreach (var (ordinal, sim, m) in chunk)
                {
                    if (picked >= perLabel) break;
                    if (!fetched.TryGetValue(ordinal, out var text) || excluded(text) || !taken.Add(ordinal)) continue;
                    result.Add(new MinedCandidate(label, ordinal, text, sim, m));
                    picked++;
                }
            }
        }
        return result;
    }

    private static double Quantile(List<float> values, double q)
    {
        var sorted = values.ToArray();
        Array.Sort(sorted);
        return sorted[(int)Math.Clamp(Math.Floor(q * (sorted.Length - 1)), 0, sorted.Length - 1)];
    }

    private static (double Mean, double Std) MeanStd(List<float> values)
    {
        var mean = values.Average(v => (double)v);
        var std = Math.Sqrt(values.Average(v => (v - mean) * (v - mean)));
        return (mean, std > 1e-9 ? std : 1e-9);
    }

    internal static float[] Mean(IReadOnlyList<float[]> vectors)
    {
        var mean = new float[vectors[0].Length];
        foreach (var v in vectors)
            for (var i = 0; i < mean.Length; i++) mean[i] += v[i];
        VectorMath.NormalizeInPlace(mean);
        return mean;
    }

    internal static float[] Blend(float[] a, float[] b, double weightA)
    {
        var r = new float[a.Length];
        for (var i = 0; i < r.Length; i++) r[i] = (float)(weightA * a[i] + (1 - weightA) * b[i]);
        VectorMath.NormalizeInPlace(r);
        return r;
    }
}

/// <summary>Active learning's quick model: nearest centroid of the approved samples' embeddings (at least
/// <see cref="MinPerLabel"/> approved in at least two labels). Probabilities are a softmax over cosine similarities
/// (temperature 0.05); uncertainty is 1 − (p1 − p2), so 1 means a coin toss between two labels and 0 a sure call.</summary>
public sealed class QuickModel
{
    public const int MinPerLabel = 3;
    private const double Temperature = 0.05;

    private readonly (string Label, float[] Centroid)[] _centroids;

    private QuickModel((string, float[])[] centroids) => _centroids = centroids;

    public IReadOnlyList<string> Labels => _centroids.Select(c => c.Label).ToList();

    public static bool CanTrain(IReadOnlyDictionary<string, int> approvedPerLabel) => approvedPerLabel.Count(kv => kv.Value >= MinPerLabel) >= 2;

    public static QuickModel? Train(IReadOnlyDictionary<string, IReadOnlyList<float[]>> approved)
    {
        var usable = approved.Where(kv => kv.Value.Count >= MinPerLabel).OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        if (usable.Length < 2) return null;
        return new QuickModel(usable.Select(kv => (kv.Key, MiningScorer.Mean(kv.Value))).ToArray());
    }

    public (string Label, double[] Probabilities, double Uncertainty) Predict(float[] vector)
    {
        var sims = _centroids.Select(c => VectorMath.Dot(vector, c.Centroid) / Temperature).ToArray();
        var max = sims.Max();
        var exp = sims.Select(s => Math.Exp(s - max)).ToArray();
        var sum = exp.Sum();
        var p = exp.Select(e => e / sum).ToArray();
        var order = Enumerable.Range(0, p.Length).OrderByDescending(i => p[i]).ToArray();
        var uncertainty = 1 - (p[order[0]] - (order.Length > 1 ? p[order[1]] : 0));
        return (_centroids[order[0]].Label, p, uncertainty);
    }
}
