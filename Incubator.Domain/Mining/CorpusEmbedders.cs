using Incubator.Domain.Embeddings;

namespace Incubator.Domain.Mining;

/// <summary>The bare local encoders by name (no LRU cache in front: a corpus would only flush it).</summary>
public sealed class CorpusEmbedders(MiniLmEmbedder miniLm, CharNgramEmbedder charNgrams)
{
    public ITextEmbedder ForLanguage(string? language) => EmbedderSelector.IsEnglish(language) ? miniLm : charNgrams;

    public ITextEmbedder ByName(string name) => name == CharNgramEmbedder.RepresentationName ? charNgrams : miniLm;
}
