using Incubator.Domain.Tasks;

namespace Incubator.Tests.Tasks;

public sealed class TaskDiffTests
{
    private static readonly TaskSpec Before = TaskSpecValidatorTests.Valid();

    private static TaskSpec WithLabels(params LabelSpec[] labels) => Before with { Labels = labels };

    private static LabelSpec L(int i) => Before.Labels[i];

    [Fact]
    public void Identical_specs_have_no_differences() =>
        Assert.Empty(TaskDiff.Compare(Before, TaskJson.Parse(TaskJson.Serialize(Before))));

    [Fact]
    public void Name_and_instruction_changes()
    {
        var lines = TaskDiff.Compare(Before, Before with { Name = "Routing", Instruction = "Route them." });
        Assert.Equal(
            [new("name", "changed", "Tickets", "Routing"), new("instruction", "changed", Before.Instruction, "Route them.")],
            lines);
    }

    [Fact]
    public void A_label_renamed_in_place_is_a_name_change()
    {
        var lines = TaskDiff.Compare(Before, WithLabels(L(0) with { Name = "payments" }, L(1), L(2)));
        Assert.Equal([new TaskDiffLine("labels[0].name", "changed", "billing", "payments")], lines);
    }

    [Fact]
    public void A_label_renamed_without_definitions_on_either_side_is_still_a_rename()
    {
        var before = WithLabels(new LabelSpec { Name = "a" }, new LabelSpec { Name = "b" });
        var after = WithLabels(new LabelSpec { Name = "a" }, new LabelSpec { Name = "c" });
        Assert.Equal([new TaskDiffLine("labels[1].name", "changed", "b", "c")], TaskDiff.Compare(before, after));
    }

    [Fact]
    public void Changing_only_the_case_of_a_name_is_a_rename_not_a_new_label()
    {
        var lines = TaskDiff.Compare(Before, WithLabels(L(0) with { Name = "Billing" }, L(1), L(2)));
        Assert.Equal([new TaskDiffLine("labels[0].name", "changed", "billing", "Billing")], lines);
    }

    [Fact]
    public void A_reordered_label_is_one_order_line()
    {
        var lines = TaskDiff.Compare(Before, WithLabels(L(1), L(0), L(2)));
        Assert.Equal([new TaskDiffLine("label order", "changed", "billing, outage, other", "outage, billing, other")], lines);
    }

    [Fact]
    public void Added_and_removed_labels_are_named()
    {
        var lines = TaskDiff.Compare(Before, WithLabels(L(0), new LabelSpec { Name = "account", Description = "Sign-in and profile." }, L(2)));
        Assert.Equal(
            [
                new("label \"outage\"", "removed", "outage: The service is down.", null),
                new("label \"account\"", "added", null, "account: Sign-in and profile."),
            ],
            lines);
        var added = TaskDiff.Compare(Before, WithLabels([.. Before.Labels, new LabelSpec { Name = "refund" }]));
        Assert.Equal([new TaskDiffLine("label \"refund\"", "added", null, "refund")], added);
    }

    [Fact]
    public void Definition_other_flag_and_examples_changes_use_the_label_name()
    {
        var after = WithLabels(
            L(0) with { Description = "Money matters.", Examples = ["Refund please."] },
            L(1) with { IsOther = true },
            L(2) with { IsOther = false });
        var lines = TaskDiff.Compare(Before, after);
        Assert.Equal(
            [
                new("label \"billing\" · description", "changed", "Invoices, charges, refunds.", "Money matters."),
                new("label \"billing\" · examples", "added", null, "Refund please."),
                new("label \"outage\" · isOther", "changed", "false", "true"),
                new("label \"other\" · isOther", "changed", "true", "false"),
            ],
            lines);
    }

    [Fact]
    public void A_renamed_and_moved_label_with_the_same_definition_is_a_rename_and_a_move()
    {
        var lines = TaskDiff.Compare(Before, WithLabels(L(1), L(0) with { Name = "payments" }, L(2)));
        Assert.Equal(
            [
                new("labels[1].name", "changed", "billing", "payments"),
                new("label order", "changed", "billing, outage, other", "outage, payments, other"),
            ],
            lines);
    }

    [Fact]
    public void Preference_changes()
    {
        var after = Before with
        {
            Preferences = Before.Preferences with { Language = "ja", TextType = TextType.Email, MinChars = 20, Tone = "polite", Avoid = ["names"] },
        };
        Assert.Equal(
            [
                new("preferences.language", "changed", "en", "ja"),
                new("preferences.textType", "changed", "free", "email"),
                new("preferences.minChars", "added", null, "20"),
                new("preferences.tone", "added", null, "polite"),
                new("preferences.avoid", "added", null, "names"),
            ],
            TaskDiff.Compare(Before, after));
        Assert.Equal([new TaskDiffLine("preferences.tone", "removed", "polite", null)], TaskDiff.Compare(after, after with { Preferences = after.Preferences with { Tone = null } }));
    }
}
