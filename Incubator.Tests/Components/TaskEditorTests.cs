using Bunit;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Tasks;
using Incubator.Web.Components.Pages.Tasks;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Components;

/// <summary>bUnit: the editor edits the model in place, validates as you type, and reorders labels.</summary>
public sealed class TaskEditorTests
{
    private static BunitContext NewContext() => PortalBunit.NewContext(s => s.AddIncubatorEmbeddings());

    private static TaskEditModel Model() => TaskEditModel.From(new TaskSpec
    {
        Name = "Tickets",
        Instruction = "Sort support e-mails.",
        Labels =
        [
            new LabelSpec { Name = "billing", Description = "Invoices and refunds." },
            new LabelSpec { Name = "outage", Description = "The service is down." },
        ],
    });

    [Fact]
    public async Task Adding_a_label_shows_it_with_a_required_name_error_and_reports_the_change()
    {
        await using var ctx = NewContext();
        var model = Model();
        var changes = 0;
        var cut = ctx.Render<TaskEditor>(p => p.Add(x => x.Model, model).Add(x => x.OnChanged, () => changes++));
        Assert.Equal(2, cut.FindAll("[data-testid^=label-name-]").Count);
        Assert.Empty(cut.Instance.Errors);

        cut.Find("button[data-testid=add-label]").Click();

        // MudButton may finish its click handler asynchronously, so wait for the effects rather than assume them.
        cut.WaitForAssertion(() => Assert.Equal(3, cut.FindAll("[data-testid^=label-name-]").Count));
        Assert.Equal(3, model.Labels.Count);
        Assert.Equal(1, changes);
        Assert.Contains(cut.Instance.Errors, e => e.Field == "labels[2].name" && e.Code == "LabelNameRequired");
        Assert.Contains("Label 3 needs a name.", cut.Markup);
    }

    [Fact]
    public async Task Typing_a_duplicate_name_differing_only_in_case_and_spaces_is_flagged_inline()
    {
        await using var ctx = NewContext();
        var model = Model();
        var cut = ctx.Render<TaskEditor>(p => p.Add(x => x.Model, model));

        cut.Find("input[data-testid=label-name-1]").Input(" Bill ing ");

        cut.WaitForAssertion(() => Assert.Equal(" Bill ing ", model.Labels[1].Name));
        Assert.Contains(cut.Instance.Errors, e => e.Code == "LabelNameDuplicate" && e.Field == "labels[1].name");
    }

    [Fact]
    public async Task Moving_a_label_down_swaps_it_with_the_next_one_and_the_first_up_button_is_disabled()
    {
        await using var ctx = NewContext();
        var model = Model();
        var cut = ctx.Render<TaskEditor>(p => p.Add(x => x.Model, model));
        Assert.True(cut.Find("[data-testid=label-up-0]").HasAttribute("disabled"));

        cut.Find("[data-testid=label-down-0]").Click();

        cut.WaitForAssertion(() => Assert.Equal(["outage", "billing"], model.Labels.Select(l => l.Name)));
        Assert.Equal(["outage", "billing"], model.ToSpec().Labels.Select(l => l.Name));
    }

    [Fact]
    public async Task Read_only_editor_offers_no_add_move_or_remove()
    {
        await using var ctx = NewContext();
        var cut = ctx.Render<TaskEditor>(p => p.Add(x => x.Model, Model()).Add(x => x.ReadOnly, true));
        Assert.Empty(cut.FindAll("[data-testid=add-label]"));
        Assert.Empty(cut.FindAll("[data-testid^=label-remove-]"));
    }
}
