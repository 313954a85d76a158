using Incubator.Domain.Benchmarks;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.Mining;

/// <summary>Three small sparse models (urgency, topic, sentiment) trained once on generated support messages, and
/// their bundles written with ModelBundle.Write into a temporary folder.</summary>
public sealed class QueryModelsFixture : IDisposable
{
    private readonly TempFolder _folder = new("incubator-query-models");

    public QueryModelsFixture()
    {
        Models = SyntheticTickets.TrainModels();
        foreach (var (name, model) in Models)
        {
            var path = Path.Combine(_folder.Path, name + ".zip");
            using var file = File.Create(path);
            ModelBundle.Write(file, model, new BundleInfo(name, "1", $"# {name}\n\nTest model."));
            BundlePaths[name] = path;
        }
    }

    public Dictionary<string, TrainedClassifier> Models { get; }

    public Dictionary<string, string> BundlePaths { get; } = new(StringComparer.Ordinal);

    public string Folder => _folder.Path;

    public void Dispose() => _folder.Dispose();
}
