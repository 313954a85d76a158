using System.Security.Cryptography;
using System.Text;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Accounts;

/// <summary>Slows password guessing down without locking anyone out of anything but password sign-in: after
/// <see cref="AccountsOptions.SignInFailuresPerAccount"/> failures for one account name, or
/// <see cref="AccountsOptions.SignInFailuresPerAddress"/> from one address, within
/// <see cref="AccountsOptions.SignInWindow"/>, further attempts for that name (or from that address) are refused until
/// the window has moved on. Account names are counted whether or not an account exists, so the answer never says
/// which addresses have accounts; API tokens and open sessions are not affected; an administrator can clear an
/// account's count. Failures live in the database, so every portal instance counts the same ones.</summary>
public sealed class SignInThrottle(IDbContextFactory<IncubatorDbContext> dbFactory, IOptionsMonitor<AccountsOptions> options, TimeProvider time)
{
    /// <summary>When attempts for this account name from this address may start again; null when they may now.</summary>
    public async Task<DateTimeOffset?> BlockedUntilAsync(string address, string? email, CancellationToken ct = default)
    {
        var o = options.CurrentValue;
        var since = time.GetUtcNow() - o.SignInWindow;
        var key = AccountKey(email);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var byAccount = await Oldest(db.SignInFailures.Where(f => f.AccountKey == key && f.At > since), o.SignInFailuresPerAccount, ct);
        var clipped = Clip(address);
        var byAddress = await Oldest(db.SignInFailures.Where(f => f.Address == clipped && f.At > since), o.SignInFailuresPerAddress, ct);
        var until = new[] { byAccount, byAddress }.Where(x => x is not null).Max();
        return until is { } u ? u + o.SignInWindow : null;
    }

    /// <summary>When the account's name is throttled (for the administrators' list), or null.</summary>
    public async Task<DateTimeOffset?> AccountBlockedUntilAsync(string? email, CancellationToken ct = default)
    {
        var o = options.CurrentValue;
        var since = time.GetUtcNow() - o.SignInWindow;
        var key = AccountKey(email);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await Oldest(db.SignInFailures.Where(f => f.AccountKey == key && f.At > since), o.SignInFailuresPerAccount, ct) is { } at
            ? at + o.SignInWindow
            : null;
    }

    public async Task RecordFailureAsync(string address, string? email, CancellationToken ct = default)
    {
        var now = time.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.SignInFailures.Add(new SignInFailure { At = now, Address = Clip(address), AccountKey = AccountKey(email) });
        await db.SaveChangesAsync(ct);
        // Old failures say nothing any more; sweeping them here keeps the table at one window's worth.
        var expired = now - options.CurrentValue.SignInWindow;
        await db.SignInFailures.Where(f => f.At < expired).ExecuteDeleteAsync(ct);
    }

    /// <summary>A successful sign-in, or an administrator's unlock, clears the account's failures (not the address's).</summary>
    public async Task ClearAccountAsync(string? email, CancellationToken ct = default)
    {
        var key = AccountKey(email);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.SignInFailures.Where(f => f.AccountKey == key).ExecuteDeleteAsync(ct);
    }

    /// <summary>The n-th most recent failure's time when there are at least <paramref name="limit"/> in the window: the
    /// window frees one attempt when that failure leaves it.</summary>
    private static async Task<DateTimeOffset?> Oldest(IQueryable<SignInFailure> failures, int limit, CancellationToken ct)
    {
        var recent = await failures.OrderByDescending(f => f.At).Take(limit).Select(f => f.At).ToListAsync(ct);
        return recent.Count >= limit ? recent[^1] : null;
    }

    public static string AccountKey(string? email) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes((email ?? "").Trim().ToUpperInvariant())));

    private static string Clip(string address) => address.Length <= 64 ? address : address[..64];
}
