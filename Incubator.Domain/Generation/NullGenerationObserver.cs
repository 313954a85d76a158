using Incubator.Domain.Review;
using System.Collections.Concurrent;
using Incubator.Domain.Llm;

namespace Incubator.Domain.Generation;

/// <summary>An observer that ignores everything (CLI, benchmarks).</summary>
public sealed class NullGenerationObserver : IGenerationObserver
{
    public static readonly NullGenerationObserver Instance = new();

    public Task SampleAcceptedAsync(Guid id, string label, string text, int round, bool ambiguous) => Task.CompletedTask;

    public Task SampleRejectedAsync(RejectedPiece piece, int round) => Task.CompletedTask;

    public Task ProgressAsync(GenerationProgress progress) => Task.CompletedTask;
}
