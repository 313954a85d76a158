using Incubator.Domain.Accounts;
using Incubator.Web.Accounts;
using Microsoft.AspNetCore.DataProtection;

namespace Incubator.Tests.Unit;

public sealed class SignInTicketsTests
{
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }

    private static readonly AppUser User = new() { Id = "user-1", SecurityStamp = "stamp-1", Email = "u@example.test" };

    private static SignInTickets Create(IDataProtectionProvider? provider = null, TimeProvider? time = null) =>
        new(provider ?? new EphemeralDataProtectionProvider(), time ?? TimeProvider.System);

    [Theory]
    [InlineData(null, "/")]
    [InlineData("", "/")]
    [InlineData("   ", "/")]
    [InlineData("/", "/")]
    [InlineData("/projects/new", "/projects/new")]
    [InlineData("  /projects?tab=jobs#x  ", "/projects?tab=jobs#x")]
    [InlineData("projects/new", "/projects/new")]
    [InlineData("//evil.example", "/")]
    [InlineData("//evil.example/path", "/")]
    [InlineData("https://evil.example", "/")]
    [InlineData("http://evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("\\\\evil.example", "/")]
    [InlineData("\\/evil.example", "/")]
    [InlineData("javascript://alert(1)", "/")]
    [InlineData("/\t/evil.example", "/")]
    [InlineData("/\r\n/evil.example", "/")]
    [InlineData("/projects\u0000", "/")]
    public void SafeReturnUrl_keeps_local_paths_and_reduces_everything_else_to_the_home_page(string? input, string expected)
    {
        Assert.Equal(expected, SignInTickets.SafeReturnUrl(input));
    }

    [Fact]
    public void A_ticket_round_trips_user_stamp_remember_flag_and_a_sanitised_return_url()
    {
        var tickets = Create();

        var read = tickets.Read(tickets.Issue(User, remember: true, returnUrl: "https://evil.example"));

        Assert.NotNull(read);
        Assert.Equal(new SignInTickets.Ticket("user-1", "stamp-1", true, "/"), read);
    }

    [Fact]
    public void The_ticket_is_opaque_it_does_not_show_the_user_id_or_stamp()
    {
        var ticket = Create().Issue(User, false, "/projects");
        Assert.DoesNotContain("user-1", ticket);
        Assert.DoesNotContain("stamp-1", ticket);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-a-ticket")]
    public void Reading_nothing_or_garbage_gives_null(string? ticket)
    {
        Assert.Null(Create().Read(ticket));
    }

    [Fact]
    public void A_ticket_with_one_character_changed_is_rejected()
    {
        var tickets = Create();
        var chars = tickets.Issue(User, false, "/").ToCharArray();
        var i = chars.Length / 2;
        chars[i] = chars[i] == 'A' ? 'B' : 'A';

        Assert.Null(tickets.Read(new string(chars)));
    }

    [Fact]
    public void A_ticket_from_another_key_ring_is_rejected()
    {
        var ticket = Create(new EphemeralDataProtectionProvider()).Issue(User, false, "/");
        Assert.Null(Create(new EphemeralDataProtectionProvider()).Read(ticket));
    }

    [Fact]
    public void A_ticket_issued_longer_ago_than_its_lifetime_is_rejected()
    {
        var provider = new EphemeralDataProtectionProvider();
        // Issued "ten minutes ago": its two-minute expiry is already in the past.
        var stale = Create(provider, new FixedTime(DateTimeOffset.UtcNow.AddMinutes(-10))).Issue(User, false, "/");
        var fresh = Create(provider).Issue(User, false, "/");

        Assert.Null(Create(provider).Read(stale));
        Assert.NotNull(Create(provider).Read(fresh));
    }

    [Fact]
    public void A_ticket_for_another_purpose_is_rejected()
    {
        var provider = new EphemeralDataProtectionProvider();
        var foreign = provider.CreateProtector("Some.Other.Purpose").ToTimeLimitedDataProtector()
            .Protect("""{"UserId":"user-1","SecurityStamp":"stamp-1","Remember":false,"ReturnUrl":"/"}""", DateTimeOffset.UtcNow.AddMinutes(2));

        Assert.Null(Create(provider).Read(foreign));
    }
}
