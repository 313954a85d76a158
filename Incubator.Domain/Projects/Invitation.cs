namespace Incubator.Domain.Projects;

/// <summary>A link an Owner hands to someone so they join the project with a role — registering first when they have no
/// account (the only way to register on a portal in invitation mode). Single use, expiring, revocable. Only a SHA-256
/// of the link's secret is stored; the link itself is shown once, when it is created.</summary>
public sealed class Invitation
{
    public Guid Id { get; set; }
    public Guid ProjectId { get; set; }
    public ProjectRole Role { get; set; }
    /// <summary>Whom it was made for (shown to the Owner; the link works for whoever holds it).</summary>
    public string? Email { get; set; }
    public string TokenHash { get; set; } = "";
    public string CreatedById { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
    public DateTimeOffset? AcceptedAt { get; set; }
    public string? AcceptedById { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}
