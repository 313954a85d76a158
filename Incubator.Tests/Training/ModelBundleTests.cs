using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

public sealed class ModelBundleTests
{
    private static readonly Lazy<TrainedClassifier> Model = new(() =>
    {
        var rows = TrainingFixtures.English();
        var (train, validation) = StratifiedSplit.Split(rows, 0.25, 1);
        return new ClassifierTrainer().Train(TrainingFixtures.LabelsOf(rows), train, validation, null,
            new TrainingOptions(ModelFamily.Sparse), null, CancellationToken.None).Model;
    });

    private static byte[] Bundle()
    {
        using var ms = new MemoryStream();
        ModelBundle.Write(ms, Model.Value, new BundleInfo("support-router", "3", "# Model card\n\nTest card."));
        return ms.ToArray();
    }

    /// <summary>A bundle with the card in both languages (decision 0012, amendment card22): model-card.md is the
    /// starter's, the other language's file is beside it, in the checksums and named in README.md, and reads back.</summary>
    [Fact]
    public void A_bundle_holds_the_card_in_both_languages()
    {
        using var ms = new MemoryStream();
        ModelBundle.Write(ms, Model.Value, BundleInfo.For("support-router", "3", new ModelCards(CardLanguage.Ja, "# モデルカード", "# Model card")));
        var bytes = ms.ToArray();
        using (var zip = new ZipArchive(new MemoryStream(bytes)))
        {
            Assert.Equal(["model.onnx", "labels.json", "model-card.md", "model-card.en.md", "README.md", "checksums.sha256"], zip.Entries.Select(e => e.FullName));
            using var sums = new StreamReader(zip.GetEntry("checksums.sha256")!.Open());
            Assert.Contains("  model-card.en.md", sums.ReadToEnd());
        }
        using var bundle = ModelBundle.Read(new MemoryStream(bytes));
        Assert.Equal("# モデルカード", bundle.ModelCard);
        Assert.Equal("# Model card", bundle.OtherCard);
        Assert.Equal(CardLanguage.En, bundle.OtherCardLanguage);
        Assert.Contains("- `model-card.en.md` — the same card in English (`model-card.md` is in Japanese", bundle.Readme);
    }

    [Fact]
    public void Round_trip_has_every_file_and_predicts_like_the_in_app_model()
    {
        var bytes = Bundle();
        using (var zip = new ZipArchive(new MemoryStream(bytes)))
            Assert.Equal(["model.onnx", "labels.json", "model-card.md", "README.md", "checksums.sha256"], zip.Entries.Select(e => e.FullName));
        using var bundle = ModelBundle.Read(new MemoryStream(bytes));
        Assert.Equal(Model.Value.Labels, bundle.Labels);
        Assert.Equal(ModelFamily.Sparse, bundle.Family);
        Assert.Equal("# Model card\n\nTest card.", bundle.ModelCard);
        Assert.False(bundle.Manifest.NeedsOnnxRuntimeExtensions);
        Assert.Equal("text", bundle.Manifest.Input.Name);
        Assert.Equal(["label", "probabilities"], bundle.Manifest.Outputs.Select(o => o.Name));
        Assert.Contains("InferenceSession", bundle.Readme);
        Assert.Contains("import onnxruntime", bundle.Readme);
        var texts = TrainingFixtures.English().Select(r => r.Text).Take(50).Concat(TrainingFixtures.TrickyTexts()).ToList();
        ParityAssert.SameAsOnnx(Model.Value, bundle.Classifier, texts);
    }

    /// <summary>The hybrid graph lower-cases its n-grams with StringNormalizer (locale C.UTF-8) beside the encoder's BERT
    /// tokenizer: its README and labels.json say both, not only the extensions (off Linux the locale is what fails).</summary>
    [Fact]
    public void Hybrid_instructions_name_the_extensions_and_the_lower_casing_locale_dense_ones_only_the_extensions()
    {
        string[] texts = ["good film", "bad film", "great plot", "awful plot"];
        var sparse = SparseFeaturizer.Fit(texts, TokenMode.Word);
        LinearHead Head(int d) => new([new float[d], new float[d]], [0f, 0f]);
        var hybrid = new TrainedClassifier(["neg", "pos"], sparse, new DenseFeaturizer(), Head(sparse.Dimension + DenseFeaturizer.Dimension));
        var dense = new TrainedClassifier(["neg", "pos"], new DenseFeaturizer(), Head(DenseFeaturizer.Dimension));
        var info = new BundleInfo("m", "1", "card");

        var h = ModelBundle.ManifestFor(hybrid, info);
        Assert.Contains("onnxruntime-extensions", h.Notes);
        Assert.Contains("StringNormalizer with locale C.UTF-8", h.Notes);
        var readme = BundleReadme.For(h);
        Assert.Contains("onnxruntime-extensions", readme);
        Assert.Contains("`StringNormalizer` with locale `C.UTF-8`", readme);
        Assert.Contains("`en_US.UTF-8`", readme);

        var d = ModelBundle.ManifestFor(dense, info);
        Assert.Contains("onnxruntime-extensions", d.Notes);
        Assert.DoesNotContain("StringNormalizer", d.Notes);
        Assert.DoesNotContain("StringNormalizer", BundleReadme.For(d));

        var s = ModelBundle.ManifestFor(new TrainedClassifier(["neg", "pos"], sparse, Head(sparse.Dimension)), info);
        Assert.Equal("Input is a 1-D string tensor [N] of raw text (N >= 1). Lower-casing uses StringNormalizer with locale C.UTF-8.", s.Notes);
        Assert.Contains("Only standard ONNX Runtime operators", BundleReadme.For(s));
        Assert.Contains("`StringNormalizer` with locale `C.UTF-8`", BundleReadme.For(s));
    }

    [Fact]
    public void Checksums_file_lists_sha256_of_every_other_file()
    {
        using var zip = new ZipArchive(new MemoryStream(Bundle()));
        var sums = new StreamReader(zip.GetEntry("checksums.sha256")!.Open()).ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, sums.Length);
        foreach (var line in sums)
        {
            var (hash, name) = (line[..64], line[66..]);
            using var s = zip.GetEntry(name)!.Open();
            Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(s)), hash);
        }
    }

    [Theory]
    [InlineData("model.onnx")]
    [InlineData("labels.json")]
    [InlineData("model-card.md")]
    public void A_changed_file_is_detected(string victim)
    {
        var tampered = Rewrite(Bundle(), (name, bytes) => name == victim ? [.. bytes, (byte)' '] : bytes);
        var ex = Assert.Throws<BundleException>(() => ModelBundle.Read(new MemoryStream(tampered)));
        Assert.Contains($"Checksum mismatch for {victim}", ex.Message);
    }

    [Fact]
    public void An_added_file_is_detected()
    {
        var bytes = Bundle();
        var ms = new MemoryStream();
        ms.Write(bytes);
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Update, leaveOpen: true))
            using (var w = new StreamWriter(zip.CreateEntry("extra.txt").Open())) w.Write("hello");
        var ex = Assert.Throws<BundleException>(() => ModelBundle.Read(new MemoryStream(ms.ToArray())));
        Assert.Contains("extra.txt", ex.Message);
    }

    [Fact]
    public void A_foreign_zip_is_rejected_with_a_clear_message()
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            using (var w = new StreamWriter(zip.CreateEntry("photo.jpg").Open())) w.Write("not a model");
        var ex = Assert.Throws<BundleException>(() => ModelBundle.Read(new MemoryStream(ms.ToArray())));
        Assert.Contains("not an Incubator model bundle", ex.Message);
        Assert.Contains("model.onnx", ex.Message);
    }

    [Fact]
    public void Random_bytes_and_a_truncated_bundle_are_rejected()
    {
        var ex = Assert.Throws<BundleException>(() => ModelBundle.Read(new MemoryStream(Encoding.UTF8.GetBytes("label\ttext\nhello\tworld\n"))));
        Assert.Contains("not a valid zip", ex.Message);
        var bytes = Bundle();
        Assert.Throws<BundleException>(() => ModelBundle.Read(new MemoryStream(bytes[..(bytes.Length / 2)])));
    }

    [Fact]
    public void A_consistent_bundle_with_a_broken_onnx_model_is_rejected_by_onnx_runtime()
    {
        var broken = Rewrite(Bundle(), (name, bytes) => name == "model.onnx" ? Encoding.UTF8.GetBytes("garbage") : bytes, recomputeChecksums: true);
        var ex = Assert.Throws<BundleException>(() => ModelBundle.Read(new MemoryStream(broken)));
        Assert.Contains("ONNX Runtime cannot load model.onnx", ex.Message);
    }

    [Fact]
    public void Labels_json_names_family_labels_and_io()
    {
        using var zip = new ZipArchive(new MemoryStream(Bundle()));
        using var doc = JsonDocument.Parse(zip.GetEntry("labels.json")!.Open());
        var root = doc.RootElement;
        Assert.Equal("sparse", root.GetProperty("family").GetString());
        Assert.Equal(Model.Value.Labels, root.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!));
        Assert.False(root.GetProperty("needsOnnxRuntimeExtensions").GetBoolean());
        Assert.Equal("support-router", root.GetProperty("modelName").GetString());
    }

    private static byte[] Rewrite(byte[] bundle, Func<string, byte[], byte[]> change, bool recomputeChecksums = false)
    {
        var files = new List<(string, byte[])>();
        using (var zip = new ZipArchive(new MemoryStream(bundle)))
            foreach (var e in zip.Entries)
            {
                using var s = e.Open();
                using var ms = new MemoryStream();
                s.CopyTo(ms);
                files.Add((e.FullName, change(e.FullName, ms.ToArray())));
            }
        if (recomputeChecksums)
        {
            var sums = string.Concat(files.Where(f => f.Item1 != "checksums.sha256").Select(f => $"{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(f.Item2))}  {f.Item1}\n"));
            files = files.Select(f => f.Item1 == "checksums.sha256" ? (f.Item1, Encoding.UTF8.GetBytes(sums)) : f).ToList();
        }
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, bytes) in files)
                using (var s = zip.CreateEntry(name).Open()) s.Write(bytes);
        return output.ToArray();
    }
}
