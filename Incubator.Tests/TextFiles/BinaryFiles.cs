using System.IO.Compression;
using System.Text;

namespace Incubator.Tests.TextFiles;

/// <summary>Files that are not text (or cannot be told apart), made at test time: a real executable, a PNG, a ZIP, a
/// GZIP, UTF-16 without a byte-order mark whose NUL bytes are too few to be sure, and a one-character Shift_JIS file
/// that reads as Windows-1252 just as well.</summary>
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

    /// <summary>Texts one per line in UTF-16 with no byte-order mark: a NUL beside every Latin character (decoded:
    /// the evidence is strong).</summary>
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
        // Japanese in UTF-16 without a byte-order mark: NUL bytes only beside the few ASCII characters, too weak to decode.
        { "utf16le-weak", "NotTextUtf16WithoutBom", "UTF-16 text (little-endian) without a byte-order mark: byte 17 (line 1)" },
        { "utf16be-weak", "NotTextUtf16WithoutBom", "UTF-16 text (big-endian) without a byte-order mark: byte 16 (line 1)" },
        // No known signature: refused at the first NUL byte, with where it is.
        { "nul", "NotTextNulBytes", "byte 11 (line 2) is a NUL byte" },
        // One kanji in Shift_JIS (急, 0x8B 0x7D) reads as Windows-1252 "‹}" just as well: refused, not guessed.
        { "shift-jis-one-char", "NotTextLatin1Controls", "byte 3 (line 2), 0x8B, is not a Latin-1 character" },
    };

    public static byte[] Of(string kind) => kind switch
    {
        "elf" => Elf(),
        "png" => Png(),
        "zip" => Zip(),
        "gzip" => Gzip(),
        "utf16le-weak" => new UnicodeEncoding(false, false).GetBytes("荷物が届きません ok\n"),
        "utf16be-weak" => new UnicodeEncoding(true, false).GetBytes("荷物が届きません ok\n"),
        "nul" => [.. "hello\nworld"u8, 0, .. "more text\n"u8],
        "shift-jis-one-char" => [.. "ok\n"u8, 0x8B, 0x7D, 0x0A], // ok, 急
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
