using System.Buffers.Binary;

namespace Incubator.Domain.Mining;

/// <summary>Packs a batch of vectors into one blob. Dense (format 1): count × dims little-endian float32. Sparse
/// (format 2, chosen when it is smaller — the 8,192-d char n-gram vectors touch a few hundred buckets): per vector a
/// uint16/int32 count of entries then (uint16 or int32 index, float32 value) pairs. A 384-d MiniLM vector is 1,536 bytes;
/// a sentence's char n-gram vector about 1 KB instead of 32 KB.</summary>
public static class EmbeddingBlob
{
    private const byte Dense = 1;
    private const byte Sparse = 2;

    public static byte[] Pack(IReadOnlyList<float[]> vectors, int dimensions)
    {
        long nonZero = 0;
        foreach (var v in vectors)
            foreach (var x in v)
                if (x != 0) nonZero++;
        var denseSize = 1L + (long)vectors.Count * dimensions * 4;
        var sparseSize = 1L + vectors.Count * 4L + nonZero * 8;
        if (denseSize <= sparseSize)
        {
            var bytes = new byte[denseSize];
            bytes[0] = Dense;
            var span = bytes.AsSpan(1);
            var o = 0;
            foreach (var v in vectors)
            {
                if (v.Length != dimensions) throw new ArgumentException($"A vector has {v.Length} dimensions; expected {dimensions}.");
                foreach (var x in v)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(span[o..], x);
                    o += 4;
                }
            }
            return bytes;
        }
        var sparse = new byte[sparseSize];
        sparse[0] = Sparse;
        var s = sparse.AsSpan(1);
        var p = 0;
        foreach (var v in vectors)
        {
            if (v.Length != dimensions) throw new ArgumentException($"A vector has {v.Length} dimensions; expected {dimensions}.");
            var countAt = p;
            p += 4;
            var count = 0;
            for (var i = 0; i < v.Length; i++)
            {
                if (v[i] == 0) continue;
                BinaryPrimitives.WriteInt32LittleEndian(s[p..], i);
                BinaryPrimitives.WriteSingleLittleEndian(s[(p + 4)..], v[i]);
                p += 8;
                count++;
            }
            BinaryPrimitives.WriteInt32LittleEndian(s[countAt..], count);
        }
        return sparse;
    }

    public static float[][] Unpack(byte[] data, int count, int dimensions)
    {
        var result = new float[count][];
        if (data.Length == 0) throw new InvalidDataException("Empty embedding blob.");
        var span = data.AsSpan(1);
        if (data[0] == Dense)
        {
            if (span.Length != (long)count * dimensions * 4) throw new InvalidDataException("Dense embedding blob has the wrong size.");
            var o = 0;
            for (var k = 0; k < count; k++)
            {
                var v = new float[dimensions];
                for (var i = 0; i < dimensions; i++, o += 4) v[i] = BinaryPrimitives.ReadSingleLittleEndian(span[o..]);
                result[k] = v;
            }
            return result;
        }
        if (data[0] != Sparse) throw new InvalidDataException($"Unknown embedding blob format {data[0]}.");
        var p = 0;
        for (var k = 0; k < count; k++)
        {
            var v = new float[dimensions];
            var n = BinaryPrimitives.ReadInt32LittleEndian(span[p..]);
            p += 4;
            for (var e = 0; e < n; e++, p += 8)
                v[BinaryPrimitives.ReadInt32LittleEndian(span[p..])] = BinaryPrimitives.ReadSingleLittleEndian(span[(p + 4)..]);
            result[k] = v;
        }
        return result;
    }
}
