using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Accounts;

/// <summary>Daily spending caps on site-wide LLM connections; null means no cap. Money is in the connections' currency.</summary>
public sealed record SpendingCaps(long? DailyTokensPerUser, decimal? DailyCostPerUser, long? DailyTokensPerProject, decimal? DailyCostPerProject)
{
    public static readonly SpendingCaps None = new(null, null, null, null);

    public bool Any => DailyTokensPerUser is not null || DailyCostPerUser is not null || DailyTokensPerProject is not null || DailyCostPerProject is not null;
}

/// <summary>The site's settings as the site page shows them: the registration mode in force and whether an
/// administrator chose it (or it is the configured or built-in default), and the spending caps.</summary>
public sealed record SiteSettingsView(RegistrationMode Registration, bool RegistrationChosen, SpendingCaps Caps);

/// <summary>Reads and (site administrators only) changes the site's settings: registration mode and spending caps.</summary>
public sealed class SiteSettingsService(IDbContextFactory<IncubatorDbContext> dbFactory, IOptionsMonitor<AccountsOptions> options, TimeProvider time)
{
    public const long MicrosPerUnit = 1_000_000;

    /// <summary>Who may register now: the administrators' choice, else the configured mode, else open until the first
    /// administrator exists and by invitation after that.</summary>
    public async Task<RegistrationMode> RegistrationAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await RegistrationAsync(db, ct);
    }

    public async Task<SpendingCaps> CapsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var s = await db.SiteSettings.AsNoTracking().Where(x => x.Id == SiteSettings.SingletonId).FirstOrDefaultAsync(ct);
        return s is null ? SpendingCaps.None : ToCaps(s);
    }

    public async Task<SiteSettingsView> GetAsync(string actingUserId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireAdminAsync(db, actingUserId, ct);
        var s = await db.SiteSettings.AsNoTracking().Where(x => x.Id == SiteSettings.SingletonId).FirstOrDefaultAsync(ct);
        return new SiteSettingsView(await RegistrationAsync(db, ct), s?.Registration is not null, s is null ? SpendingCaps.None : ToCaps(s));
    }

    public async Task SetRegistrationAsync(string actingUserId, RegistrationMode mode, CancellationToken ct = default)
    {
        InputLimits.RequireDefined("registration", mode);
        await UpdateAsync(actingUserId, s => s.Registration = mode, ct);
    }

    public async Task SetCapsAsync(string actingUserId, SpendingCaps caps, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(caps);
        var errors = new List<DomainError>();
        void Positive(string field, decimal? value)
        {
            if (value is <= 0) errors.Add(new(field, "CapInvalid", "A cap must be positive (or left empty for no cap).", []));
        }
        Positive("dailyTokensPerUser", caps.DailyTokensPerUser);
        Positive("dailyCostPerUser", caps.DailyCostPerUser);
        Positive("dailyTokensPerProject", caps.DailyTokensPerProject);
        Positive("dailyCostPerProject", caps.DailyCostPerProject);
        if (errors.Count > 0) throw new DomainValidationException(errors);
        await UpdateAsync(actingUserId, s =>
        {
            s.DailyTokensPerUser = caps.DailyTokensPerUser;
            s.DailyCostMicrosPerUser = ToMicros(caps.DailyCostPerUser);
            s.DailyTokensPerProject = caps.DailyTokensPerProject;
            s.DailyCostMicrosPerProject = ToMicros(caps.DailyCostPerProject);
        }, ct);
    }

    public static long? ToMicros(decimal? amount) => amount is { } a ? (long)Math.Ceiling(a * MicrosPerUnit) : null;

    public static decimal FromMicros(long micros) => micros / (decimal)MicrosPerUnit;

    private async Task<RegistrationMode> RegistrationAsync(IncubatorDbContext db, CancellationToken ct)
    {
        var chosen = await db.SiteSettings.AsNoTracking().Where(s => s.Id == SiteSettings.SingletonId).Select(s => s.Registration).FirstOrDefaultAsync(ct);
        if (chosen is { } mode) return mode;
        if (options.CurrentValue.Registration is { } configured) return configured;
        var adminExists = await (from ur in db.UserRoles join r in db.Roles on ur.RoleId equals r.Id where r.Name == SiteRoles.Admin select ur).AnyAsync(ct);
        return adminExists ? RegistrationMode.Invitation : RegistrationMode.Open;
    }

    private async Task UpdateAsync(string actingUserId, Action<SiteSettings> change, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireAdminAsync(db, actingUserId, ct);
        var s = await db.SiteSettings.Where(x => x.Id == SiteSettings.SingletonId).FirstOrDefaultAsync(ct);
        if (s is null)
        {
            s = new SiteSettings();
            db.SiteSettings.Add(s);
        }
        change(s);
        s.UpdatedAt = time.GetUtcNow();
        s.UpdatedById = actingUserId;
        await db.SaveChangesAsync(ct);
    }

    private static SpendingCaps ToCaps(SiteSettings s) => new(s.DailyTokensPerUser,
        s.DailyCostMicrosPerUser is { } u ? FromMicros(u) : null, s.DailyTokensPerProject, s.DailyCostMicrosPerProject is { } p ? FromMicros(p) : null);

    internal static async Task RequireAdminAsync(IncubatorDbContext db, string? userId, CancellationToken ct)
    {
        var isAdmin = !string.IsNullOrEmpty(userId) && await (from ur in db.UserRoles
                                                               join r in db.Roles on ur.RoleId equals r.Id
                                                               where ur.UserId == userId && r.Name == SiteRoles.Admin
                                                               select ur).AnyAsync(ct);
        if (!isAdmin) throw new ForbiddenException("Only site administrators can change the site's settings.");
    }
}
