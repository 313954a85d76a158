using System.IO.Compression;
using System.Text;

namespace Incubator.Tests.TextFiles;

/// <summary>Files that are not text, made at test time: a real executable, a PNG, a ZIP, a GZIP, and UTF-16 without a
/// byte-order mark.</summary>
public static class BinaryFiles
{
    /// <summary>A copy of /usr/bin/true (an ELF executable), or, on a machine without it, an ELF header and the zeroed
    /// program header table a real one starts with.</summary>
    public static byte[] Elf()
    {
        if (File.Exists("/usr/bin/true")) return File.ReadAllBytes("/usr/bin/true");
        var bytes = new byte[4096];
        new byte[] { 0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0 }.CopyTo(bytes, 0);
        return bytes;
    }

    /// <summary>A valid 1×1 transparent PNG.</summary>
    public static byte[] Png() =>
    [
        0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
        0x08, 0x06, 0x00, 0x00, 0x00, 0x1F, 0x15, 0xC4, 0x89, 0x00, 0x00, 0x00, 0x0A, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9C, 0x63, 0x00, 0x01, 0x00, 0x00,
        0x05, 0x00, 0x01, 0x0D, 0x0A, 0x2D, 0xB4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82,
    ];

    /// <summary>A ZIP archive holding a text file (what a renamed .docx or .xlsx looks like from outside).</summary>
    public static byte[] Zip()
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        using (var writer = new StreamWriter(zip.CreateEntry("notes.txt").Open()))
            writer.Write(string.Join('\n', Enumerable.Range(0, 200).Select(i => $"Line {i} of some notes that compress well.")));
        return buffer.ToArray();
    }

    public static byte[] Gzip()
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
            gzip.Write(Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("compressed text\n", 100))));
        return buffer.ToArray();
    }

    /// <summary>Texts one per line in UTF-16 with no byte-order mark: a NUL beside every Latin character.</summary>
    public static byte[] Utf16WithoutBom(bool bigEndian = false) =>
        new UnicodeEncoding(bigEndian, byteOrderMark: false).GetBytes("My parcel never arrived.\nThe invoice is wrong.\nPlease reset my password.\n");

    /// <summary>The same texts with a byte-order mark: valid UTF-16 text.</summary>
    public static byte[] Utf16WithBom(string text)
    {
        var encoding = new UnicodeEncoding(false, byteOrderMark: true);
        return [.. encoding.GetPreamble(), .. encoding.GetBytes(text)];
    }

    /// <summary>Every kind above with the words the refusal must say (code, and what the file is).</summary>
    public static TheoryData<string, string, string> Kinds() => new()
    {
        { "elf", "NotTextKnownFormat", "ELF executable" },
        { "png", "NotTextKnownFormat", "PNG image" },
        { "zip", "NotTextKnownFormat", "ZIP archive" },
        { "gzip", "NotTextKnownFormat", "GZIP archive" },
        { "utf16le", "NotTextUtf16WithoutBom", "UTF-16 text (little-endian) without a byte-order mark: byte 1 (line 1)" },
        { "utf16be", "NotTextUtf16WithoutBom", "UTF-16 text (big-endian) without a byte-order mark: byte 0 (line 1)" },
        // No known signature: refused at the first NUL byte, with where it is.
        { "nul", "NotTextNulBytes", "byte 11 (line 2) is a NUL byte" },
        // A few Japanese words in Shift-JIS: too short for the share of bad UTF-8 bytes, but not Latin-1 either.
        { "shift-jis-words", "NotTextLatin1Controls", "byte 3 (line 2), 0x8B, is not a Latin-1 character" },
    };

    public static byte[] Of(string kind) => kind switch
    {
        "elf" => Elf(),
        "png" => Png(),
        "zip" => Zip(),
        "gzip" => Gzip(),
        "utf16le" => Utf16WithoutBom(),
        "utf16be" => Utf16WithoutBom(bigEndian: true),
        "nul" => [.. "hello\nworld"u8, 0, .. "more text\n"u8],
        "shift-jis-words" => [.. "ok\n"u8, 0x8B, 0x7D, 0x82, 0xAC, 0x0A, 0x92, 0xCA, 0x8F, 0xED, 0x0A], // ok, 急ぎ, 通常
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
