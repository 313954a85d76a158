using System.IO.Compression;
using System.Security.Cryptography;
using System.Text.Json;
using Incubator.Domain.Datasets;

namespace Incubator.Tests.FineTuning;

/// <summary>Reads a fine-tuning pairs zip back and checks it against the two formats: every line of every JSONL file
/// parses, has exactly the format's shape, and its output is a JSON object whose keys are exactly the task's labels
/// with one non-empty string each. Also checks the checksums.</summary>
internal sealed record PairsFiles(
    IReadOnlyList<JsonElement> ChatTrain, IReadOnlyList<JsonElement> ChatValidation,
    IReadOnlyList<JsonElement> InstructionTrain, IReadOnlyList<JsonElement> InstructionValidation, string DataCard)
{
    public static PairsFiles Read(Stream zip, IReadOnlyList<string> labels)
    {
        using var archive = new ZipArchive(zip, ZipArchiveMode.Read, leaveOpen: true);
        var texts = archive.Entries.ToDictionary(e => e.FullName, e =>
        {
            using var s = e.Open();
            using var ms = new MemoryStream();
            s.CopyTo(ms);
            return ms.ToArray();
        });
        Assert.Equal(
            [FineTuningPairs.ChatTrainFile, FineTuningPairs.ChatValidationFile, FineTuningPairs.InstructionTrainFile, FineTuningPairs.InstructionValidationFile,
                FineTuningPairs.DataCardFile, "checksums.sha256"],
            archive.Entries.Select(e => e.FullName));
        foreach (var line in System.Text.Encoding.UTF8.GetString(texts["checksums.sha256"]).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var (hash, name) = (line[..64], line[66..]);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(texts[name])), hash);
        }
        return new PairsFiles(
            Chat(texts[FineTuningPairs.ChatTrainFile], labels), Chat(texts[FineTuningPairs.ChatValidationFile], labels),
            Instruction(texts[FineTuningPairs.InstructionTrainFile], labels), Instruction(texts[FineTuningPairs.InstructionValidationFile], labels),
            System.Text.Encoding.UTF8.GetString(texts[FineTuningPairs.DataCardFile]));
    }

    /// <summary>The output objects of the chat train file, for comparisons.</summary>
    public IEnumerable<string> ChatTrainOutputs => ChatTrain.Select(l => l.GetProperty("messages")[2].GetProperty("content").GetString()!);

    private static List<string> Lines(byte[] bytes)
    {
        var text = System.Text.Encoding.UTF8.GetString(bytes);
        Assert.True(text.Length == 0 || text.EndsWith('\n'), "a JSONL file ends with a newline");
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    private static List<JsonElement> Chat(byte[] bytes, IReadOnlyList<string> labels) => Lines(bytes).Select(line =>
    {
        var doc = JsonDocument.Parse(line).RootElement;
        Assert.Equal(["messages"], doc.EnumerateObject().Select(p => p.Name));
        var messages = doc.GetProperty("messages").EnumerateArray().ToList();
        Assert.Equal(["system", "user", "assistant"], messages.Select(m => m.GetProperty("role").GetString()));
        Assert.All(messages, m => Assert.False(string.IsNullOrWhiteSpace(m.GetProperty("content").GetString())));
        AssertOutput(messages[2].GetProperty("content").GetString()!, labels);
        return doc.Clone();
    }).ToList();

    private static List<JsonElement> Instruction(byte[] bytes, IReadOnlyList<string> labels) => Lines(bytes).Select(line =>
    {
        var doc = JsonDocument.Parse(line).RootElement;
        Assert.Equal(["instruction", "input", "output"], doc.EnumerateObject().Select(p => p.Name));
        Assert.False(string.IsNullOrWhiteSpace(doc.GetProperty("instruction").GetString()));
        Assert.EndsWith("Output:", doc.GetProperty("input").GetString());
        AssertOutput(doc.GetProperty("output").GetString()!, labels);
        return doc.Clone();
    }).ToList();

    private static void AssertOutput(string output, IReadOnlyList<string> labels)
    {
        var obj = JsonDocument.Parse(output).RootElement;
        Assert.Equal(JsonValueKind.Object, obj.ValueKind);
        Assert.Equal(labels, obj.EnumerateObject().Select(p => p.Name));
        Assert.All(obj.EnumerateObject(), p => Assert.False(string.IsNullOrWhiteSpace(p.Value.GetString())));
    }
}
