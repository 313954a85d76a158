using Incubator.Domain.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Embeddings;

public static class EmbeddingsServiceCollectionExtensions
{
    /// <summary>The local embedders (MiniLM loads lazily, on first use), one shared size-bounded cache in front of
    /// both, the language-based selector, and the definition-quality hints that use it.</summary>
    public static IServiceCollection AddIncubatorEmbeddings(this IServiceCollection services)
    {
        services.AddSingleton(_ => new EmbeddingCache());
        services.AddSingleton(_ => new MiniLmEmbedder());
        services.AddSingleton(_ => new CharNgramEmbedder());
        services.AddSingleton(sp =>
        {
            var cache = sp.GetRequiredService<EmbeddingCache>();
            return new EmbedderSelector(
                new CachedEmbedder(sp.GetRequiredService<MiniLmEmbedder>(), cache),
                new CachedEmbedder(sp.GetRequiredService<CharNgramEmbedder>(), cache));
        });
        services.AddSingleton<DefinitionHints>();
        return services;
    }
}
