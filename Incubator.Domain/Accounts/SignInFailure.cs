namespace Incubator.Domain.Accounts;

/// <summary>One failed password sign-in, kept for the throttling window: from which address, for which account name
/// (a SHA-256 of the normalised e-mail, whether or not such an account exists — so throttling says nothing about
/// which addresses have accounts, and the table holds no e-mail addresses).</summary>
public sealed class SignInFailure
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public string Address { get; set; } = "";
    public string AccountKey { get; set; } = "";
}
