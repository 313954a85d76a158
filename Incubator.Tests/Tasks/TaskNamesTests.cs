using Incubator.Domain.Tasks;

namespace Incubator.Tests.Tasks;

public sealed class TaskNamesTests
{
    [Theory]
    [InlineData("Mail", "mail ", true)]
    [InlineData("Ｍａｉｌ", "Mail", true)]
    [InlineData("Mail", "Mail 2", false)]
    public void Names_are_the_same_as_a_person_reads_them(string a, string b, bool same) => Assert.Equal(same, TaskNames.Same(a, b));

    [Fact]
    public void The_next_free_name_counts_past_every_taken_one()
    {
        Assert.Equal("Mail", TaskNames.NextFree(" Mail ", ["Urgency"]));
        Assert.Equal("Mail (2)", TaskNames.NextFree("Mail", ["mail"]));
        Assert.Equal("Mail (4)", TaskNames.NextFree("Mail", ["Mail", "Mail (2)", "MAIL (3)"]));
    }
}
