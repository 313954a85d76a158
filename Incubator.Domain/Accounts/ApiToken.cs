namespace Incubator.Domain.Accounts;

/// <summary>A personal API token. Only a SHA-256 hash of the secret is stored, with a short prefix so the owner can
/// tell tokens apart; the secret itself is shown once, when it is created.</summary>
public sealed class ApiToken
{
    public Guid Id { get; set; }
    public string UserId { get; set; } = "";
    public string Name { get; set; } = "";
    /// <summary>The first characters of the token (e.g. "inc_ab12cd34"), shown in lists.</summary>
    public string Prefix { get; set; } = "";
    /// <summary>SHA-256 (hex, lower case) of the whole token.</summary>
    public string Hash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
