using System.Text;

namespace Incubator.Domain.Training.Onnx;

/// <summary>A minimal protobuf writer for the parts of onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto,
/// TensorProto, ValueInfoProto) that our exported graphs use. Field numbers follow onnx/onnx.proto (IR version 8).
/// Writing them by hand keeps the export free of generated code and of a protoc build step; the parity tests load
/// every graph we write with plain ONNX Runtime, which validates the encoding.
/// A message is kept as a list of parts (small encoded fields, references to existing bytes, nested messages) and
/// serialised once, into one array of the exact size: the 91 MB encoder spliced into a graph is referenced, never
/// copied through nested buffers (that re-serialisation made a 1.5 GB spike before).</summary>
internal sealed class ProtoWriter
{
    private readonly List<object> _parts = []; // byte[] (owned), ReadOnlyMemory<byte> (referenced) or ProtoWriter
    private MemoryStream? _pending;

    /// <summary>Encoded size in bytes.</summary>
    public long Length { get; private set; }

    public byte[] ToArray()
    {
        Flush();
        if (Length > Array.MaxLength) throw new InvalidOperationException($"The ONNX model would be {Length:N0} bytes, more than one array can hold.");
        var result = GC.AllocateUninitializedArray<byte>((int)Length);
        var at = WriteTo(result);
        if (at != result.Length) throw new InvalidOperationException("Protobuf size mismatch.");
        return result;
    }

    private int WriteTo(Span<byte> destination)
    {
        Flush();
        var at = 0;
        foreach (var part in _parts)
        {
            switch (part)
            {
                case byte[] b:
                    b.CopyTo(destination[at..]);
                    at += b.Length;
                    break;
                case ReadOnlyMemory<byte> m:
                    m.Span.CopyTo(destination[at..]);
                    at += m.Length;
                    break;
                case ProtoWriter w:
                    at += w.WriteTo(destination[at..]);
                    break;
            }
        }
        return at;
    }

    private void Flush()
    {
        if (_pending is not { Length: > 0 }) return;
        _parts.Add(_pending.ToArray());
        _pending = null;
    }

    private MemoryStream Pending => _pending ??= new MemoryStream();

    private void Varint(ulong value)
    {
        var s = Pending;
        while (value >= 0x80)
        {
            s.WriteByte((byte)(value | 0x80));
            value >>= 7;
            Length++;
        }
        s.WriteByte((byte)value);
        Length++;
    }

    private void Tag(int field, int wireType) => Varint((ulong)((field << 3) | wireType));

    private void Small(ReadOnlySpan<byte> bytes)
    {
        Pending.Write(bytes);
        Length += bytes.Length;
    }

    public ProtoWriter Int(int field, long value)
    {
        Tag(field, 0);
        Varint(unchecked((ulong)value));
        return this;
    }

    public ProtoWriter Float(int field, float value)
    {
        Tag(field, 5);
        Span<byte> b = stackalloc byte[4];
        BitConverter.TryWriteBytes(b, value);
        if (!BitConverter.IsLittleEndian) b.Reverse();
        Small(b);
        return this;
    }

    /// <summary>A length-delimited field; payloads over 4 KiB are referenced, not copied, so they must not change
    /// until the message is serialised.</summary>
    public ProtoWriter Bytes(int field, ReadOnlyMemory<byte> value)
    {
        Tag(field, 2);
        Varint((ulong)value.Length);
        if (value.Length <= 4096) Small(value.Span);
        else
        {
            Flush();
            _parts.Add(value);
            Length += value.Length;
        }
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A nested message, referenced: it must be complete (nothing added to it afterwards).</summary>
    public ProtoWriter Message(int field, ProtoWriter message)
    {
        message.Flush();
        Tag(field, 2);
        Varint((ulong)message.Length);
        Flush();
        _parts.Add(message);
        Length += message.Length;
        return this;
    }

    public ProtoWriter PackedFloats(int field, ReadOnlySpan<float> values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * 4), values[i]);
        return Bytes(field, bytes);
    }

    public ProtoWriter PackedInts(int field, IEnumerable<long> values)
    {
        var inner = new ProtoWriter();
        foreach (var v in values) inner.Varint(unchecked((ulong)v));
        return Message(field, inner);
    }

    /// <summary>Appends already-encoded fields verbatim (used to copy fields of an existing model), by reference.</summary>
    public ProtoWriter Raw(ReadOnlyMemory<byte> encodedFields)
    {
        Flush();
        _parts.Add(encodedFields);
        Length += encodedFields.Length;
        return this;
    }
}

/// <summary>Reads the top-level fields of a protobuf message without a schema (enough to splice graphs).</summary>
internal static class ProtoReader
{
    public readonly record struct Field(int Number, int WireType, ReadOnlyMemory<byte> Encoded, ReadOnlyMemory<byte> Payload);

    public static List<Field> Fields(ReadOnlyMemory<byte> message)
    {
        var result = new List<Field>();
        var span = message.Span;
        var pos = 0;
        while (pos < span.Length)
        {
            var start = pos;
            var key = ReadVarint(span, ref pos);
            var number = (int)(key >> 3);
            var wire = (int)(key & 7);
            int payloadStart, payloadLength;
            switch (wire)
            {
                case 0:
                    payloadStart = pos;
                    ReadVarint(span, ref pos);
                    payloadLength = pos - payloadStart;
                    break;
                case 1:
                    payloadStart = pos;
                    payloadLength = 8;
                    pos += 8;
                    break;
                case 2:
                    var len = (int)ReadVarint(span, ref pos);
                    payloadStart = pos;
                    payloadLength = len;
                    pos += len;
                    break;
                case 5:
                    payloadStart = pos;
                    payloadLength = 4;
                    pos += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wire}.");
            }
            if (pos > span.Length) throw new InvalidDataException("Truncated protobuf message.");
            result.Add(new Field(number, wire, message[start..pos], message.Slice(payloadStart, payloadLength)));
        }
        return result;
    }

    public static ulong ReadVarint(ReadOnlySpan<byte> span, ref int pos)
    {
        ulong value = 0;
        var shift = 0;
        while (true)
        {
            if (pos >= span.Length) throw new InvalidDataException("Truncated varint.");
            var b = span[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return value;
            shift += 7;
        }
    }
}

/// <summary>ONNX element types (TensorProto.DataType).</summary>
internal enum OnnxType
{
    Float = 1,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
}

/// <summary>Builds an ONNX graph node by node and serialises a ModelProto.</summary>
internal sealed class OnnxGraphBuilder
{
    private readonly List<object> _nodes = []; // NodeProto writers or encoded GraphProto.node fields, in topological order
    private readonly List<ProtoWriter> _initializers = [];
    private readonly List<ProtoWriter> _inputs = [];
    private readonly List<ProtoWriter> _outputs = [];
    private readonly List<ReadOnlyMemory<byte>> _rawInitializers = [];
    private readonly Dictionary<string, long> _opsets = new() { [""] = 17 };
    private int _counter;

    public OnnxGraphBuilder(string namePrefix = "inc")
    {
        _prefix = namePrefix;
    }

    private readonly string _prefix;

    public string Unique(string prefix) => $"{_prefix}_{prefix}_{++_counter}";

    public void Opset(string domain, long version) => _opsets[domain] = version;

    public void Input(string name, OnnxType type, params object[] dims) => _inputs.Add(ValueInfo(name, type, dims));

    public void Output(string name, OnnxType type, params object[] dims) => _outputs.Add(ValueInfo(name, type, dims));

    private static ProtoWriter ValueInfo(string name, OnnxType type, object[] dims)
    {
        var shape = new ProtoWriter();
        foreach (var d in dims)
        {
            var dim = new ProtoWriter();
            if (d is string param) dim.String(2, param);
            else dim.Int(1, Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture));
            shape.Message(1, dim);
        }
        var tensorType = new ProtoWriter().Int(1, (int)type).Message(2, shape);
        var typeProto = new ProtoWriter().Message(1, tensorType);
        return new ProtoWriter().String(1, name).Message(2, typeProto);
    }

    public string Node(string opType, string[] inputs, string[]? outputs = null, string domain = "", params (string Name, object Value)[] attributes)
    {
        outputs ??= [Unique(opType)];
        var node = new ProtoWriter();
        foreach (var i in inputs) node.String(1, i);
        foreach (var o in outputs) node.String(2, o);
        node.String(3, Unique("node_" + opType));
        node.String(4, opType);
        foreach (var (name, value) in attributes) node.Message(5, Attribute(name, value));
        if (domain.Length > 0) node.String(7, domain);
        _nodes.Add(node);
        return outputs[0];
    }

    private static ProtoWriter Attribute(string name, object value)
    {
        var a = new ProtoWriter().String(1, name);
        switch (value)
        {
            case float f:
                a.Float(2, f).Int(20, 1);
                break;
            case int or long:
                a.Int(3, Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture)).Int(20, 2);
                break;
            case string s:
                a.String(4, s).Int(20, 3);
                break;
            case float[] fs:
                a.PackedFloats(7, fs).Int(20, 6);
                break;
            case long[] ls:
                a.PackedInts(8, ls).Int(20, 7);
                break;
            case string[] ss:
                foreach (var s in ss) a.String(9, s);
                a.Int(20, 8);
                break;
            case OnnxGraphBuilder body:
                a.Message(6, body.Graph(name)).Int(20, 5);
                break;
            default:
                throw new ArgumentException($"Unsupported attribute type {value.GetType()}.", nameof(value));
        }
        return a;
    }

    public string FloatTensor(string name, float[] data, params long[] dims)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Int(1, d);
        t.Int(2, (int)OnnxType.Float).String(8, name);
        var raw = new byte[data.Length * 4];
        for (var i = 0; i < data.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(i * 4), data[i]);
        t.Bytes(9, raw);
        _initializers.Add(t);
        return name;
    }

    public string Int64Tensor(string name, long[] data, params long[] dims)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Int(1, d);
        t.Int(2, (int)OnnxType.Int64).String(8, name);
        var raw = new byte[data.Length * 8];
        for (var i = 0; i < data.Length; i++) BitConverter.TryWriteBytes(raw.AsSpan(i * 8), data[i]);
        t.Bytes(9, raw);
        _initializers.Add(t);
        return name;
    }

    public string StringTensor(string name, string[] data, params long[] dims)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Int(1, d);
        t.Int(2, (int)OnnxType.String);
        foreach (var s in data) t.String(6, s);
        t.String(8, name);
        _initializers.Add(t);
        return name;
    }

    /// <summary>Adds the encoder's nodes and initializers to this graph (by reference; nothing is copied until
    /// <see cref="Build"/>).</summary>
    public void Splice(EncoderGraph encoder)
    {
        _nodes.AddRange(encoder.Nodes);
        foreach (var i in encoder.Initializers)
        {
            if (i is ProtoWriter w) _initializers.Add(w);
            else _rawInitializers.Add((ReadOnlyMemory<byte>)i);
        }
    }

    /// <summary>A bool scalar, or a tensor of the given shape holding one element.</summary>
    public string BoolScalar(string name, bool value, params long[] dims)
    {
        var t = new ProtoWriter();
        foreach (var d in dims) t.Int(1, d);
        t.Int(2, (int)OnnxType.Bool).String(8, name).Bytes(9, new byte[] { (byte)(value ? 1 : 0) });
        _initializers.Add(t);
        return name;
    }

    /// <summary>The default-domain opset version (for graphs spliced from a model with an older opset).</summary>
    public long DefaultOpset
    {
        get => _opsets[""];
        set => _opsets[""] = value;
    }

    public long IrVersion { get; set; } = 8;

    public byte[] Build(string graphName, string producer, string docString)
    {
        var graph = Graph(graphName);
        var model = new ProtoWriter().Int(1, IrVersion).String(2, producer).String(3, "1.0");
        model.String(6, docString);
        model.Message(7, graph);
        foreach (var (domain, version) in _opsets)
            model.Message(8, new ProtoWriter().String(1, domain).Int(2, version));
        return model.ToArray();
    }

    internal ProtoWriter Graph(string graphName)
    {
        var graph = new ProtoWriter();
        foreach (var n in _nodes)
        {
            if (n is ProtoWriter node) graph.Message(1, node);
            else graph.Raw((ReadOnlyMemory<byte>)n);
        }
        graph.String(2, graphName);
        foreach (var i in _rawInitializers) graph.Raw(i);
        foreach (var i in _initializers) graph.Message(5, i);
        foreach (var i in _inputs) graph.Message(11, i);
        foreach (var o in _outputs) graph.Message(12, o);
        return graph;
    }
}
