using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Incubator.Domain.Common;

/// <summary>One file of a zip written by <see cref="ZipFiles"/>: its name, how to write its bytes, and how hard to compress.</summary>
public sealed record ZipFileEntry(string Name, Action<Stream> Write, CompressionLevel Level = CompressionLevel.Optimal)
{
    public static ZipFileEntry Of(string name, byte[] bytes, CompressionLevel level = CompressionLevel.Optimal) => new(name, s => s.Write(bytes), level);
}

/// <summary>The downloads the portal and the CLI hand out (model bundles, fine-tuning pairs): a zip whose entries carry a
/// fixed timestamp (same content, same bytes) and end with checksums.sha256 over every other file, in
/// <c>sha256sum -c</c> format. Entries are streamed through SHA-256 as they are written, so a large file is never held twice.</summary>
public static class ZipFiles
{
    public const string ChecksumsFile = "checksums.sha256";

    private static readonly DateTimeOffset FixedTime = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static void Write(Stream zip, IEnumerable<ZipFileEntry> files)
    {
        ArgumentNullException.ThrowIfNull(zip);
        ArgumentNullException.ThrowIfNull(files);
        var sums = new StringBuilder();
        using var archive = new ZipArchive(zip, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var file in files)
        {
            var entry = archive.CreateEntry(file.Name, file.Level);
            entry.LastWriteTime = FixedTime;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            using (var s = new HashingStream(entry.Open(), hash)) file.Write(s);
            sums.Append(Convert.ToHexStringLower(hash.GetHashAndReset())).Append("  ").Append(file.Name).Append('\n');
        }
        var checksums = archive.CreateEntry(ChecksumsFile, CompressionLevel.Optimal);
        checksums.LastWriteTime = FixedTime;
        using var c = checksums.Open();
        c.Write(Encoding.UTF8.GetBytes(sums.ToString()));
    }

    /// <summary>Writes through to the zip entry and into the hash.</summary>
    private sealed class HashingStream(Stream inner, IncrementalHash hash) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            hash.AppendData(buffer);
            inner.Write(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing) inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
