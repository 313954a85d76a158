using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Accounts;

/// <summary>Section "Accounts" (env: Accounts__Registration=Open, ...). Bound and validated at start.</summary>
public sealed class AccountsOptions
{
    public const string Section = "Accounts";

    /// <summary>The registration mode until an administrator picks one on the site page. Unset: open while there is no
    /// administrator (so the first person can register and become one), by invitation afterwards.</summary>
    public RegistrationMode? Registration { get; set; }

    /// <summary>Failed sign-ins for one account name within <see cref="SignInWindow"/> before that name is throttled.</summary>
    [Range(1, 1000)]
    public int SignInFailuresPerAccount { get; set; } = 5;

    /// <summary>Failed sign-ins from one address within <see cref="SignInWindow"/> before that address is throttled (one
    /// address trying many account names).</summary>
    [Range(1, 10_000)]
    public int SignInFailuresPerAddress { get; set; } = 20;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SignInWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long an invitation link works.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "90.00:00:00")]
    public TimeSpan InvitationLifetime { get; set; } = TimeSpan.FromDays(7);
}
