using Incubator.Domain.Training;

namespace Incubator.Domain.Mining.Query;

/// <summary>A published model a query can use, under the name queries call it.</summary>
public sealed record QueryModelInfo(string Name, Guid ModelVersionId, IReadOnlyList<string> Labels, string Description);

public sealed record QueryCorpusInfo(Guid Id, string Name, int TextCount);

public sealed record QueryTextRow(int Ordinal, string Text);

/// <summary>Where queries get their models: the registry's published versions. Kept behind this interface so the
/// query feature does not depend on how the registry stores bundles.</summary>
public interface IQueryModelSource
{
    /// <summary>The project's published models (no access check: callers check the project role first).</summary>
    Task<IReadOnlyList<QueryModelInfo>> PublishedAsync(Guid projectId, CancellationToken ct);

    /// <summary>Loads a model version for prediction. The caller disposes it when it is disposable.</summary>
    Task<ITextClassifier> LoadAsync(Guid projectId, Guid modelVersionId, CancellationToken ct);
}

/// <summary>Where queries read texts: the project's corpora, in ordinal order.</summary>
public interface IQueryCorpusSource
{
    Task<IReadOnlyList<QueryCorpusInfo>> ListAsync(Guid projectId, CancellationToken ct);

    /// <summary>Up to <paramref name="max"/> texts with ordinal ≥ <paramref name="fromOrdinal"/>, in ordinal order.</summary>
    Task<IReadOnlyList<QueryTextRow>> ReadAsync(Guid corpusId, int fromOrdinal, int max, CancellationToken ct);
}
