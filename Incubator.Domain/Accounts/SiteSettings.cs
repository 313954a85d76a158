namespace Incubator.Domain.Accounts;

/// <summary>Who may create an account.</summary>
public enum RegistrationMode
{
    /// <summary>Anyone who reaches the portal.</summary>
    Open,
    /// <summary>Only through an invitation link an Owner created for a project (the default once an administrator
    /// exists).</summary>
    Invitation,
    /// <summary>Nobody; invitations can still be accepted by people who already have an account.</summary>
    Closed,
}

/// <summary>The site's settings, one row, changed by administrators on the site page. A null field means "not set":
/// the registration mode then falls back to configuration and to its default; a null cap means no cap.</summary>
public sealed class SiteSettings
{
    public const int SingletonId = 1;

    public int Id { get; set; } = SingletonId;

    public RegistrationMode? Registration { get; set; }

    /// <summary>Site-wide LLM connections: tokens (input + output) one user may spend per UTC day, over all projects.</summary>
    public long? DailyTokensPerUser { get; set; }

    /// <summary>The same in money (the connections' prices), in millionths of the currency unit.</summary>
    public long? DailyCostMicrosPerUser { get; set; }

    /// <summary>Site-wide LLM connections: tokens one project may spend per UTC day, whoever starts the runs.</summary>
    public long? DailyTokensPerProject { get; set; }

    public long? DailyCostMicrosPerProject { get; set; }

    public DateTimeOffset? UpdatedAt { get; set; }

    public string? UpdatedById { get; set; }
}
