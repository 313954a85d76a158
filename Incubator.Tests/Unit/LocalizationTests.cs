using System.Text.RegularExpressions;
using System.Xml.Linq;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;

namespace Incubator.Tests.Unit;

/// <summary>Every UI string goes through the resource files and both languages are complete. These tests read the
/// sources, so a new string without a translation fails here rather than showing a raw key to a Japanese user.</summary>
public sealed partial class LocalizationTests
{
    private static readonly string Root = Incubator.Tests.Infrastructure.Repo.Root;

    private static Dictionary<string, string> Load(string file) =>
        XDocument.Load(Path.Combine(Root, "Incubator.Web", "Resources", file)).Root!
            .Elements("data").ToDictionary(d => (string)d.Attribute("name")!, d => (string)d.Element("value")!);

    internal static readonly Dictionary<string, string> En = Load("SharedResource.resx");
    internal static readonly Dictionary<string, string> Ja = Load("SharedResource.ja.resx");

    [GeneratedRegex("""L\["([^"]+)"[\],]""")]
    private static partial Regex KeyUse();

    [GeneratedRegex("""DomainValidationException\("[^"]+", "([A-Za-z.]+)"|new\("[a-zA-Z]+", "([A-Za-z.]+)",""")]
    private static partial Regex ErrorCode();

    [Fact]
    public void English_and_Japanese_have_the_same_keys_and_no_empty_values()
    {
        Assert.Empty(En.Keys.Except(Ja.Keys));
        Assert.Empty(Ja.Keys.Except(En.Keys));
        Assert.Empty(En.Where(kv => string.IsNullOrWhiteSpace(kv.Value)).Select(kv => kv.Key));
        Assert.Empty(Ja.Where(kv => string.IsNullOrWhiteSpace(kv.Value)).Select(kv => kv.Key));
    }

    /// <summary>Family names (decision 0012, amendment card21): in Japanese a Japanese name with the technical id in
    /// parentheses, the same name the Japanese model card uses, on every page (FamilyName) and in the form's longer
    /// choice (Family); in English the id as it is. Job notes that name a family say it so too.</summary>
    [Theory]
    [InlineData("sparse")]
    [InlineData("dense")]
    [InlineData("hybrid")]
    [InlineData("auto")]
    [InlineData("pooled")]
    public void Family_names_are_japanese_with_the_id_kept_and_match_the_model_card(string id)
    {
        Assert.Equal(id, En["FamilyName." + id]);
        var ja = Ja["FamilyName." + id];
        Assert.Equal(Incubator.Domain.Training.CardLanguages.Family(id, Incubator.Domain.Training.CardLanguage.Ja), ja);
        Assert.Contains("（" + id + "）", ja);
        Assert.StartsWith(ja[..ja.IndexOf('（')] + "（" + id, Ja["Family." + id]);
        var note = Incubator.Domain.Training.TrainingNotes.Evaluated(id, 1.5, 0.9, 0.8, null, null);
        Assert.StartsWith(ja + ":", Incubator.Tests.Infrastructure.Localized.In("ja", () => Incubator.Web.LocalizerExtensions.JobNote(Incubator.Tests.Infrastructure.Localized.L, note)));
        Assert.StartsWith(id + ":", Incubator.Tests.Infrastructure.Localized.In("en", () => Incubator.Web.LocalizerExtensions.JobNote(Incubator.Tests.Infrastructure.Localized.L, note)));
    }

    [GeneratedRegex("(?<![A-Za-z0-9_.-])(sparse|dense|hybrid|auto|pooled)(?![A-Za-z0-9_-])", RegexOptions.IgnoreCase)]
    private static partial Regex FamilyId();

    /// <summary>A Japanese sentence names a family as the rest of the Japanese UI does (decision 0012, amendment card21;
    /// 0039, amendment words22): by its Japanese name with the id in parentheses (「n-gram 特徴（sparse）」), never by the
    /// bare id ("sparse ファミリーには…"). An id is left bare only as a value to type, quoted: 「sparse」.</summary>
    [Fact]
    public void Japanese_sentences_name_families_by_their_japanese_names()
    {
        var stems = new[] { "sparse", "dense", "hybrid", "auto", "pooled" }
            .ToDictionary(id => id, id => Ja["FamilyName." + id][..Ja["FamilyName." + id].IndexOf('（')]);
        var bare = new List<string>();
        foreach (var (key, value) in Ja)
        {
            if (key.StartsWith("Family.", StringComparison.Ordinal) || key.StartsWith("FamilyName.", StringComparison.Ordinal)) continue;
            foreach (Match m in FamilyId().Matches(value))
            {
                var before = value[..m.Index];
                var named = m.Value == m.Value.ToLowerInvariant() && before.EndsWith(stems[m.Value] + "（", StringComparison.Ordinal);
                var typed = before.EndsWith('「') && value[(m.Index + m.Length)..].StartsWith('」');
                if (!named && !typed) bare.Add($"{key}: …{value[Math.Max(0, m.Index - 12)..Math.Min(value.Length, m.Index + m.Length + 12)]}…");
            }
        }
        Assert.True(bare.Count == 0, "Bare family ids in Japanese sentences:\n" + string.Join("\n", bare));
        // The names the test looks for are there: the sentences that named families bare now use them.
        Assert.Contains("n-gram 特徴（sparse）には文エンコーダーがありません", Ja["Error.TrainingEncoderSparse"]);
        Assert.StartsWith("文埋め込み（dense）には", Ja["Play.NoTermsDense"], StringComparison.Ordinal);
        Assert.StartsWith("n-gram 特徴（sparse）: 特徴量", Ja["JobNote.Train.FitSparse"], StringComparison.Ordinal);
    }

    [Fact]
    public void Japanese_values_are_translated_not_copied()
    {
        // Identical entries are allowed only for language names, product names and metric names, and for values that
        // are pure formatting ("{0} / {1}").
        string[] properNouns = ["LlmProvider.OpenAI", "LlmProvider.AzureOpenAI"];
        var copied = En.Where(kv => Ja[kv.Key] == kv.Value && !kv.Key.StartsWith("Language.", StringComparison.Ordinal)
                && !properNouns.Contains(kv.Key) && kv.Value.Any(char.IsLetter))
            .Select(kv => kv.Key).ToList();
        Assert.True(copied.Count == 0, "Untranslated: " + string.Join(", ", copied));
    }

    [Fact]
    public void Placeholders_match_between_languages()
    {
        var placeholder = new Regex(@"\{\d+\}");
        foreach (var (key, en) in En)
        {
            var a = placeholder.Matches(en).Select(m => m.Value).Order();
            var b = placeholder.Matches(Ja[key]).Select(m => m.Value).Order();
            Assert.True(a.SequenceEqual(b), $"Placeholders differ for {key}: '{en}' vs '{Ja[key]}'");
        }
    }

    [Fact]
    public void Every_key_used_in_the_portal_exists()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Root, "Incubator.Web"), "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".razor") || f.EndsWith(".cs")) && !f.Contains("/obj/") && !f.Contains("/bin/"));
        var used = files.SelectMany(f => KeyUse().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Key: m.Groups[1].Value)))
            .Where(u => !u.Key.EndsWith('.'))
            .ToList();
        Assert.NotEmpty(used);
        var missing = used.Where(u => !En.ContainsKey(u.Key)).Select(u => $"{u.File}: {u.Key}").ToList();
        Assert.True(missing.Count == 0, "Missing resource keys: " + string.Join(", ", missing));
    }

    [GeneratedRegex("""new JobNote\("([A-Za-z.]+)",""")]
    private static partial Regex NoteCode();

    [Fact]
    public void Every_job_note_code_has_a_translation_with_no_more_placeholders_than_arguments()
    {
        var notes = Directory.EnumerateFiles(Path.Combine(Root, "Incubator.Domain"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"))
            .SelectMany(f => NoteCode().Matches(File.ReadAllText(f)))
            .Select(m => "JobNote." + m.Groups[1].Value)
            .Distinct().ToList();
        Assert.Contains("JobNote.Run.Short.Repeats", notes);
        Assert.Contains("JobNote.Run.Waiting", notes);
        Assert.True(notes.Count >= 12, string.Join(", ", notes));
        var missing = notes.Where(k => !En.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, "Missing resource keys: " + string.Join(", ", missing));
        // The notes runs write, rendered through their resource with their own arguments, leave no placeholder unfilled.
        var end = new RunEnd(RunOutcome.StoppedShort, [new LabelShortfall("a", 1, 2, ShortReason.Repeats)], ShortReason.Cap, CallCap: 9);
        var failed = new RunEnd(RunOutcome.Failed, [], ShortReason.Failure, RunFailure.Unreachable, "boom", Calls: 3);
        JobNote[] samples =
        [
            end.Note!, (end with { Reason = ShortReason.Budget }).Note!, (end with { Reason = ShortReason.Repeats }).Note!,
            (end with { Reason = ShortReason.Unusable }).Note!, (end with { Reason = ShortReason.SpendingCap, FailureDetail = "The daily spending cap per user is reached." }).Note!, failed.Note!, (failed with { WaitedFor = TimeSpan.FromMinutes(10) }).Note!,
            (failed with { Failure = RunFailure.AuthRefused }).Note!, (failed with { Failure = RunFailure.Refused }).Note!,
            (failed with { Failure = RunFailure.NoUsableOutput }).Note!, RunNotes.Waiting("boom", TimeSpan.FromMinutes(10)),
            RunNotes.UnreachableTested("boom", new ConnectionTestSummary(false, "no", "0.1")), RunNotes.UnreachableTested("boom", new ConnectionTestSummary(true, null, "0.1")),
        ];
        Assert.Equal(notes.Order(), samples.Select(n => "JobNote." + n.Code).Distinct().Order());
        foreach (var note in samples)
        {
            foreach (var language in new[] { En, Ja })
            {
                var used = new Regex(@"\{(\d+)\}").Matches(language["JobNote." + note.Code]).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.True(used.Count > 0 && used.Max() < note.Args.Count, $"{note.Code}: placeholders up to {{{used.DefaultIfEmpty(-1).Max()}}}, {note.Args.Count} arguments");
            }
        }
    }

    [Fact]
    public void Every_enum_value_activity_kind_and_domain_error_code_has_a_translation()
    {
        var keys = Enum.GetNames<ProjectRole>().Select(r => "Role." + r)
            .Concat(Enum.GetNames<JobState>().Select(s => "JobState." + s))
            .Concat(Enum.GetNames<ShortReason>().Select(s => "ShortReason." + s))
            .Concat(typeof(ActivityKinds).GetFields().Where(f => f.IsLiteral).Select(f => "Activity." + (string)f.GetValue(null)!))
            .Concat(typeof(Incubator.Domain.Llm.LlmActivityKinds).GetFields().Select(f => "Activity." + (string)f.GetValue(null)!))
            .Concat(Incubator.Web.Extensions.UiLocalizationExtensions.SupportedCultures.Select(c => "Language." + c));
        var codes = Directory.EnumerateFiles(Root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/") && !f.Contains("Incubator.Tests"))
            .SelectMany(f => ErrorCode().Matches(File.ReadAllText(f)))
            .Select(m => "Error." + (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value))
            .Distinct().ToList();
        Assert.Contains("Error.ProjectNameRequired", codes);
        Assert.Contains("Error.InvitationInvalid", codes);
        var missing = keys.Concat(codes).Where(k => !En.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, "Missing resource keys: " + string.Join(", ", missing));
    }

    private static string MarkupOnly(string razor)
    {
        var code = razor.IndexOf("@code", StringComparison.Ordinal);
        var markup = code < 0 ? razor : razor[..code];
        markup = Regex.Replace(markup, @"@\*.*?\*@", "", RegexOptions.Singleline);
        return Regex.Replace(markup, @"^@(inject|using|page|attribute|inherits|implements|layout)\b.*$", "", RegexOptions.Multiline);
    }

    [Fact]
    public void Razor_markup_has_no_hard_coded_sentences()
    {
        // Text between tags must come from @L[...] (or be code). Brand name and symbols are allowed.
        var allowed = new HashSet<string> { "Incubator", "·", "Incubator.Web" };
        var text = new Regex(@">([^<>@{}]*[A-Za-z]{3,}[^<>@{}]*)<");
        var offenders = Directory.EnumerateFiles(Path.Combine(Root, "Incubator.Web", "Components"), "*.razor", SearchOption.AllDirectories)
            .SelectMany(f => text.Matches(MarkupOnly(File.ReadAllText(f))).Select(m => (File: Path.GetFileName(f), Text: m.Groups[1].Value.Trim())))
            .Where(o => o.Text.Length > 0 && !allowed.Contains(o.Text) && !o.Text.StartsWith("//") && !o.Text.Contains("=>"))
            .ToList();
        Assert.True(offenders.Count == 0, "Hard-coded text: " + string.Join(" | ", offenders.Select(o => $"{o.File}: {o.Text}")));
    }
}
