using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Incubator.Domain.Tasks;

/// <summary>The import/export JSON of a <see cref="TaskSpec"/>: one canonical, minimal writer and a strict reader
/// that reports every problem with a JSON path, so a hand-edited file can be fixed in one pass.</summary>
/// <remarks>The reader walks a <see cref="JsonDocument"/> by hand rather than deserialising: the serializer stops at
/// the first unknown member or type mismatch and reports .NET type names; users need all problems, with paths such as
/// <c>labels[1].descripton</c>.</remarks>
public static class TaskJson
{
    public const int MaxBytes = 1_048_576;

    private static readonly string[] RootFields = ["name", "instruction", "labels", "preferences"];
    private static readonly string[] LabelFields = ["name", "description", "isOther", "examples", "counterExamples"];
    private static readonly string[] PreferenceFields =
        ["language", "textType", "minWords", "maxWords", "minChars", "maxChars", "tone", "domain", "include", "avoid", "notes"];

    /// <summary>The textType values as they appear in JSON.</summary>
    public static IReadOnlyList<string> TextTypeNames { get; } = Enum.GetValues<TextType>().Select(TextTypeName).ToArray();

    public static string TextTypeName(TextType t) => JsonNamingPolicy.CamelCase.ConvertName(t.ToString());

    /// <summary>Minimal canonical JSON: fixed member order, nulls, a false <c>isOther</c> and empty lists omitted, "\n"
    /// line ends. Equal content gives byte-identical output, so the content hash of a version is stable.</summary>
    public static string Serialize(TaskSpec spec, bool indented = true)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions
        {
            Indented = indented,
            NewLine = "\n",
            // Task texts are read by people in exported files (Japanese, apostrophes); the JSON is never inlined into
            // HTML unencoded, so only what JSON itself requires is escaped.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        }))
        {
            w.WriteStartObject();
            w.WriteString("name", spec.Name);
            w.WriteString("instruction", spec.Instruction);
            w.WriteStartArray("labels");
            foreach (var l in spec.Labels)
            {
                w.WriteStartObject();
                w.WriteString("name", l.Name);
                w.WriteString("description", l.Description);
                if (l.IsOther) w.WriteBoolean("isOther", true);
                WriteList(w, "examples", l.Examples);
                WriteList(w, "counterExamples", l.CounterExamples);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            var p = spec.Preferences ?? new TaskPreferences();
            w.WriteStartObject("preferences");
            w.WriteString("language", p.Language);
            w.WriteString("textType", TextTypeName(p.TextType));
            WriteNumber(w, "minWords", p.MinWords);
            WriteNumber(w, "maxWords", p.MaxWords);
            WriteNumber(w, "minChars", p.MinChars);
            WriteNumber(w, "maxChars", p.MaxChars);
            if (p.Tone is not null) w.WriteString("tone", p.Tone);
            if (p.Domain is not null) w.WriteString("domain", p.Domain);
            WriteList(w, "include", p.Include);
            WriteList(w, "avoid", p.Avoid);
            if (p.Notes is not null) w.WriteString("notes", p.Notes);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static void WriteList(Utf8JsonWriter w, string name, IReadOnlyList<string>? items)
    {
        if (items is null || items.Count == 0) return;
        w.WriteStartArray(name);
        foreach (var s in items) w.WriteStringValue(s);
        w.WriteEndArray();
    }

    private static void WriteNumber(Utf8JsonWriter w, string name, int? value)
    {
        if (value is { } v) w.WriteNumber(name, v);
    }

    /// <summary>Reads task JSON. Optional members may be omitted or null. Throws <see cref="Common.DomainValidationException"/>
    /// with every problem found (codes JsonTooLarge, JsonMalformed, UnknownField, DuplicateField, WrongType,
    /// TextTypeInvalid). Content rules (label count, lengths...) are <see cref="TaskSpecValidator"/>'s job.</summary>
    public static TaskSpec Parse(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var bytes = Encoding.UTF8.GetByteCount(json);
        if (bytes > MaxBytes)
            throw new Common.DomainValidationException("$", "JsonTooLarge",
                string.Create(CultureInfo.InvariantCulture, $"The task JSON is {bytes:N0} bytes; the limit is {MaxBytes:N0} bytes (1 MB)."), bytes, MaxBytes);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = 32 });
        }
        catch (JsonException ex)
        {
            var line = (int)(ex.LineNumber ?? 0) + 1;
            var position = (int)(ex.BytePositionInLine ?? 0) + 1;
            throw new Common.DomainValidationException("$", "JsonMalformed",
                $"The task JSON is not valid JSON: the problem is on line {line}, at byte {position} of that line.", line, position);
        }
        using (doc)
        {
            var reader = new Reader();
            var spec = reader.ReadSpec(doc.RootElement);
            if (reader.Errors.Count > 0) throw new Common.DomainValidationException(reader.Errors);
            return spec;
        }
    }

    /// <summary>Trims every string, drops empty examples, counter-examples and include/avoid entries, turns blank
    /// optional texts into null and lower-cases the language. Saving always stores the normalised form.</summary>
    public static TaskSpec Normalize(TaskSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var p = spec.Preferences ?? new TaskPreferences();
        return spec with
        {
            Name = (spec.Name ?? "").Trim(),
            Instruction = (spec.Instruction ?? "").Trim(),
            Labels = (spec.Labels ?? []).Select(l => l with
            {
                Name = (l.Name ?? "").Trim(),
                Description = (l.Description ?? "").Trim(),
                Examples = CleanList(l.Examples),
                CounterExamples = CleanList(l.CounterExamples),
            }).ToArray(),
            Preferences = p with
            {
                Language = (p.Language ?? "").Trim().ToLowerInvariant(),
                Tone = Blank(p.Tone),
                Domain = Blank(p.Domain),
                Notes = Blank(p.Notes),
                Include = CleanList(p.Include),
                Avoid = CleanList(p.Avoid),
            },
        };
    }

    private static string[] CleanList(IReadOnlyList<string>? items) =>
        (items ?? []).Where(s => !string.IsNullOrWhiteSpace(s)).Select(s => s.Trim()).ToArray();

    private static string? Blank(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();

    private sealed class Reader
    {
        public List<Common.DomainError> Errors { get; } = [];

        public TaskSpec ReadSpec(JsonElement root)
        {
            if (!ExpectObject(root, "$")) return new TaskSpec();
            var spec = new TaskSpec();
            foreach (var prop in Members(root, "", RootFields))
            {
                switch (prop.Name)
                {
                    case "name": spec = spec with { Name = ReadString(prop.Value, "name") ?? "" }; break;
                    case "instruction": spec = spec with { Instruction = ReadString(prop.Value, "instruction") ?? "" }; break;
                    case "labels": spec = spec with { Labels = ReadLabels(prop.Value, "labels") }; break;
                    case "preferences": spec = spec with { Preferences = ReadPreferences(prop.Value, "preferences") }; break;
                }
            }
            return spec;
        }

        private LabelSpec[] ReadLabels(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Null) return [];
            if (e.ValueKind != JsonValueKind.Array)
            {
                WrongType(e, path, "array");
                return [];
            }
            var labels = new List<LabelSpec>();
            var i = 0;
            foreach (var item in e.EnumerateArray())
            {
                var itemPath = $"{path}[{i++}]";
                if (!ExpectObject(item, itemPath)) continue;
                var label = new LabelSpec();
                foreach (var prop in Members(item, itemPath + ".", LabelFields))
                {
                    var p = $"{itemPath}.{prop.Name}";
                    switch (prop.Name)
                    {
                        case "name": label = label with { Name = ReadString(prop.Value, p) ?? "" }; break;
                        case "description": label = label with { Description = ReadString(prop.Value, p) ?? "" }; break;
                        case "isOther": label = label with { IsOther = ReadBool(prop.Value, p) }; break;
                        case "examples": label = label with { Examples = ReadStrings(prop.Value, p) }; break;
                        case "counterExamples": label = label with { CounterExamples = ReadStrings(prop.Value, p) }; break;
                    }
                }
                labels.Add(label);
            }
            return labels.ToArray();
        }

        private TaskPreferences ReadPreferences(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Null) return new TaskPreferences();
            if (!ExpectObject(e, path)) return new TaskPreferences();
            var prefs = new TaskPreferences();
            foreach (var prop in Members(e, path + ".", PreferenceFields))
            {
                var p = $"{path}.{prop.Name}";
                switch (prop.Name)
                {
                    case "language": prefs = prefs with { Language = ReadString(prop.Value, p) ?? prefs.Language }; break;
                    case "textType": prefs = prefs with { TextType = ReadTextType(prop.Value, p) }; break;
                    case "minWords": prefs = prefs with { MinWords = ReadInt(prop.Value, p) }; break;
                    case "maxWords": prefs = prefs with { MaxWords = ReadInt(prop.Value, p) }; break;
                    case "minChars": prefs = prefs with { MinChars = ReadInt(prop.Value, p) }; break;
                    case "maxChars": prefs = prefs with { MaxChars = ReadInt(prop.Value, p) }; break;
                    case "tone": prefs = prefs with { Tone = ReadString(prop.Value, p) }; break;
                    case "domain": prefs = prefs with { Domain = ReadString(prop.Value, p) }; break;
                    case "include": prefs = prefs with { Include = ReadStrings(prop.Value, p) }; break;
                    case "avoid": prefs = prefs with { Avoid = ReadStrings(prop.Value, p) }; break;
                    case "notes": prefs = prefs with { Notes = ReadString(prop.Value, p) }; break;
                }
            }
            return prefs;
        }

        /// <summary>Known members of an object, in document order; unknown and repeated members become errors.
        /// Member names are matched exactly (camelCase), as written by <see cref="Serialize"/>.</summary>
        private IEnumerable<JsonProperty> Members(JsonElement obj, string prefix, string[] allowed)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var prop in obj.EnumerateObject())
            {
                var path = prefix + prop.Name;
                if (!allowed.Contains(prop.Name, StringComparer.Ordinal))
                {
                    var names = string.Join(", ", allowed);
                    Errors.Add(new(path, "UnknownField",
                        $"'{path}' is not a known field. Allowed here: {names}.", [path, names]));
                    continue;
                }
                if (!seen.Add(prop.Name))
                {
                    Errors.Add(new(path, "DuplicateField", $"'{path}' appears more than once.", [path]));
                    continue;
                }
                yield return prop;
            }
        }

        private bool ExpectObject(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Object) return true;
            WrongType(e, path, "object");
            return false;
        }

        private string? ReadString(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.String) return e.GetString();
            if (e.ValueKind != JsonValueKind.Null) WrongType(e, path, "string");
            return null;
        }

        private bool ReadBool(JsonElement e, string path)
        {
            switch (e.ValueKind)
            {
                case JsonValueKind.True: return true;
                case JsonValueKind.False:
                case JsonValueKind.Null: return false;
                default:
                    WrongType(e, path, "boolean");
                    return false;
            }
        }

        private int? ReadInt(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Null) return null;
            if (e.ValueKind == JsonValueKind.Number && e.TryGetInt32(out var v)) return v;
            WrongType(e, path, "integer");
            return null;
        }

        private string[] ReadStrings(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Null) return [];
            if (e.ValueKind != JsonValueKind.Array)
            {
                WrongType(e, path, "array");
                return [];
            }
            var list = new List<string>();
            var i = 0;
            foreach (var item in e.EnumerateArray())
            {
                var itemPath = $"{path}[{i++}]";
                if (item.ValueKind == JsonValueKind.String) list.Add(item.GetString()!);
                else WrongType(item, itemPath, "string");
            }
            return list.ToArray();
        }

        private TextType ReadTextType(JsonElement e, string path)
        {
            if (e.ValueKind == JsonValueKind.Null) return TextType.Free;
            if (e.ValueKind != JsonValueKind.String)
            {
                WrongType(e, path, "string");
                return TextType.Free;
            }
            var s = e.GetString() ?? "";
            foreach (var t in Enum.GetValues<TextType>())
                if (string.Equals(TextTypeName(t), s.Trim(), StringComparison.OrdinalIgnoreCase)) return t;
            var allowed = string.Join(", ", TextTypeNames);
            Errors.Add(new(path, "TextTypeInvalid", $"'{s}' is not a text type. Use one of: {allowed}.", [s, allowed]));
            return TextType.Free;
        }

        /// <summary>Args are (path, expected, actual) with expected/actual one of the stable tokens object, array,
        /// string, integer, number, boolean, null — the UI can translate them.</summary>
        private void WrongType(JsonElement e, string path, string expected)
        {
            var actual = e.ValueKind switch
            {
                JsonValueKind.Object => "object",
                JsonValueKind.Array => "array",
                JsonValueKind.String => "string",
                JsonValueKind.Number => "number",
                JsonValueKind.True or JsonValueKind.False => "boolean",
                _ => "null",
            };
            Errors.Add(new(path, "WrongType", $"'{path}' must be {Article(expected)}, not {Article(actual)}.", [path, expected, actual]));
        }

        private static string Article(string token) => token switch
        {
            "object" or "array" or "integer" => "an " + token,
            "null" => "null",
            "boolean" => "true or false",
            _ => "a " + token,
        };
    }
}
