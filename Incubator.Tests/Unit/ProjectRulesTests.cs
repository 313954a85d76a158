using Incubator.Domain.Common;
using Incubator.Domain.Projects;

namespace Incubator.Tests.Unit;

public sealed class ProjectRulesTests
{
    [Theory]
    [InlineData("Seedlings", "Seedlings")]
    [InlineData("  padded  ", "padded")]
    [InlineData("日本語のプロジェクト", "日本語のプロジェクト")]
    public void ValidateName_returns_the_trimmed_name(string input, string expected)
    {
        Assert.Equal(expected, ProjectRules.ValidateName(input));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" \t\r\n ")]
    public void ValidateName_requires_a_name(string? input)
    {
        var ex = Assert.Throws<DomainValidationException>(() => ProjectRules.ValidateName(input));
        var error = Assert.Single(ex.Details);
        Assert.Equal(("name", "ProjectNameRequired"), (error.Field, error.Code));
        Assert.Equal(new[] { "name" }, ex.Errors.Keys);
    }

    [Fact]
    public void ValidateName_accepts_100_characters_and_refuses_101_with_both_numbers_in_the_args()
    {
        Assert.Equal(100, ProjectRules.ValidateName(new string('a', 100)).Length);

        var ex = Assert.Throws<DomainValidationException>(() => ProjectRules.ValidateName(new string('a', 101)));

        var error = Assert.Single(ex.Details);
        Assert.Equal(("name", "ProjectNameTooLong"), (error.Field, error.Code));
        Assert.Equal(new object[] { 100, 101 }, error.Args);
    }

    [Fact]
    public void ValidateName_refuses_control_characters_inside_the_name()
    {
        var ex = Assert.Throws<DomainValidationException>(() => ProjectRules.ValidateName("bad\u0007name"));
        Assert.Equal("ProjectNameControlChars", Assert.Single(ex.Details).Code);
    }

    [Fact]
    public void ValidateDescription_allows_empty_and_2000_characters_but_not_2001()
    {
        Assert.Equal("", ProjectRules.ValidateDescription(null));
        Assert.Equal(2000, ProjectRules.ValidateDescription(new string('d', 2000)).Length);

        var ex = Assert.Throws<DomainValidationException>(() => ProjectRules.ValidateDescription(new string('d', 2001)));
        Assert.Equal(("description", "DescriptionTooLong"), (ex.Details.Single().Field, ex.Details.Single().Code));
    }
}
