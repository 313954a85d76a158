using System.Globalization;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Llm;

/// <summary>Whose money a call to a site-wide connection spends: the person who started the work, in which project.</summary>
public sealed record SpendingScope(string UserId, Guid ProjectId, Guid ConnectionId);

/// <summary>What a user and a project spent today (UTC) on site-wide connections, against the caps.</summary>
public sealed record SpendingToday(long UserTokens, decimal UserCost, long ProjectTokens, decimal ProjectCost, SpendingCaps Caps);

/// <summary>A call was not made because a daily spending cap is reached. The message says which cap, for whom, and
/// when it resets; the run that wanted the call stops with it as its reason.</summary>
public sealed class SpendingCapReachedException(string message) : Exception(message)
{
    /// <summary>The cap that was reached, as a code with arguments (<see cref="SpendingGuard.CheckNoteAsync"/>).</summary>
    public SpendingCapReachedException(JobNote note) : this(note.Message) => Note = note;

    public JobNote? Note { get; }
}

/// <summary>The daily caps on site-wide LLM connections (<see cref="SiteSettingsService"/>): the guard every run calls
/// before each call to such a connection, and the ledger it adds each call's tokens and cost to. Calls already in
/// flight when a cap is reached finish (a run at concurrency 4 may pass a cap by up to three calls); no new call starts.
/// Project connections are the project's own keys and are not capped here. Any work that calls an LLM uses this through
/// <see cref="Guard"/>.</summary>
public sealed class SpendingGuard(IDbContextFactory<IncubatorDbContext> dbFactory, SiteSettingsService settings, TimeProvider time)
{
    /// <summary>Null when the call may go ahead; otherwise why not (in English).</summary>
    public async Task<string?> CheckAsync(SpendingScope scope, CancellationToken ct = default) => (await CheckNoteAsync(scope, ct))?.Message;

    /// <summary>Null when the call may go ahead; otherwise the cap reached as a code ("Spending.{UserTokens|UserCost|
    /// ProjectTokens|ProjectCost}") with what was used, the cap and when it resets (UTC) as its arguments.</summary>
    public async Task<JobNote?> CheckNoteAsync(SpendingScope scope, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        var today = await TodayAsync(scope.UserId, scope.ProjectId, ct);
        var caps = today.Caps;
        var resets = Tomorrow().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";
        if (caps.DailyTokensPerUser is { } ut && today.UserTokens >= ut)
            return SpendingNotes.UserTokens(today.UserTokens, ut, resets);
        if (caps.DailyCostPerUser is { } uc && today.UserCost >= uc)
            return SpendingNotes.UserCost(today.UserCost, uc, resets);
        if (caps.DailyTokensPerProject is { } pt && today.ProjectTokens >= pt)
            return SpendingNotes.ProjectTokens(today.ProjectTokens, pt, resets);
        if (caps.DailyCostPerProject is { } pc && today.ProjectCost >= pc)
            return SpendingNotes.ProjectCost(today.ProjectCost, pc, resets);
        return null;
    }

    public async Task RecordAsync(SpendingScope scope, LlmUsage usage, decimal cost, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(scope);
        ArgumentNullException.ThrowIfNull(usage);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.LlmSpend.Add(new LlmSpend
        {
            At = time.GetUtcNow(), UserId = scope.UserId, ProjectId = scope.ProjectId, ConnectionId = scope.ConnectionId,
            Tokens = (long)usage.InputTokens + usage.OutputTokens, CostMicros = SiteSettingsService.ToMicros(cost) ?? 0,
        });
        await db.SaveChangesAsync(ct);
    }

    public async Task<SpendingToday> TodayAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        var since = Today();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var user = await Totals(db.LlmSpend.Where(s => s.UserId == userId && s.At >= since), ct);
        var project = await Totals(db.LlmSpend.Where(s => s.ProjectId == projectId && s.At >= since), ct);
        return new SpendingToday(user.Tokens, SiteSettingsService.FromMicros(user.Micros), project.Tokens, SiteSettingsService.FromMicros(project.Micros),
            await settings.CapsAsync(ct));
    }

    /// <summary>The client for work on a site-wide connection: checks the caps before every call (throwing
    /// <see cref="SpendingCapReachedException"/>) and records what each call spent.</summary>
    public ILlmClient Guard(ILlmClient inner, SpendingScope scope, LlmProfile profile) => new GuardedLlmClient(inner, this, scope, profile);

    private static async Task<(long Tokens, long Micros)> Totals(IQueryable<LlmSpend> rows, CancellationToken ct) =>
        (await rows.SumAsync(s => s.Tokens, ct), await rows.SumAsync(s => s.CostMicros, ct));

    private DateTimeOffset Today()
    {
        var now = time.GetUtcNow();
        return new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero);
    }

    private DateTimeOffset Tomorrow() => Today().AddDays(1);
}

internal sealed class GuardedLlmClient(ILlmClient inner, SpendingGuard guard, SpendingScope scope, LlmProfile profile) : ILlmClient
{
    public Task<LlmResponse> CompleteAsync(LlmRequest request, CancellationToken ct) => CallAsync(() => inner.CompleteAsync(request, ct), ct);

    public Task<LlmResponse> StreamAsync(LlmRequest request, Func<string, ValueTask> onText, CancellationToken ct) =>
        CallAsync(() => inner.StreamAsync(request, onText, ct), ct);

    private async Task<LlmResponse> CallAsync(Func<Task<LlmResponse>> call, CancellationToken ct)
    {
        if (await guard.CheckNoteAsync(scope, ct) is { } reason) throw new SpendingCapReachedException(reason);
        var response = await call();
        // Recorded even if the caller is cancelled now: the provider has charged for it.
        await guard.RecordAsync(scope, response.Usage, LlmCost.Cost(response.Usage, profile), CancellationToken.None);
        return response;
    }
}

/// <summary>The spending caps' sentences ("JobNote.Spending.{Code}"): what was used, the cap, when it resets.</summary>
public static class SpendingNotes
{
    public static JobNote UserTokens(long used, long cap, string resets) => new("Spending.UserTokens",
        $"The daily spending cap per user on site-wide connections is reached: {used:N0} of {cap:N0} tokens used today. It resets at {resets}.",
        Tokens(used), Tokens(cap), resets);

    public static JobNote UserCost(decimal used, decimal cap, string resets) => new("Spending.UserCost",
        $"The daily spending cap per user on site-wide connections is reached: {used:0.####} of {cap:0.####} spent today. It resets at {resets}.",
        Money(used), Money(cap), resets);

    public static JobNote ProjectTokens(long used, long cap, string resets) => new("Spending.ProjectTokens",
        $"The daily spending cap per project on site-wide connections is reached: {used:N0} of {cap:N0} tokens used today. It resets at {resets}.",
        Tokens(used), Tokens(cap), resets);

    public static JobNote ProjectCost(decimal used, decimal cap, string resets) => new("Spending.ProjectCost",
        $"The daily spending cap per project on site-wide connections is reached: {used:0.####} of {cap:0.####} spent today. It resets at {resets}.",
        Money(used), Money(cap), resets);

    private static string Tokens(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Money(decimal d) => d.ToString("0.####", CultureInfo.InvariantCulture);
}
