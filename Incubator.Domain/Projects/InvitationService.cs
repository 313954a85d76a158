using System.Security.Cryptography;
using System.Text;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Projects;

public enum InvitationState
{
    Pending,
    Accepted,
    Expired,
    Revoked,
}

public sealed record InvitationView(Guid Id, Guid ProjectId, ProjectRole Role, string? Email, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt,
    DateTimeOffset? AcceptedAt, string? AcceptedByEmail, DateTimeOffset? RevokedAt, InvitationState State);

/// <summary>The link's secret exists only in this result; the database keeps its hash.</summary>
public sealed record CreatedInvitation(InvitationView Invitation, string Token);

/// <summary>What the invitation page shows before anyone accepts: which project, which role, until when.</summary>
public sealed record InvitationPreview(Guid ProjectId, string ProjectName, ProjectRole Role, DateTimeOffset ExpiresAt);

/// <summary>Invitation links: an Owner creates one for a role (and, optionally, the e-mail it is for), sees and revokes
/// them; whoever holds the link joins the project with that role — registering first if they have no account, which
/// on a portal in invitation mode is the only way to register. A link works once and until it expires.</summary>
public sealed class InvitationService(
    IDbContextFactory<IncubatorDbContext> dbFactory, ProjectAccess access, IRunEvents events, IOptionsMonitor<AccountsOptions> options, TimeProvider time)
{
    public const string TokenPrefix = "inv_";

    public async Task<CreatedInvitation> CreateAsync(string userId, Guid projectId, ProjectRole role, string? email, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Owner, ct);
        if (!Enum.IsDefined(role)) throw new DomainValidationException("role", "RoleInvalid", "Choose a role: Owner, Author, Reviewer or Viewer.");
        var trimmed = string.IsNullOrWhiteSpace(email) ? null : email.Trim();
        // The address is optional (a link anyone may use); one that is given follows registration's rule.
        if (trimmed is not null && !EmailAddresses.IsPlausible(trimmed))
            throw new DomainValidationException("email", "EmailInvalid", $"'{trimmed}' is not a valid e-mail address.", trimmed ?? "");
        var now = time.GetUtcNow();
        var token = TokenPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var invitation = new Invitation
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Role = role, Email = trimmed, TokenHash = Hash(token), CreatedById = userId, CreatedAt = now,
            ExpiresAt = now + options.CurrentValue.InvitationLifetime,
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.Invitations.Add(invitation);
        db.Activity.Add(new ActivityEntry
        {
            ProjectId = projectId, UserId = userId, At = now, Kind = ActivityKinds.InvitationCreated, Detail = $"{trimmed ?? "(link)"} ({role})",
        });
        await db.SaveChangesAsync(ct);
        return new CreatedInvitation(View(invitation, null, now), token);
    }

    public async Task<IReadOnlyList<InvitationView>> ListAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Owner, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await (from i in db.Invitations.AsNoTracking()
                          where i.ProjectId == projectId
                          join u in db.Users on i.AcceptedById equals u.Id into us
                          from u in us.DefaultIfEmpty()
                          select new { Invitation = i, Email = u == null ? null : u.Email }).ToListAsync(ct);
        var now = time.GetUtcNow();
        return rows.Select(r => View(r.Invitation, r.Email, now)).OrderBy(v => v.State).ThenByDescending(v => v.CreatedAt).ToList();
    }

    public async Task RevokeAsync(string userId, Guid invitationId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var invitation = await db.Invitations.SingleOrDefaultAsync(i => i.Id == invitationId, ct)
            ?? throw new ForbiddenException("You do not have access to this invitation.");
        await access.RequireAsync(invitation.ProjectId, userId, ProjectRole.Owner, ct);
        if (invitation.AcceptedAt is not null)
            throw new DomainValidationException("invitation", "InvitationUsed", "This invitation was already used; remove the member instead.");
        invitation.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The project and role a link offers, or null when it is unknown, used, revoked or expired (one answer for
    /// all four: a link either works or it does not).</summary>
    public async Task<InvitationPreview?> PreviewAsync(string? token, CancellationToken ct = default)
    {
        if (!Plausible(token)) return null;
        var hash = Hash(token!);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await (from i in db.Invitations.AsNoTracking()
                      where i.TokenHash == hash && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now
                      join p in db.Projects on i.ProjectId equals p.Id
                      select new InvitationPreview(p.Id, p.Name, i.Role, i.ExpiresAt)).FirstOrDefaultAsync(ct);
    }

    /// <summary>Takes the link for one use: from here on nobody else can use it. Returns its id, or null when it does not
    /// work. Registration claims before it creates the account and <see cref="ReleaseAsync"/>s when that fails.</summary>
    public async Task<Guid?> ClaimAsync(string? token, CancellationToken ct = default)
    {
        if (!Plausible(token)) return null;
        var hash = Hash(token!);
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var id = await db.Invitations.AsNoTracking().Where(i => i.TokenHash == hash).Select(i => (Guid?)i.Id).FirstOrDefaultAsync(ct);
        if (id is null) return null;
        // One conditional write: of two people using the same link at once, exactly one gets it.
        var claimed = await db.Invitations
            .Where(i => i.Id == id && i.AcceptedAt == null && i.RevokedAt == null && i.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, now), ct);
        return claimed == 1 ? id : null;
    }

    public async Task ReleaseAsync(Guid invitationId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Invitations.Where(i => i.Id == invitationId && i.AcceptedById == null)
            .ExecuteUpdateAsync(s => s.SetProperty(i => i.AcceptedAt, (DateTimeOffset?)null), ct);
    }

    /// <summary>Makes the claimed invitation's holder a member with its role (someone already a member keeps their role).</summary>
    public async Task<Guid> CompleteAsync(Guid invitationId, string memberUserId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var invitation = await db.Invitations.SingleAsync(i => i.Id == invitationId, ct);
        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == memberUserId, ct);
        invitation.AcceptedById = memberUserId;
        var now = time.GetUtcNow();
        if (!await db.ProjectMembers.AnyAsync(m => m.ProjectId == invitation.ProjectId && m.UserId == memberUserId, ct))
        {
            db.ProjectMembers.Add(new ProjectMember { ProjectId = invitation.ProjectId, UserId = memberUserId, Role = invitation.Role, AddedAt = now });
            db.Activity.Add(new ActivityEntry
            {
                ProjectId = invitation.ProjectId, UserId = memberUserId, At = now, Kind = ActivityKinds.InvitationAccepted,
                Detail = $"{user.Email} ({invitation.Role})",
            });
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        await events.PublishAsync(new ProjectChanged(invitation.ProjectId, "members"), ct);
        return invitation.ProjectId;
    }

    /// <summary>A signed-in person uses a link: they join the project with its role. Refused when the link does not work.</summary>
    public async Task<Guid> AcceptAsync(string userId, string? token, CancellationToken ct = default)
    {
        var id = await ClaimAsync(token, ct)
            ?? throw new DomainValidationException("invitation", "InvitationInvalid",
                "This invitation link does not work: it was used already, revoked, or it expired. Ask the project's Owner for a new one.");
        return await CompleteAsync(id, userId, ct);
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static bool Plausible(string? token) => token is { Length: > 10 and <= 200 } && token.StartsWith(TokenPrefix, StringComparison.Ordinal);

    private static InvitationView View(Invitation i, string? acceptedBy, DateTimeOffset now) => new(i.Id, i.ProjectId, i.Role, i.Email, i.CreatedAt, i.ExpiresAt,
        i.AcceptedAt, acceptedBy, i.RevokedAt,
        i.RevokedAt is not null ? InvitationState.Revoked
        : i.AcceptedById is not null ? InvitationState.Accepted
        : i.ExpiresAt <= now ? InvitationState.Expired
        : InvitationState.Pending);
}
