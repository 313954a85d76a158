using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Incubator.Domain.Common.Events;

/// <summary>One entry per event: its record type and the name it travels under (the record's name, which is also the
/// hub method external clients listen to and the JSON <c>type</c> discriminator).</summary>
public sealed record RunEventKind(string Name, Type Type);

/// <summary>The one list of live events, built from the <see cref="RunEvent"/> records themselves (every non-abstract
/// subclass in this assembly). The hub relay, the hub's documented method names and the polymorphic JSON form are
/// derived from it, so there is no second list to forget an event in.</summary>
public static class RunEventCatalog
{
    private static readonly Dictionary<Type, RunEventKind> ByType = typeof(RunEvent).Assembly.GetTypes()
        .Where(t => t.IsSubclassOf(typeof(RunEvent)) && !t.IsAbstract)
        .OrderBy(t => t.Name, StringComparer.Ordinal)
        .ToDictionary(t => t, t => new RunEventKind(t.Name, t));

    /// <summary>Every event, ordered by name.</summary>
    public static IReadOnlyList<RunEventKind> All { get; } = ByType.Values.OrderBy(k => k.Name, StringComparer.Ordinal).ToList();

    /// <summary>The name an event travels under; null for a subclass declared outside this assembly (not an event the
    /// portal knows, so nothing relays it).</summary>
    public static string? NameOf(RunEvent e) => ByType.TryGetValue(e.GetType(), out var kind) ? kind.Name : null;

    /// <summary>Serialises a <see cref="RunEvent"/> with a <c>type</c> property naming the event, and reads it back.</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new(JsonSerializerDefaults.Web)
    {
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { AddPolymorphism } },
    };

    /// <summary>A <see cref="DefaultJsonTypeInfoResolver"/> modifier: declares every catalogued event as a derived
    /// type of <see cref="RunEvent"/>.</summary>
    public static void AddPolymorphism(JsonTypeInfo info)
    {
        if (info.Type != typeof(RunEvent)) return;
        info.PolymorphismOptions = new JsonPolymorphismOptions { TypeDiscriminatorPropertyName = "type" };
        foreach (var kind in All) info.PolymorphismOptions.DerivedTypes.Add(new JsonDerivedType(kind.Type, kind.Name));
    }
}
