namespace Incubator.Domain.Embeddings;

/// <summary>Turns texts into fixed-length vectors whose cosine similarity says how alike the texts are.</summary>
public interface ITextEmbedder
{
    /// <summary>Stable name of the representation (cache key, shown in reports, picks calibrated thresholds).</summary>
    string Name { get; }

    int Dimensions { get; }

    /// <summary>One vector of <see cref="Dimensions"/> per text, in input order. Vectors are L2-normalised; a text
    /// with nothing to embed (empty, or only whitespace/punctuation for embedders that ignore those) gives the zero
    /// vector, whose cosine with anything is 0. Never throws for empty input; an empty list gives an empty array.</summary>
    float[][] Embed(IReadOnlyList<string> texts);
}
