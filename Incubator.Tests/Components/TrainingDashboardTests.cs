using Bunit;
using Incubator.Domain.Training;
using Incubator.Web.Components.Pages.Training;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Components;

/// <summary>bUnit: the metrics panel's confusion heatmap (counts, colour by share of the row), per-class rows,
/// misclassified texts as text linked to a review-queue search; the metrics chart plots one point per trained version.</summary>
public sealed class TrainingDashboardTests
{
    private static BunitContext NewContext() => PortalBunit.NewContext();

    private static readonly StoredReport Report = new(
        ["billing", "shipping"], 10, 0.8, 0.79,
        [new StoredClassMetrics("billing", 0.75, 0.75, 0.75, 4), new StoredClassMetrics("shipping", 0.833, 0.833, 0.833, 6)],
        [[3, 1], [1, 5]],
        [new StoredMisclassified("<b>parcel</b> & invoice", "billing", "shipping", 0.61f), new StoredMisclassified("where is my box", "shipping", "billing", 0.55f)]);

    [Fact]
    public async Task Confusion_matrix_is_coloured_by_row_share_and_mistakes_link_to_review()
    {
        await using var ctx = NewContext();
        var projectId = Guid.NewGuid();
        var taskId = Guid.NewGuid();
        var cut = ctx.Render<MetricsPanel>(p => p.Add(x => x.Report, Report).Add(x => x.Kind, "validation")
            .Add(x => x.ProjectId, projectId).Add(x => x.TaskId, taskId).Add(x => x.LinkToReview, true));

        var cells = cut.FindAll("[data-testid=confusion-cell]");
        Assert.Equal(["3", "1", "1", "5"], cells.Select(c => c.GetAttribute("data-count")));
        Assert.Equal("billing", cells[1].GetAttribute("data-actual"));
        Assert.Equal("shipping", cells[1].GetAttribute("data-predicted"));
        // Diagonal green, off-diagonal red; the colour grows stronger with the share of the actual label's row.
        Assert.Contains("rgba(46,125,91,0.68)", cells[0].GetAttribute("style"));   // 0.08 + 0.8 × 0.75
        Assert.Contains("rgba(198,40,40,0.28)", cells[1].GetAttribute("style"));   // 0.08 + 0.8 × 0.25
        Assert.Contains("rgba(46,125,91,0.75)", cells[3].GetAttribute("style"));   // 0.08 + 0.8 × 5/6
        Assert.Equal(2, cut.FindAll("[data-testid=per-class-row]").Count);
        Assert.Equal("0.8000", cut.Find("[data-testid=metric-accuracy]").GetAttribute("data-value"));

        var rows = cut.FindAll("[data-testid=misclassified-row]");
        Assert.Equal(2, rows.Count);
        // Sample text is text, never markup.
        Assert.Contains("<b>parcel</b> & invoice", rows[0].TextContent);
        Assert.Empty(rows[0].QuerySelectorAll("b"));
        var link = cut.FindAll("[data-testid=misclassified-review]")[1].GetAttribute("href");
        Assert.Equal($"projects/{projectId}/tasks/{taskId}/review?search=where%20is%20my%20box", link);
    }

    [Fact]
    public async Task Gold_panel_does_not_link_to_review_and_chart_has_one_point_per_finished_version()
    {
        await using var ctx = NewContext();
        var gold = ctx.Render<MetricsPanel>(p => p.Add(x => x.Report, Report).Add(x => x.Kind, "gold"));
        Assert.Empty(gold.FindAll("[data-testid=misclassified-review]"));

        ModelVersionSummary Version(int n, double? acc, double? goldAcc) => new(Guid.NewGuid(), Guid.Empty, Guid.Empty, "Mail", n, "sparse", "sparse", 1,
            acc is null ? ModelVersionState.Failed : ModelVersionState.Draft, 1, acc, acc, goldAcc, goldAcc, null, DateTimeOffset.UtcNow, null, null);
        var chart = ctx.Render<MetricsChart>(p => p.Add(x => x.Models, [Version(2, 0.9, 0.7), Version(1, 0.8, null), Version(3, null, null)]));
        var points = chart.FindAll("[data-testid=chart-point]");
        Assert.Equal(["1", "2"], points.Select(c => c.GetAttribute("data-version")));
        // Version 2 is plotted at its gold accuracy (0.7), below version 1's validation accuracy (0.8).
        Assert.True(double.Parse(points[1].GetAttribute("cy")!, System.Globalization.CultureInfo.InvariantCulture)
                    > double.Parse(points[0].GetAttribute("cy")!, System.Globalization.CultureInfo.InvariantCulture));
    }
}
