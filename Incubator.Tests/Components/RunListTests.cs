using System.Globalization;
using Bunit;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Web.Components.Pages.Generation;

namespace Incubator.Tests.Components;

/// <summary>bUnit: the task page's list of generation runs says a run's totals as totals. A run of two labels with 150
/// per label selects 300: the row said "300/150 selected" under a "Per label" heading, against the run page's "150/150"
/// for each label. The connection from appsettings/environment, whose stored name is English, is named in the reader's
/// language.</summary>
public sealed class RunListTests
{
    private static RunSummary Run() => new(Guid.NewGuid(), Guid.NewGuid(), "Food or movies", 1, LlmConnectionService.ConfiguredConnectionName, "fake-model", PerLabel: 150,
        JobState.Succeeded, Selected: 300, Pool: 0, Reserve: 1200, Rejected: 1, Tokens: 8118, Cost: 0m, StopReason: null,
        CreatedAt: DateTimeOffset.UtcNow, Outcome: RunOutcome.Completed);

    [Theory]
    [InlineData("en", "Samples", "300 selected (150 per label) · 0 in pool · 1,200 reserve · 1 rejected", "Configured (appsettings/environment) · fake-model")]
    [InlineData("ja", "サンプル", "選択 300（ラベルごとに 150）· プール 0 · 予備 1,200 · 却下 1", "サーバー設定の接続（appsettings・環境変数） · fake-model")]
    public async Task A_runs_row_says_its_totals_and_its_per_label_target_apart(string culture, string heading, string counts, string connection)
    {
        await using var ctx = PortalBunit.NewContext();
        var previous = (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture);
        CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = new CultureInfo(culture);
        try
        {
            var cut = ctx.Render<RunList>(p => p.Add(x => x.ProjectId, Guid.NewGuid()).Add(x => x.Runs, [Run()]));
            Assert.Contains(heading, cut.FindAll("th").Select(th => th.TextContent.Trim()));
            Assert.Equal(counts, cut.Find("[data-testid=run-row-counts]").TextContent.Trim());
            Assert.DoesNotContain("300/150", cut.Markup);
            Assert.Equal(connection, cut.Find("[data-testid=run-row-connection]").TextContent.Trim());
        }
        finally
        {
            (CultureInfo.CurrentCulture, CultureInfo.CurrentUICulture) = previous;
        }
    }
}
