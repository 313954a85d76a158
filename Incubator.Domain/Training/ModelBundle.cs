using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Incubator.Domain.Common;
using Microsoft.ML.OnnxRuntime;

namespace Incubator.Domain.Training;

public sealed record BundleInfo(string ModelName, string ModelVersion, string ModelCardMarkdown)
{
    /// <summary>The card in the other language (<see cref="ModelBundle.CardFileIn"/>); null: the bundle has one card.</summary>
    public CardLanguage? OtherCardLanguage { get; init; }

    public string? OtherCardMarkdown { get; init; }

    /// <summary>A bundle with both cards: <see cref="ModelCards.Card"/> as model-card.md, the other beside it.</summary>
    public static BundleInfo For(string modelName, string modelVersion, ModelCards cards)
    {
        ArgumentNullException.ThrowIfNull(cards);
        return new BundleInfo(modelName, modelVersion, cards.Card) { OtherCardLanguage = cards.OtherLanguage, OtherCardMarkdown = cards.OtherCard };
    }
}

/// <summary>Size of model.onnx and how fast plain ONNX Runtime runs it (batch 64, one thread), measured when the
/// bundle is written, for the model card.</summary>
/// <param name="Passes">Timed passes over the texts; <see cref="TextsPerSecond"/> is the fastest's.</param>
public sealed record BundleSpeed(long OnnxBytes, double TextsPerSecond, int Texts, int BatchSize, int Passes = 1)
{
    public string Describe() => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"model.onnx {Size(OnnxBytes)}; {TextsPerSecond:0} texts/s with plain ONNX Runtime (batch {BatchSize}, one thread, {(Passes > 1 ? $"fastest of {Passes} passes over " : "")}{Texts} validation text{(Texts == 1 ? "" : "s")}, measured on the training machine)");

    /// <summary>"86.5 MiB"; below 1 MiB in KiB ("34 KiB"), as a sparse model of a few hundred rows is (not "0.0 MiB").</summary>
    public static string Size(long bytes) => bytes < 1048576
        ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{Math.Max(1, Math.Round(bytes / 1024.0)):0} KiB")
        : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{bytes / 1048576.0:0.0} MiB");
}

/// <summary>A bundle that cannot be used: not a zip, not ours, files missing, or checksums that do not match.</summary>
public sealed class BundleException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>What labels.json says about model.onnx.</summary>
public sealed record BundleManifest(
    [property: JsonPropertyName("format")] string Format,
    [property: JsonPropertyName("modelName")] string ModelName,
    [property: JsonPropertyName("modelVersion")] string ModelVersion,
    [property: JsonPropertyName("family")] string Family,
    [property: JsonPropertyName("labels")] IReadOnlyList<string> Labels,
    [property: JsonPropertyName("input")] BundleTensor Input,
    [property: JsonPropertyName("outputs")] IReadOnlyList<BundleTensor> Outputs,
    [property: JsonPropertyName("needsOnnxRuntimeExtensions")] bool NeedsOnnxRuntimeExtensions,
    [property: JsonPropertyName("englishOnly")] bool EnglishOnly,
    [property: JsonPropertyName("tokenMode")] string? TokenMode,
    [property: JsonPropertyName("notes")] string Notes);

public sealed record BundleTensor(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("shape")] IReadOnlyList<string> Shape);

/// <summary>The downloadable zip: model.onnx, labels.json, model-card.md (and the card in the other language,
/// model-card.en.md or model-card.ja.md), README.md and checksums.sha256 (SHA-256 of every other file, <c>sha256sum -c</c>
/// format).</summary>
public static class ModelBundle
{
    public const string FormatName = "incubator-model-bundle/1";
    public const string OnnxFile = "model.onnx";
    public const string LabelsFile = "labels.json";
    public const string CardFile = "model-card.md";

    /// <summary>The card in the language other than model-card.md's (decision 0012, amendment card22):
    /// "model-card.en.md" or "model-card.ja.md". model-card.md stays the card of whoever trained, so readers of older
    /// bundles keep working.</summary>
    public static string CardFileIn(CardLanguage language) => $"model-card.{CardLanguages.Code(language)}.md";
    public const string ReadmeFile = "README.md";
    public const string ChecksumsFile = ZipFiles.ChecksumsFile;

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Write(Stream zip, TrainedClassifier model, BundleInfo info) => Write(zip, model, info, null);

    /// <summary>Writes the bundle; <paramref name="onnx"/> is the model's export when the caller already has it (the
    /// encoder families' graphs are tens of MB: export once).</summary>
    public static void Write(Stream zip, TrainedClassifier model, BundleInfo info, byte[]? onnx)
    {
        ArgumentNullException.ThrowIfNull(zip);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(info);
        var manifest = ManifestFor(model, info);
        var other = info is { OtherCardLanguage: { } language, OtherCardMarkdown: { } markdown } ? (File: CardFileIn(language), Language: language, Markdown: markdown) : default;
        List<ZipFileEntry> entries =
        [
            // Float encoder weights do not compress (deflate made the 87 MiB graph 4 % larger and cost a second): stored.
            ZipFileEntry.Of(OnnxFile, onnx ?? model.ExportOnnx(), model.Encoder == EncoderKind.MiniLm ? CompressionLevel.NoCompression : CompressionLevel.Fastest),
            ZipFileEntry.Of(LabelsFile, Encoding.UTF8.GetBytes(JsonSerializer.Serialize(manifest, Json) + "\n")),
            ZipFileEntry.Of(CardFile, Encoding.UTF8.GetBytes(info.ModelCardMarkdown)),
        ];
        if (other.File is not null) entries.Add(ZipFileEntry.Of(other.File, Encoding.UTF8.GetBytes(other.Markdown)));
        entries.Add(ZipFileEntry.Of(ReadmeFile, Encoding.UTF8.GetBytes(BundleReadme.For(manifest, other.File is null ? null : (other.File, other.Language)))));
        ZipFiles.Write(zip, entries);
    }

    public static BundleManifest ManifestFor(TrainedClassifier model, BundleInfo info) => new(
        FormatName,
        info.ModelName,
        info.ModelVersion,
        ModelFamilies.Name(model.Family),
        model.Labels,
        new BundleTensor("text", "string", ["N"]),
        [new BundleTensor("label", "string", ["N"]), new BundleTensor("probabilities", "float", ["N", model.Labels.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)])],
        model.NeedsOnnxRuntimeExtensions,
        model.EnglishOnly,
        model.TokenMode?.ToString().ToLowerInvariant(),
        "Input is a 1-D string tensor [N] of raw text (N >= 1)."
            + (model.NeedsOnnxRuntimeExtensions ? " Register onnxruntime-extensions for the BERT tokenizer." : "")
            // Sparse and hybrid graphs lower-case their n-grams with StringNormalizer (dense has no n-gram part).
            + (model.TokenMode is not null ? " Lower-casing uses StringNormalizer with locale C.UTF-8." : ""));

    /// <summary>At most this many entries: a bundle has five or six.</summary>
    public const int MaxEntries = 32;

    /// <summary>The largest model.onnx read (the dense family's is about 90 MB).</summary>
    public const long MaxModelBytes = 1024L * 1024 * 1024;

    /// <summary>The largest of every other file (labels, card, readme, checksums).</summary>
    public const long MaxOtherFileBytes = 16L * 1024 * 1024;

    /// <summary>Uncompressed to compressed size above which an entry of more than <see cref="RatioFloorBytes"/> is a zip
    /// bomb, not a model: ONNX weights barely compress (about 1.1), text files of a bundle about 5.</summary>
    public const double MaxCompressionRatio = 100;

    public const long RatioFloorBytes = 1024 * 1024;

    /// <summary>Runs <paramref name="onnx"/> on up to <paramref name="maxTexts"/> of <paramref name="texts"/> with plain
    /// ONNX Runtime, batch 64, one thread, after a warm-up run of a few texts. By default 256 texts, 64 for a graph with
    /// the encoder (at ~100 texts/s one batch says the rate; more only adds seconds to every training).</summary>
    public static BundleSpeed MeasureSpeed(byte[] onnx, TrainedClassifier model, IReadOnlyList<string> texts, int? maxTexts = null)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(texts);
        const int batch = 64;
        var sample = texts.Take(maxTexts ?? (model.NeedsOnnxRuntimeExtensions ? batch : 256)).ToList();
        if (sample.Count == 0) return new BundleSpeed(onnx.LongLength, 0, 0, batch);
        using var classifier = new OnnxClassifier(onnx, model.Labels, model.Family, model.NeedsOnnxRuntimeExtensions, intraOpThreads: 1) { BatchSize = batch };
        classifier.Predict(sample.Take(8).ToList());
        // One pass over a few validation texts lasts milliseconds: timed once, a single pre-emption on a busy machine
        // changed the figure several-fold (the same 16-text sparse model measured 3,400 and 25,000 texts/s). The fastest
        // of at least two passes, more while they fit in SpeedBudget, is the model's pace rather than the machine's load.
        var fastest = double.MaxValue;
        var passes = 0;
        var total = System.Diagnostics.Stopwatch.StartNew();
        do
        {
            var sw = System.Diagnostics.Stopwatch.StartNew();
            classifier.Predict(sample);
            fastest = Math.Min(fastest, sw.Elapsed.TotalSeconds);
            passes++;
        }
        while (passes < MinSpeedPasses || passes < MaxSpeedPasses && total.Elapsed < SpeedBudget);
        return new BundleSpeed(onnx.LongLength, sample.Count / Math.Max(fastest, 1e-9), sample.Count, batch, passes);
    }

    /// <summary>Timed passes of <see cref="MeasureSpeed"/>: at least this many (a dense model's pass of 64 texts takes
    /// about 0.4 s, so it pays one extra pass)...</summary>
    internal const int MinSpeedPasses = 2;

    /// <summary>...and more while the passes so far took less than this, up to <see cref="MaxSpeedPasses"/>.</summary>
    internal static readonly TimeSpan SpeedBudget = TimeSpan.FromSeconds(0.25);

    internal const int MaxSpeedPasses = 50;

    /// <summary>Opens and validates a bundle: a zip with every expected file, checksums that match, a readable
    /// labels.json and a model.onnx that ONNX Runtime accepts. Throws <see cref="BundleException"/> otherwise.
    /// <para>Nothing large is held before it is known to be what the checksums say: the entry count, each entry's declared
    /// size and compression ratio are checked from the directory; every entry is then streamed through SHA-256, counting
    /// the bytes it really inflates to (more than declared, or over the limit, stops the read at once — .NET's reader also
    /// stops at the declared size; the count does not rely on it); only when every checksum matches is model.onnx read
    /// into memory. A 1.5 MB zip claiming (or hiding) a 1.5 GB model is refused having allocated a few MB.</para></summary>
    public static LoadedBundle Read(Stream zip)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var small = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var hashes = new Dictionary<string, string>(StringComparer.Ordinal);
        byte[] onnx;
        try
        {
            using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
            var entries = archive.Entries.Where(e => !e.FullName.EndsWith('/')).ToList();
            if (entries.Count > MaxEntries)
                throw new BundleException($"The zip holds {entries.Count} files; a model bundle holds {MaxEntries} at most.");
            foreach (var entry in entries) CheckDeclared(entry);
            foreach (var entry in entries)
            {
                var keep = entry.FullName != OnnxFile;
                var (hash, bytes) = Digest(entry, keep);
                hashes[entry.FullName] = hash;
                if (keep) small[entry.FullName] = bytes!;
            }
            string[] required = [OnnxFile, LabelsFile, ChecksumsFile];
            var missing = required.Where(r => !hashes.ContainsKey(r)).ToList();
            if (missing.Count > 0)
                throw new BundleException($"This zip is not an Incubator model bundle: {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} missing.");
            VerifyChecksums(small[ChecksumsFile], hashes);
            onnx = ReadVerified(entries.Single(e => e.FullName == OnnxFile), hashes[OnnxFile]);
        }
        catch (InvalidDataException ex)
        {
            throw new BundleException("This file is not a valid zip archive, so it is not an Incubator model bundle (it may be truncated or corrupted).", ex);
        }
        var files = new Dictionary<string, byte[]>(small, StringComparer.Ordinal) { [OnnxFile] = onnx };

        BundleManifest manifest;
        try
        {
            manifest = JsonSerializer.Deserialize<BundleManifest>(files[LabelsFile], Json) ?? throw new JsonException("empty");
        }
        catch (JsonException ex)
        {
            throw new BundleException($"{LabelsFile} is not valid: {ex.Message}", ex);
        }
        if (manifest.Format != FormatName)
            throw new BundleException($"{LabelsFile} declares format '{manifest.Format}'; this version reads '{FormatName}'.");
        if (manifest.Labels is not { Count: >= 2 })
            throw new BundleException($"{LabelsFile} lists fewer than 2 labels.");
        if (!ModelFamilies.TryParse(manifest.Family, out var family) || family == ModelFamily.Auto)
            throw new BundleException($"{LabelsFile} names an unknown model family '{manifest.Family}'.");
        OnnxClassifier classifier;
        try
        {
            classifier = new OnnxClassifier(files[OnnxFile], manifest.Labels, family, manifest.NeedsOnnxRuntimeExtensions);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new BundleException($"ONNX Runtime cannot load {OnnxFile}: {ex.Message}", ex);
        }
        var otherLanguage = new[] { CardLanguage.En, CardLanguage.Ja }.Where(l => files.ContainsKey(CardFileIn(l))).Select(l => (CardLanguage?)l).FirstOrDefault();
        return new LoadedBundle(classifier, manifest,
            files.TryGetValue(CardFile, out var card) ? Encoding.UTF8.GetString(card) : "",
            files.TryGetValue(ReadmeFile, out var readme) ? Encoding.UTF8.GetString(readme) : "",
            files[OnnxFile])
        {
            OtherCardLanguage = otherLanguage,
            OtherCard = otherLanguage is { } l ? Encoding.UTF8.GetString(files[CardFileIn(l)]) : null,
        };
    }

    private static long Limit(ZipArchiveEntry entry) => entry.FullName == OnnxFile ? MaxModelBytes : MaxOtherFileBytes;

    /// <summary>What the zip's directory says, before a byte is inflated.</summary>
    private static void CheckDeclared(ZipArchiveEntry entry)
    {
        if (entry.Length > Limit(entry))
            throw new BundleException($"{entry.FullName} would unpack to {entry.Length / (1024 * 1024):N0} MB; a model bundle's {entry.FullName} is at most {Limit(entry) / (1024 * 1024):N0} MB.");
        if (entry.Length > RatioFloorBytes && entry.Length > entry.CompressedLength * MaxCompressionRatio)
            throw new BundleException($"{entry.FullName} is compressed {entry.Length / Math.Max(1, entry.CompressedLength):N0} to 1, far beyond any model file: this zip is not a model bundle.");
    }

    /// <summary>SHA-256 of an entry's content, streamed; with <paramref name="keep"/> the (small) content too. Stops as soon
    /// as the entry inflates past its declared size or its limit.</summary>
    private static (string Hash, byte[]? Bytes) Digest(ZipArchiveEntry entry, bool keep)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var kept = keep ? new MemoryStream((int)Math.Min(entry.Length, MaxOtherFileBytes)) : null;
        using var s = entry.Open();
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = s.Read(buffer, 0, buffer.Length)) > 0)
        {
            total += read;
            if (total > entry.Length || total > Limit(entry))
                throw new BundleException($"{entry.FullName} inflates to more than the zip says ({entry.Length:N0} bytes): this zip is damaged or forged, not a model bundle.");
            sha.AppendData(buffer, 0, read);
            kept?.Write(buffer, 0, read);
        }
        return (Convert.ToHexStringLower(sha.GetHashAndReset()), kept?.ToArray());
    }

    private static void VerifyChecksums(byte[] checksums, IReadOnlyDictionary<string, string> hashes)
    {
        var listed = new Dictionary<string, string>(StringComparer.Ordinal);
        var lineNo = 0;
        foreach (var line in Encoding.UTF8.GetString(checksums).Split('\n'))
        {
            lineNo++;
            if (line.Trim().Length == 0) continue;
            var parts = line.Split("  ", 2);
            if (parts.Length != 2 || parts[0].Length != 64)
                throw new BundleException($"{ChecksumsFile}, line {lineNo}: expected '<sha256>  <file name>'.");
            listed[parts[1].TrimEnd('\r')] = parts[0].ToLowerInvariant();
        }
        foreach (var (name, actual) in hashes.Where(h => h.Key != ChecksumsFile))
        {
            if (!listed.TryGetValue(name, out var expected))
                throw new BundleException($"{name} is in the bundle but not in {ChecksumsFile}; the bundle was modified.");
            if (actual != expected)
                throw new BundleException($"Checksum mismatch for {name}: the bundle was modified or corrupted after it was written.");
        }
        foreach (var name in listed.Keys.Where(n => !hashes.ContainsKey(n)))
            throw new BundleException($"{name} is listed in {ChecksumsFile} but missing from the bundle.");
    }

    /// <summary>The model, read once its checksum is known to match; read again here, so it is checked again.</summary>
    private static byte[] ReadVerified(ZipArchiveEntry entry, string expectedHash)
    {
        var bytes = new byte[entry.Length];
        using (var s = entry.Open())
        {
            var offset = 0;
            int read;
            while (offset < bytes.Length && (read = s.Read(bytes, offset, bytes.Length - offset)) > 0) offset += read;
            if (offset != bytes.Length || s.ReadByte() != -1)
                throw new BundleException($"{entry.FullName} changed while it was read; the file is damaged.");
        }
        if (Convert.ToHexStringLower(SHA256.HashData(bytes)) != expectedHash)
            throw new BundleException($"{entry.FullName} changed while it was read; the file is damaged.");
        return bytes;
    }
}

public sealed class LoadedBundle(OnnxClassifier classifier, BundleManifest manifest, string modelCard, string readme, byte[] onnxModel) : IDisposable
{
    public OnnxClassifier Classifier { get; } = classifier;

    public BundleManifest Manifest { get; } = manifest;

    public IReadOnlyList<string> Labels => Manifest.Labels;

    public ModelFamily Family => Classifier.Family;

    public string ModelCard { get; } = modelCard;

    /// <summary>The card in the other language (model-card.en.md / model-card.ja.md); null in a bundle with one card.</summary>
    public string? OtherCard { get; init; }

    public CardLanguage? OtherCardLanguage { get; init; }

    public string Readme { get; } = readme;

    public byte[] OnnxModel { get; } = onnxModel;

    public void Dispose() => Classifier.Dispose();
}
