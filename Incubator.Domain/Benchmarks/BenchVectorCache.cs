using System.Security.Cryptography;
using System.Text;
using Incubator.Domain.Embeddings;

namespace Incubator.Domain.Benchmarks;

/// <summary>Benchmarks only: an on-disk cache of embedded texts, so that repeated runs of a benchmark skip embedding the
/// same pool again. Off unless INCUBATOR_BENCH_VECTOR_CACHE names a folder; each file is keyed by the SHA-256 of the
/// embedder's name and the texts in order. Never used by the shipped paths.</summary>
internal static class BenchVectorCache
{
    public const string Variable = "INCUBATOR_BENCH_VECTOR_CACHE";

    public static float[][] Embed(ITextEmbedder embedder, IReadOnlyList<string> texts)
    {
        var folder = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(folder)) return embedder.Embed(texts);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(embedder.Name + "\n" + string.Join("\u0001", texts)));
        var path = Path.Combine(folder, Convert.ToHexString(hash) + ".vec");
        if (File.Exists(path))
        {
            using var reader = new BinaryReader(File.OpenRead(path));
            var count = reader.ReadInt32();
            if (count == texts.Count)
            {
                var result = new float[count][];
                for (var i = 0; i < count; i++)
                {
                    var v = new float[reader.ReadInt32()];
                    for (var k = 0; k < v.Length; k++) v[k] = reader.ReadSingle();
                    result[i] = v;
                }
                return result;
            }
        }
        var vectors = embedder.Embed(texts);
        Directory.CreateDirectory(folder);
        var temp = path + ".tmp";
        using (var writer = new BinaryWriter(File.Create(temp)))
        {
            writer.Write(vectors.Length);
            foreach (var v in vectors)
            {
                writer.Write(v.Length);
                foreach (var f in v) writer.Write(f);
            }
        }
        File.Move(temp, path, overwrite: true);
        return vectors;
    }
}
