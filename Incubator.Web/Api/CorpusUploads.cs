using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Mining;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Api;

/// <summary>Spools upload bodies to files under {shared}/uploads/{project}/ (any instance may import them) named for the uploader, so only the user who
/// sent a file can import it. Files older than a day are swept on the next upload.</summary>
public sealed class CorpusUploads(IOptions<IncubatorOptions> options)
{
    private string Folder(Guid projectId) => Path.Combine(options.Value.ResolveSharedDirectory(), "uploads", projectId.ToString("N"));

    public async Task<string> ReceiveAsync(HttpContext http, Guid projectId, string userId, CancellationToken ct)
    {
        // Kestrel's default 30 MB body limit is for ordinary requests; corpus uploads may be larger.
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = CorpusService.MaxUploadBytes;
        if (http.Request.ContentLength > CorpusService.MaxUploadBytes)
            throw new DomainValidationException("file", "CorpusTooLarge", $"The file is larger than {CorpusService.MaxUploadBytes / (1024 * 1024)} MB.", CorpusService.MaxUploadBytes / (1024 * 1024));
        var folder = Folder(projectId);
        Directory.CreateDirectory(folder);
        Sweep(folder);
        var path = Path.Combine(folder, $"{Owner(userId)}-{Guid.NewGuid():N}.upload");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            await http.Request.Body.CopyToAsync(file, 1 << 16, ct);
        }
        catch
        {
            Delete(path);
            throw;
        }
        return path;
    }

    /// <summary>The spooled file of this user's upload, or null (unknown id, someone else's, or swept).</summary>
    public string? Find(Guid projectId, string userId, string uploadId)
    {
        if (uploadId.Length > 100 || uploadId.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-')) return null;
        if (!uploadId.StartsWith(Owner(userId) + "-", StringComparison.Ordinal)) return null;
        var path = Path.Combine(Folder(projectId), uploadId + ".upload");
        return File.Exists(path) ? path : null;
    }

    public void Delete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
    }

    private static string Owner(string userId) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(userId)))[..16].ToLowerInvariant();

    private void Sweep(string folder)
    {
        foreach (var f in Directory.EnumerateFiles(folder, "*.upload"))
            if (File.GetLastWriteTimeUtc(f) < DateTime.UtcNow.AddDays(-1)) Delete(f);
    }
}
