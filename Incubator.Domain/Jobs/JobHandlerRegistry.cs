using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Domain.Jobs;

/// <summary>Maps job kinds to handler types. Filled at start-up by <see cref="JobsRegistration.AddJobHandler{T}"/>.</summary>
public sealed class JobHandlerRegistry
{
    private readonly Dictionary<string, Type> _handlers = new(StringComparer.Ordinal);

    public IReadOnlyCollection<string> Kinds => _handlers.Keys;

    internal void Add(string kind, Type type)
    {
        if (!_handlers.TryAdd(kind, type))
            throw new InvalidOperationException($"Job kind '{kind}' is registered twice.");
    }

    public bool TryGet(string kind, out Type type) => _handlers.TryGetValue(kind, out type!);
}
