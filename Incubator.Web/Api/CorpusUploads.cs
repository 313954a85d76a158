using Incubator.Domain.Data;
using Incubator.Web.Extensions;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Api;

/// <summary>Spools upload bodies to files under {shared}/uploads/{project}/ (any instance may import them) named for the uploader, so only the user who
/// sent a file can import it. Files older than a day are swept on the next upload.</summary>
public sealed class CorpusUploads(IOptions<IncubatorOptions> options, IOptions<SecurityOptions> security)
{
    private string Folder(Guid projectId) => Path.Combine(options.Value.ResolveSharedDirectory(), "uploads", projectId.ToString("N"));

    private const long DrainAllowance = 64L * 1024 * 1024;

    public long MaxBytes => security.Value.MaxUploadBytes;

    /// <summary>Writes the body to a spool file. A body over <see cref="MaxBytes"/> is a 413 (code CorpusTooLarge): at once
    /// when it announces its length, as soon as the limit is passed when it comes in chunks; nothing of it is kept.</summary>
    public async Task<string> ReceiveAsync(HttpContext http, Guid projectId, string userId, CancellationToken ct)
    {
        // Kestrel's default 30 MB body limit is for ordinary requests; corpus uploads may be larger. The limit is counted
        // below, in the portal's words; Kestrel's own limit sits a little above it so that, after the 413, Kestrel can
        // drain the rest of a slightly-too-large body and the client reads the answer instead of a reset connection.
        // A body announced too large is refused before the limit is raised: Kestrel then closes the connection after the
        // answer instead of waiting to drain hundreds of MB.
        if (http.Request.ContentLength > MaxBytes) throw TooLarge();
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBytes + DrainAllowance;
        var folder = Folder(projectId);
        Directory.CreateDirectory(folder);
        Sweep(folder);
        var path = Path.Combine(folder, $"{Owner(userId)}-{Guid.NewGuid():N}.upload");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
            var buffer = new byte[1 << 16];
            long total = 0;
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, ct)) > 0)
            {
                total += read;
                if (total > MaxBytes) throw TooLarge();
                await file.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            Delete(path);
            throw TooLarge();
        }
        catch
        {
            Delete(path);
            throw;
        }
        return path;
    }

    private RequestTooLargeException TooLarge() =>
        new("CorpusTooLarge", $"The file is larger than {MaxBytes / (1024 * 1024)} MB.");

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
