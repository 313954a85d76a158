using System.Security.Cryptography;
using System.Text;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Accounts;

public sealed record ApiTokenView(Guid Id, string Name, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    public bool IsActive => RevokedAt is null;
}

/// <summary>The token text exists only in this result; the database keeps its hash.</summary>
public sealed record CreatedApiToken(ApiTokenView Token, string Secret);

/// <summary>Personal API tokens: create (shown once), list, revoke, and resolve a presented token to its user.</summary>
public sealed class ApiTokenService(IDbContextFactory<IncubatorDbContext> dbFactory, TimeProvider time)
{
    public const string TokenPrefix = "inc_";
    public const int MaxActivePerUser = 20;
    /// <summary>Last-used time is written at most this often per token, so a busy client does not write on every call.</summary>
    public static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    public async Task<CreatedApiToken> CreateAsync(string userId, string? name, CancellationToken ct = default)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length is 0 or > 100)
            throw new DomainValidationException("name", "TokenNameInvalid", "Give the token a name of 1 to 100 characters.");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.ApiTokens.CountAsync(t => t.UserId == userId && t.RevokedAt == null, ct) >= MaxActivePerUser)
            throw new DomainValidationException("name", "TokenTooMany", $"You already have {MaxActivePerUser} active tokens; revoke one first.", MaxActivePerUser);
        // 32 random bytes: unguessable, so a fast hash (no salt, no stretching) is the right tool for lookup.
        var secret = TokenPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));
        var token = new ApiToken
        {
            Id = Guid.NewGuid(), UserId = userId, Name = trimmed, Prefix = secret[..12], Hash = Hash(secret), CreatedAt = time.GetUtcNow(),
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return new CreatedApiToken(ToView(token), secret);
    }

    public async Task<IReadOnlyList<ApiTokenView>> ListAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).ToListAsync(ct);
        return rows.OrderBy(t => t.RevokedAt is not null).ThenByDescending(t => t.CreatedAt).Select(ToView).ToList();
    }

    public async Task RevokeAsync(string userId, Guid tokenId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Id == tokenId && t.UserId == userId, ct)
            ?? throw new NotFoundException("No such token.");
        token.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The user id a presented token acts as, or null when it is unknown or revoked. Failed sign-ins do not touch
    /// tokens: a stranger who throttles an account's password sign-in by guessing must not cut its programs off.</summary>
    public async Task<string?> ValidateAsync(string? presented, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(presented) || !presented.StartsWith(TokenPrefix, StringComparison.Ordinal) || presented.Length > 200) return null;
        var hash = Hash(presented);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = await db.ApiTokens.SingleOrDefaultAsync(t => t.Hash == hash, ct);
        if (token is null || token.RevokedAt is not null) return null;
        var now = time.GetUtcNow();
        if (!await db.Users.AnyAsync(u => u.Id == token.UserId, ct)) return null;
        if (token.LastUsedAt is null || now - token.LastUsedAt.Value >= LastUsedResolution)
        {
            token.LastUsedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return token.UserId;
    }

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static ApiTokenView ToView(ApiToken t) => new(t.Id, t.Name, t.Prefix, t.CreatedAt, t.LastUsedAt, t.RevokedAt);
}
