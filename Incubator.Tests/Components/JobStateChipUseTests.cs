using System.Text.RegularExpressions;

namespace Incubator.Tests.Components;

/// <summary>A job's state is shown by JobStateChip on every page, so "Completed" is the same green chip on the Jobs
/// page, a run's page, a query's page and in the self-training panel. A page that wrote its own MudChip round
/// L.JobState(...) showed it grey (the query run page, filled; the self-training panel, outlined) beside green ones for
/// the same state elsewhere.</summary>
public sealed class JobStateChipUseTests
{
    [Fact]
    public void No_page_draws_its_own_chip_for_a_jobs_state()
    {
        var root = Path.Combine(Incubator.Tests.Infrastructure.Repo.Root, "Incubator.Web", "Components");
        var ownChip = new Regex(@"<MudChip\b[^>]*>[^<]*L\.Job(State|Status)\(", RegexOptions.Singleline);
        var offenders = Directory.EnumerateFiles(root, "*.razor", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "JobStateChip.razor")
            .SelectMany(f => ownChip.Matches(File.ReadAllText(f)).Select(m => $"{Path.GetFileName(f)}: {m.Value}"))
            .ToList();
        Assert.True(offenders.Count == 0, "A job state in a chip of its own (use JobStateChip): " + string.Join(" | ", offenders));
    }
}
