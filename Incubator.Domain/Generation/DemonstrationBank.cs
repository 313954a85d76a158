using System.Collections.Concurrent;
using System.Text.Json;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Tasks;

namespace Incubator.Domain.Generation;

/// <summary>One instruction-to-data pair: a task instruction and one sample for each of its labels, written side by
/// side (the shape the paper tunes its generator on, used here in context). <see cref="Samples"/> has exactly the
/// keys in <see cref="Labels"/>.</summary>
public sealed record Demonstration(string Instruction, IReadOnlyList<string> Labels, IReadOnlyDictionary<string, string> Samples, string Language);

/// <summary>The demonstrations a prompt can show: the built-in set shipped with the product (varied task types, English
/// and Japanese) plus whatever the caller adds (demonstrations grown from the team's approved tasks), searched by
/// embedding similarity to the task at hand.</summary>
public sealed class DemonstrationBank(EmbedderSelector selector)
{
    internal const string ResourceName = "Incubator.Domain.Generation.demonstrations.json";

    private static readonly Lazy<IReadOnlyList<Demonstration>> s_builtIn = new(Load);

    // Built-in vectors per representation, computed once per bank (the set is fixed; MiniLM takes ~0.3 s for it).
    private readonly ConcurrentDictionary<string, Lazy<float[][]>> _builtInVectors = new(StringComparer.Ordinal);

    public IReadOnlyList<Demonstration> BuiltIn => s_builtIn.Value;

    /// <summary>The <paramref name="k"/> demonstrations most like the task: cosine between the task's instruction and
    /// label definitions and each demonstration's instruction and labels, embedded with the task language's
    /// embedder. Demonstrations in the task's language (same primary subtag) come first — a Japanese task is shown
    /// Japanese samples even when an English demonstration is about a closer topic, because the samples also teach
    /// the register and length of the language. A demonstration whose instruction equals the task's (after
    /// normalisation) is never returned: it would be the task's own data fed back as an example to copy. Ties keep
    /// bank order (built-in first, then <paramref name="extra"/>).</summary>
    public IReadOnlyList<Demonstration> Nearest(TaskSpec spec, int k, IEnumerable<Demonstration>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        if (k == 0) return [];
        var language = spec.Preferences?.Language ?? "en";
        var embedder = selector.ForLanguage(language);
        var own = TextNormalizer.Normalize(spec.Instruction ?? "");

        var extras = (extra ?? []).Where(d => d is not null).ToList();
        var builtInVectors = _builtInVectors.GetOrAdd(embedder.Name, _ => new Lazy<float[][]>(() => embedder.Embed(BuiltIn.Select(DemoText).ToList()))).Value;
        var extraVectors = extras.Count == 0 ? [] : embedder.Embed(extras.Select(DemoText).ToList());
        var query = embedder.Embed([TaskText(spec)])[0];

        var seen = new HashSet<string>(StringComparer.Ordinal) { own };
        var ranked = new List<(Demonstration Demo, bool SameLanguage, double Score, int Order)>();
        var all = BuiltIn.Zip(builtInVectors).Concat(extras.Zip(extraVectors)).ToList();
        for (var i = 0; i < all.Count; i++)
        {
            var (demo, vector) = all[i];
            if (!seen.Add(TextNormalizer.Normalize(demo.Instruction ?? ""))) continue;
            ranked.Add((demo, SameLanguage(demo.Language, language), VectorMath.Cosine(query, vector), i));
        }
        return ranked
            .OrderByDescending(r => r.SameLanguage)
            .ThenByDescending(r => r.Score)
            .ThenBy(r => r.Order)
            .Take(k)
            .Select(r => r.Demo)
            .ToList();
    }

    internal static string TaskText(TaskSpec spec) =>
        string.Join("\n", new[] { spec.Instruction ?? "" }.Concat((spec.Labels ?? []).Select(l =>
            string.IsNullOrWhiteSpace(l.Description) ? l.Name : $"{l.Name}: {l.Description}")));

    internal static string DemoText(Demonstration d) => $"{d.Instruction}\n{string.Join(", ", d.Labels)}";

    internal static bool SameLanguage(string? a, string? b) =>
        string.Equals(Primary(a), Primary(b), StringComparison.OrdinalIgnoreCase);

    private static string Primary(string? tag)
    {
        var primary = (tag ?? "").Trim().Split('-', '_')[0];
        return primary.Length == 0 ? "en" : primary;
    }

    private sealed record DemoFile(string Instruction, string Language, List<string> Labels, Dictionary<string, string> Samples);

    private static IReadOnlyList<Demonstration> Load()
    {
        using var stream = typeof(DemonstrationBank).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Resource {ResourceName} is missing.");
        var files = JsonSerializer.Deserialize<List<DemoFile>>(stream, new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        }) ?? throw new InvalidOperationException($"Resource {ResourceName} is empty.");
        var result = new List<Demonstration>(files.Count);
        foreach (var f in files)
        {
            if (f.Labels.Count < 2 || !f.Labels.ToHashSet().SetEquals(f.Samples.Keys) || f.Samples.Count != f.Labels.Count)
                throw new InvalidOperationException($"Built-in demonstration '{f.Instruction}' must have one sample per label.");
            // Samples in label order, whatever order the JSON object had.
            var samples = f.Labels.ToDictionary(l => l, l => f.Samples[l], StringComparer.Ordinal);
            result.Add(new Demonstration(f.Instruction, f.Labels.AsReadOnly(), samples.AsReadOnly(), f.Language));
        }
        return result.AsReadOnly();
    }
}
