namespace Incubator.Domain.Training;

/// <summary>The one map between <see cref="ModelFamily"/> and its name. The lower-case name is what people type (the
/// CLI's --trainer, the API's "family"), what the registry stores (requested and chosen family), what a bundle's
/// labels.json says and what the model card prints; the portal shows the localised "Family.{name}".</summary>
public static class ModelFamilies
{
    /// <summary>What a training can ask for, in the order the portal offers them.</summary>
    public static IReadOnlyList<ModelFamily> Requestable { get; } = [ModelFamily.Auto, ModelFamily.Sparse, ModelFamily.Dense, ModelFamily.Hybrid];

    /// <summary>"sparse, dense, hybrid, auto": for messages.</summary>
    public const string NameList = "sparse, dense, hybrid, auto";

    public static string Name(ModelFamily family) => family switch
    {
        ModelFamily.Sparse => "sparse",
        ModelFamily.Dense => "dense",
        ModelFamily.Hybrid => "hybrid",
        ModelFamily.Auto => "auto",
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "Unknown model family."),
    };

    /// <summary>"float, int8": the encoders a dense or hybrid training can ask for, for messages.</summary>
    public const string EncoderNameList = "float, int8";

    /// <summary>The name a training request or the CLI gives an encoder: "float" (as shipped) or "int8" (8-bit).</summary>
    public static string EncoderName(EncoderKind encoder) => encoder == EncoderKind.MiniLmInt8 ? "int8" : "float";

    /// <summary>What the registry stores as a model version's encoder: <see cref="NoEncoder"/> for a model without one
    /// (sparse), else <see cref="EncoderName"/>.</summary>
    public static string EncoderFact(EncoderKind? encoder) => encoder is { } e ? EncoderName(e) : NoEncoder;

    public const string NoEncoder = "none";

    /// <summary>"float" or "int8"; case and surrounding spaces are ignored.</summary>
    public static bool TryParseEncoder(string? name, out EncoderKind encoder)
    {
        foreach (var e in Enum.GetValues<EncoderKind>())
        {
            if (string.Equals(name?.Trim(), EncoderName(e), StringComparison.OrdinalIgnoreCase))
            {
                encoder = e;
                return true;
            }
        }
        encoder = default;
        return false;
    }

    /// <summary>Case and surrounding spaces are ignored.</summary>
    public static bool TryParse(string? name, out ModelFamily family)
    {
        foreach (var f in Requestable)
        {
            if (string.Equals(name?.Trim(), Name(f), StringComparison.OrdinalIgnoreCase))
            {
                family = f;
                return true;
            }
        }
        family = default;
        return false;
    }

    /// <summary>What the registry, the portal and the CLI call a model auto did not choose but pooled
    /// (<see cref="TrainingResult.Pooled"/>): the log-linear pool of sparse, dense and hybrid, exported as one hybrid head.
    /// Not a family anyone can ask for, and not what a bundle's labels.json says (that stays "hybrid").</summary>
    public const string PooledName = "pooled";

    /// <summary>The name of what a training produced: the chosen family's, or <see cref="PooledName"/>.</summary>
    public static string Chosen(TrainingResult result) => result.Pooled ? PooledName : Name(result.ChosenFamily);

    /// <summary>Whether a family (by name) uses the all-MiniLM-L6-v2 encoder, which knows English only.</summary>
    public static bool UsesEncoder(string? name) =>
        (TryParse(name, out var f) && f is ModelFamily.Dense or ModelFamily.Hybrid) || string.Equals(name?.Trim(), PooledName, StringComparison.OrdinalIgnoreCase);
}
