using Incubator.Domain.Data;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Training;

/// <summary>Model artefacts on disk under the shared folder (<see cref="IncubatorOptions.SharedDirectory"/>, the data
/// folder by default): <c>models/{projectId}/{modelVersionId}/bundle.zip</c> (what people download) and <c>model.bin</c>
/// (the in-app model the playground and the API predict with). Files are written to a temporary name and moved into
/// place, so a reader never sees half a file; several instances share them through one volume
/// (docs/decisions/0030-shared-state.md).</summary>
public sealed class ModelStore(IOptions<IncubatorOptions> options)
{
    public const string BundleFile = "bundle.zip";
    public const string ModelFile = "model.bin";

    public string Root => Path.Combine(options.Value.ResolveSharedDirectory(), "models");

    public string Folder(Guid projectId, Guid modelVersionId) => Path.Combine(Root, projectId.ToString("N"), modelVersionId.ToString("N"));

    public string BundlePath(Guid projectId, Guid modelVersionId) => Path.Combine(Folder(projectId, modelVersionId), BundleFile);

    public string ModelPath(Guid projectId, Guid modelVersionId) => Path.Combine(Folder(projectId, modelVersionId), ModelFile);

    public async Task WriteAsync(string path, Func<Stream, Task> write, CancellationToken ct = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        try
        {
            await using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                await write(stream);
                await stream.FlushAsync(ct);
            }
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    public void DeleteFolder(Guid projectId, Guid modelVersionId)
    {
        var folder = Folder(projectId, modelVersionId);
        if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
    }
}
