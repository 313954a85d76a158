using Incubator.Domain.Embeddings;
using Incubator.Domain.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Embeddings;

/// <summary>One container with the embeddings registration, shared by the test classes that need MiniLM, so the
/// model loads once per test run (about half a second) instead of once per test.</summary>
public sealed class EmbeddingsFixture : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddIncubatorEmbeddings().BuildServiceProvider();

    public MiniLmEmbedder MiniLm => _services.GetRequiredService<MiniLmEmbedder>();

    public CharNgramEmbedder CharNgrams => _services.GetRequiredService<CharNgramEmbedder>();

    public EmbedderSelector Selector => _services.GetRequiredService<EmbedderSelector>();

    public EmbeddingCache Cache => _services.GetRequiredService<EmbeddingCache>();

    public DefinitionHints Hints => _services.GetRequiredService<DefinitionHints>();

    public void Dispose() => _services.Dispose();
}

[CollectionDefinition(Name)]
public sealed class EmbeddingsCollection : ICollectionFixture<EmbeddingsFixture>
{
    public const string Name = "embeddings";
}
