using System.Globalization;
using Bunit;
using Incubator.Domain.Projects;
using Incubator.Web.Components.Pages.Projects;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Components;

/// <summary>bUnit: the project header renders the caller's role and the archived banner in the user's language,
/// from the real resource files.</summary>
public sealed class ProjectHeaderTests
{
    private static BunitContext NewContext() => PortalBunit.NewContext();

    private static ProjectSummary Summary(bool archived, ProjectRole role) =>
        new(Guid.NewGuid(), "Support tickets", "", archived, role, 3, DateTimeOffset.UtcNow);

    [Theory]
    [InlineData("en", ProjectRole.Reviewer, "Reviewer", "This project is archived")]
    [InlineData("ja", ProjectRole.Owner, "オーナー", "アーカイブされています")]
    public async Task Shows_role_and_archived_banner_in_the_current_ui_culture(string culture, ProjectRole role, string roleText, string bannerText)
    {
        await using var ctx = NewContext();
        var previous = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = new CultureInfo(culture);
        try
        {
            var cut = ctx.Render<ProjectHeader>(p => p.Add(x => x.Project, Summary(archived: true, role)).Add(x => x.Section, "S"));
            Assert.Equal("Support tickets", cut.Find("[data-testid=project-name]").TextContent.Trim());
            Assert.Equal(roleText, cut.Find("[data-testid=my-role]").TextContent.Trim());
            Assert.Contains(bannerText, cut.Find("[data-testid=archived-banner]").TextContent);
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }

    [Fact]
    public async Task Active_project_has_no_archived_banner_and_project_name_is_rendered_as_text_not_markup()
    {
        await using var ctx = NewContext();
        var summary = Summary(archived: false, ProjectRole.Viewer) with { Name = "<b>bold</b>" };
        var cut = ctx.Render<ProjectHeader>(p => p.Add(x => x.Project, summary));
        Assert.Empty(cut.FindAll("[data-testid=archived-banner]"));
        Assert.Empty(cut.FindAll("b"));
        Assert.Equal("<b>bold</b>", cut.Find("[data-testid=project-name]").TextContent.Trim());
    }

    [Theory]
    [InlineData("http://x/projects/3f2504e0-4f89-11d3-9a0c-0305e82c3301/jobs", true)]
    [InlineData("http://x/projects/3f2504e0-4f89-11d3-9a0c-0305e82c3301", true)]
    [InlineData("http://x/projects/new", false)]
    [InlineData("http://x/", false)]
    public void Nav_menu_finds_the_project_in_the_address(string uri, bool found)
    {
        Assert.Equal(found, Incubator.Web.Components.Layout.NavMenu.ProjectIdFrom(uri).HasValue);
    }
}
