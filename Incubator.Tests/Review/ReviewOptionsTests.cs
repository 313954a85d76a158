using Incubator.Domain.Review;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.Review;

/// <summary>Section "Review" is bound by the review slice itself and checked when the host starts, not at the first lease.</summary>
public sealed class ReviewOptionsTests
{
    private static ServiceProvider Services(params (string Key, string Value)[] settings) =>
        new ServiceCollection()
            .AddIncubatorReview(new ConfigurationBuilder().AddInMemoryCollection(settings.ToDictionary(s => s.Key, s => (string?)s.Value)).Build())
            .BuildServiceProvider();

    [Fact]
    public void The_section_is_bound_and_defaults_stand_for_what_it_does_not_set()
    {
        using var sp = Services(("Review:LeaseDuration", "00:03:00"));

        var o = sp.GetRequiredService<IOptions<ReviewOptions>>().Value;

        Assert.Equal((TimeSpan.FromMinutes(3), 5000), (o.LeaseDuration, o.ExportJobThreshold));
    }

    [Theory]
    [InlineData("Review:LeaseDuration", "00:00:00", "LeaseDuration")]
    [InlineData("Review:LeaseDuration", "2.00:00:00", "LeaseDuration")]
    [InlineData("Review:ExportJobThreshold", "0", "ExportJobThreshold")]
    public void A_value_out_of_range_fails_the_start_naming_the_setting(string key, string value, string named)
    {
        using var sp = Services((key, value));

        // What the host runs before it starts serving (ValidateOnStart).
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains(named, ex.Message);
    }
}
