using System.Buffers.Binary;
using System.IO.Compression;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Cli;

namespace Incubator.Tests.Security;

/// <summary>The zip bomb: a 1.5 MB zip whose model.onnx inflates to 1.5 GB took `predict` and `query` to 5.2 GB
/// of memory before it was refused. Now it is refused having allocated a few MB — with its true size in the zip's
/// directory, and with a forged small one (the bytes are counted as they inflate). Memory is measured as the bytes this
/// thread allocated during the read (the reader is synchronous), against the 200 MB the issue allows.</summary>
public sealed class BundleBombTests : IClassFixture<BundleBombTests.Bombs>
{
    private const long MemoryBudget = 200L * 1024 * 1024;

    /// <summary>Built once: deflating 1.5 GB of zeros takes a few seconds.</summary>
    public sealed class Bombs : IDisposable
    {
        public const long Inflated = 1536L * 1024 * 1024;

        private readonly TempFolder _folder = new("incubator-bomb");

        public Bombs()
        {
            Honest = Path.Combine(_folder.Path, "bomb.zip");
            using (var file = File.Create(Honest))
            using (var zip = new ZipArchive(file, ZipArchiveMode.Create))
            {
                using var entry = zip.CreateEntry(ModelBundle.OnnxFile, CompressionLevel.SmallestSize).Open();
                var zeros = new byte[1024 * 1024];
                for (long written = 0; written < Inflated; written += zeros.Length) entry.Write(zeros);
            }
            // The same bytes with the directory claiming 1 MB: only counting what really inflates can catch it.
            var bytes = File.ReadAllBytes(Honest);
            Patch(bytes, 0x04034b50, 22);
            Patch(bytes, 0x02014b50, 24);
            Forged = Path.Combine(_folder.Path, "forged.zip");
            File.WriteAllBytes(Forged, bytes);
        }

        public string Honest { get; }

        public string Forged { get; }

        public string Folder => _folder.Path;

        private static void Patch(byte[] zip, uint signature, int sizeOffset)
        {
            for (var i = 0; i < zip.Length - 4; i++)
            {
                if (BinaryPrimitives.ReadUInt32LittleEndian(zip.AsSpan(i)) != signature) continue;
                BinaryPrimitives.WriteUInt32LittleEndian(zip.AsSpan(i + sizeOffset), 1024 * 1024);
                return;
            }
            throw new InvalidOperationException($"No header {signature:x8} in the zip.");
        }

        public void Dispose() => _folder.Dispose();
    }

    private readonly Bombs _bombs;

    public BundleBombTests(Bombs bombs) => _bombs = bombs;

    private static (BundleException Error, long Allocated) ReadMeasured(string path)
    {
        using var stream = File.OpenRead(path);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<BundleException>(() => ModelBundle.Read(stream));
        return (error, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void The_bomb_is_small_on_disk_and_huge_inflated()
    {
        Assert.InRange(new FileInfo(_bombs.Honest).Length, 1, 5L * 1024 * 1024);
        using var zip = ZipFile.OpenRead(_bombs.Honest);
        Assert.Equal(Bombs.Inflated, zip.GetEntry(ModelBundle.OnnxFile)!.Length);
    }

    [Fact]
    public void A_bomb_that_declares_its_size_is_refused_before_inflating_with_memory_far_under_200_MB()
    {
        var (error, allocated) = ReadMeasured(_bombs.Honest);

        Assert.Contains("would unpack to 1,536 MB", error.Message);
        Assert.True(allocated < MemoryBudget, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public void A_bomb_that_hides_its_size_is_stopped_as_it_inflates_with_memory_far_under_200_MB()
    {
        var (error, allocated) = ReadMeasured(_bombs.Forged);

        // .NET's zip reader itself stops at the declared size; the reader's own count would stop it otherwise. Either
        // way the model is refused (here: what is left is not a bundle) and nothing large was held.
        Assert.Matches("inflates to more than the zip says|is not an Incubator model bundle", error.Message);
        Assert.True(allocated < MemoryBudget, $"{allocated:N0} bytes allocated");
    }

    [Fact]
    public async Task The_predict_verb_refuses_the_bomb_with_exit_code_2_and_a_message()
    {
        var data = Path.Combine(_bombs.Folder, "texts.txt");
        await File.WriteAllTextAsync(data, "one text\n");
        var stdout = new StringWriter();
        var stderr = new StringWriter();

        var code = await CliApp.RunAsync(["predict", "--model", _bombs.Forged, "--data", data], stdout, stderr);

        Assert.Equal(2, code);
        Assert.Matches($"error: {System.Text.RegularExpressions.Regex.Escape(_bombs.Forged)}: .*(inflates to more than the zip says|is not an Incubator model bundle)",
            stderr.ToString());
    }

    [Fact]
    public void A_zip_with_more_files_than_any_bundle_is_refused_from_its_directory()
    {
        using var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            for (var i = 0; i <= ModelBundle.MaxEntries; i++)
                using (var w = new StreamWriter(zip.CreateEntry($"f{i}.txt").Open())) w.Write(i);
        ms.Position = 0;

        var error = Assert.Throws<BundleException>(() => ModelBundle.Read(ms));

        Assert.Contains($"holds {ModelBundle.MaxEntries + 1} files", error.Message);
    }
}
