using System.Globalization;
using System.Text.RegularExpressions;
using Incubator.Tests.Infrastructure;
using Incubator.Web;

namespace Incubator.Tests.Unit;

/// <summary>A count says its word in the reader's language: "1 member", "3 members" — never "member(s)" — and Japanese,
/// which has no plural, is untouched. Every resource value with a counted word must format, and must be used with its
/// arguments (read without them it would show the raw "{0#member|members}").</summary>
public sealed partial class CountingLocalizerTests
{
    [Fact]
    public void A_count_of_one_takes_the_singular_and_any_other_the_plural_in_english()
    {
        Localized.In("en", () =>
        {
            Assert.Equal("1 member", Localized.L["Home.MemberCount", 1].Value);
            Assert.Equal("3 members", Localized.L["Home.MemberCount", 3].Value);
            Assert.Equal("0 members", Localized.L["Home.MemberCount", 0].Value);
            Assert.Equal("12 samples · 1 run, 1 running", Localized.L["Stepper.Count.CollectActive", 12, 1, 1].Value);
            Assert.Equal("1 sample · 2 runs, 0 running", Localized.L["Stepper.Count.CollectActive", 1, 2, 0].Value);
            // Error and job-note arguments are stored as text.
            Assert.Equal("Line 4: the header has 1 column but this row has 2; quote a text that contains the separator.",
                Localized.L["Error.UploadMoreFieldsThanHeader", "4", "1", "2"].Value);
            Assert.Equal("1 sample was accepted by spot-check (threshold 0.9).", Localized.L["Spot.Accepted", 1, 0.9].Value);
            Assert.Equal("2 samples were accepted by spot-check (threshold 0.9).", Localized.L["Spot.Accepted", 2, 0.9].Value);
        });
        Localized.In("ja", () =>
        {
            var one = Localized.L["Home.MemberCount", 1].Value;
            Assert.Contains("1", one);
            Assert.DoesNotContain("#", one);
            Assert.Equal(Localized.L["Home.MemberCount", 3].Value.Replace("3", "1"), one);
        });
    }

    [Fact]
    public void The_formatter_picks_per_argument_and_keeps_braces_and_numbers_as_the_culture_writes_them()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("en");
            Assert.Equal("1 file, 1,234 rows", CountingLocalizer.Format("{0} {0#file|files}, {1:N0} {1#row|rows}", [1, 1234]));
            Assert.Equal("2 files, 1 row", CountingLocalizer.Format("{0} {0#file|files}, {1:N0} {1#row|rows}", [2, 1L]));
            Assert.Equal("1.5 days", CountingLocalizer.Format("{0} {0#day|days}", [1.5]));
            Assert.Equal("{literal} 1 day", CountingLocalizer.Format("{{literal}} {0} {0#day|days}", [1]));
            Assert.Equal("x words", CountingLocalizer.Format("{0} {0#word|words}", ["x"]));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [GeneratedRegex(@"\{(\d+)#[^|{}]*\|[^{}]*\}")]
    private static partial Regex Counted();

    [GeneratedRegex(@"\{(\d+)(?:[:,][^}]*)?\}")]
    private static partial Regex Placeholder();

    [Fact]
    public void Every_counted_word_refers_to_a_placeholder_of_its_value_and_formats_in_both_languages()
    {
        var counted = LocalizationTests.En.Where(kv => Counted().IsMatch(kv.Value)).ToList();
        Assert.True(counted.Count > 100, $"only {counted.Count} values count anything");
        foreach (var (key, value) in counted)
        {
            var placeholders = Placeholder().Matches(value).Select(m => m.Groups[1].Value).ToHashSet();
            foreach (Match m in Counted().Matches(value))
                Assert.True(placeholders.Contains(m.Groups[1].Value), $"{key}: {m.Value} counts argument {m.Groups[1].Value}, which the value never shows");
        }
        Assert.Empty(LocalizationTests.Ja.Where(kv => Counted().IsMatch(kv.Value)).Select(kv => kv.Key));
        Assert.Empty(LocalizationTests.En.Where(kv => kv.Value.Contains("(s)", StringComparison.Ordinal)).Select(kv => kv.Key));
        foreach (var culture in new[] { "en", "ja" })
            Localized.In(culture, () =>
            {
                foreach (var (key, _) in counted)
                {
                    var said = Localized.L[key, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1].Value;
                    Assert.DoesNotContain("#", said);
                    var many = Localized.L[key, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2].Value;
                    Assert.DoesNotContain("#", many);
                }
            });
    }

    [Fact]
    public void A_value_with_a_counted_word_is_never_read_without_its_arguments()
    {
        var keys = LocalizationTests.En.Where(kv => Counted().IsMatch(kv.Value)).Select(kv => Regex.Escape(kv.Key)).ToList();
        var bare = new Regex(@"L\[""(" + string.Join("|", keys) + @")""\]");
        var files = Directory.EnumerateFiles(Path.Combine(Repo.Root, "Incubator.Web"), "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".razor") || f.EndsWith(".cs")) && !f.Contains("/obj/") && !f.Contains("/bin/"));
        var uses = files.SelectMany(f => bare.Matches(File.ReadAllText(f)).Select(m => $"{Path.GetFileName(f)}: {m.Value}")).ToList();
        Assert.Empty(uses);
    }
}
