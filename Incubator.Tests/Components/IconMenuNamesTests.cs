using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.RegularExpressions;
using Bunit;
using Incubator.Domain.Review;
using Incubator.Web.Components.Pages.Review;
using Incubator.Web.Components.Pages.Shared;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Components;

/// <summary>An icon that opens a menu (a queue row's reject and relabel, the app bar's language) is a button a screen
/// reader must be able to name. MudMenu takes its button's name from its AriaLabel parameter: a lower-case
/// <c>aria-label</c> attribute is not that parameter and lands on the menu's wrapping div, which leaves the button itself
/// nameless ("button" and nothing else to a screen reader).</summary>
public sealed class IconMenuNamesTests
{
    private static CandidateRow Row() => new(Guid.NewGuid(), Guid.NewGuid(), "about food", null, "A bowl of ramen", null,
        CandidateStatus.Pending, CandidateStage.Selected, CandidateSource.Generation, false, null, null, null, 1, 1,
        DateTimeOffset.UtcNow, null, null);

    [Theory]
    [InlineData("en", "Reject", "Change the label")]
    [InlineData("ja", "却下", "ラベルを変更")]
    public async Task Every_button_of_a_queue_rows_actions_has_a_name_in_the_readers_language(string culture, string reject, string relabel)
    {
        await using var ctx = PortalBunit.NewContext(s =>
        {
            s.AddScoped<PageErrors>();
            // Rendering only: no decision is taken, so the service is never called.
            s.AddSingleton((DecideCandidate)RuntimeHelpers.GetUninitializedObject(typeof(DecideCandidate)));
        });
        var previous = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo(culture);
        try
        {
            var cut = ctx.Render<CandidateActions>(p => p.Add(x => x.Row, Row()).Add(x => x.Labels, ["about food", "about movies"]).Add(x => x.UserId, "u"));
            var buttons = cut.FindAll("button");
            Assert.Equal(5, buttons.Count);
            var names = buttons.Select(b => b.GetAttribute("aria-label")).ToList();
            Assert.All(names, n => Assert.False(string.IsNullOrWhiteSpace(n)));
            Assert.Contains(reject, names);
            Assert.Contains(relabel, names);
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = previous;
        }
    }

    [Fact]
    public void No_menu_in_the_portal_names_itself_with_a_lower_case_aria_label()
    {
        var root = Path.Combine(Incubator.Tests.Infrastructure.Repo.Root, "Incubator.Web", "Components");
        var menu = new Regex(@"<MudMenu\b[^>]*>", RegexOptions.Singleline);
        var offenders = Directory.EnumerateFiles(root, "*.razor", SearchOption.AllDirectories)
            .SelectMany(f => menu.Matches(File.ReadAllText(f)).Where(m => m.Value.Contains("aria-label=", StringComparison.Ordinal))
                .Select(m => $"{Path.GetFileName(f)}: {m.Value}"))
            .ToList();
        Assert.True(offenders.Count == 0, "MudMenu with aria-label (use AriaLabel): " + string.Join(" | ", offenders));
    }
}
