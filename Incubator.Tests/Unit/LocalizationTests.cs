using System.Text.RegularExpressions;
using System.Xml.Linq;
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

    private static readonly Dictionary<string, string> En = Load("SharedResource.resx");
    private static readonly Dictionary<string, string> Ja = Load("SharedResource.ja.resx");

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

    [Fact]
    public void Japanese_values_are_translated_not_copied()
    {
        // Identical entries are allowed only for language names, product names and metric names, and for values that
        // are pure formatting ("{0} / {1}").
        string[] properNouns = ["LlmProvider.OpenAI", "LlmProvider.AzureOpenAI", "Run.Distinct12"];
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

    [Fact]
    public void Every_enum_value_activity_kind_and_domain_error_code_has_a_translation()
    {
        var keys = Enum.GetNames<ProjectRole>().Select(r => "Role." + r)
            .Concat(Enum.GetNames<JobState>().Select(s => "JobState." + s))
            .Concat(typeof(ActivityKinds).GetFields().Select(f => "Activity." + (string)f.GetValue(null)!))
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
