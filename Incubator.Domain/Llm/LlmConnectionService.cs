using System.Security.Cryptography;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Incubator.Domain.Llm;

/// <summary>Create, edit, list and remove LLM connections, and hand out profiles (with the decrypted key) to the code
/// that calls the LLM. Project connections need the Author role; site-wide ones need a site administrator to manage
/// and any Author to use. Keys are encrypted at rest and never returned in a view.</summary>
public sealed class LlmConnectionService(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    IDataProtectionProvider dataProtection,
    IOptionsMonitor<LlmOptions> options,
    ConnectionTester tester,
    TimeProvider time)
{
    /// <summary>The id under which the connection from configuration appears; it is never stored.</summary>
    public static readonly Guid ConfiguredConnectionId = Guid.Parse("00000000-0000-0000-0000-00000000c0f1");

    public const string ConfiguredConnectionName = "Configured (appsettings/environment)";

    public const string ProtectorPurpose = "Incubator.LlmKeys.v1";

    private IDataProtector Protector => dataProtection.CreateProtector(ProtectorPurpose);

    /// <summary>Project connections, then site-wide ones, then the configured one when there is one.</summary>
    public async Task<IReadOnlyList<LlmConnectionView>> ListAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.LlmConnections.AsNoTracking()
            .Where(c => c.ProjectId == projectId || c.ProjectId == null)
            .ToListAsync(ct);
        var list = rows
            .OrderBy(c => c.ProjectId is null)
            .ThenBy(c => c.Name, StringComparer.CurrentCultureIgnoreCase)
            .Select(c => ToView(c) with { KeyUnreadable = !CanRead(c) })
            .ToList();
        if (ConfiguredProfile() is { } configured) list.Add(ToView(configured));
        var ids = list.Select(c => c.Id).ToList();
        var tests = await db.LlmConnectionTests.AsNoTracking().Where(t => ids.Contains(t.ConnectionId)).ToDictionaryAsync(t => t.ConnectionId, ct);
        return list.Select(c => tests.TryGetValue(c.Id, out var t) ? c with { LastTest = new ConnectionTestView(t.Ok, t.StatusCode, t.Error, t.At) } : c).ToList();
    }

    /// <summary>"Test connection" for an Author of the project: one minimal request (see <see cref="ConnectionTester"/>);
    /// the result is kept as the connection's last test, which the Generate page shows.</summary>
    public async Task<ConnectionTestResult> TestAsync(string userId, Guid projectId, Guid connectionId, CancellationToken ct = default)
    {
        // Calls the endpoint (spends) and keeps the result: a write, refused in an archived project.
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        var profile = await GetProfileAsync(userId, projectId, connectionId, ct);
        var result = await tester.TestAsync(profile, ct);
        await RecordTestAsync(connectionId, result, ct);
        return result;
    }

    /// <summary>Keeps <paramref name="result"/> as the connection's last test (a run that never got an answer tests its
    /// connection and records it here too).</summary>
    public async Task RecordTestAsync(Guid connectionId, ConnectionTestResult result, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(result);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.LlmConnectionTests.SingleOrDefaultAsync(t => t.ConnectionId == connectionId, ct);
        if (row is null) db.LlmConnectionTests.Add(row = new LlmConnectionTest { ConnectionId = connectionId });
        row.Ok = result.Ok;
        row.StatusCode = result.StatusCode;
        row.Error = result.Error is { Length: > 2000 } e ? e[..2000] : result.Error;
        row.At = time.GetUtcNow();
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The project's default connection (what the Generate page preselects), or null.</summary>
    public async Task<Guid?> GetProjectDefaultAsync(string userId, Guid projectId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Projects.AsNoTracking().Where(p => p.Id == projectId).Select(p => p.DefaultConnectionId).SingleAsync(ct);
    }

    /// <summary>Owner only: the connection the Generate page preselects in this project (null: none; the author's last
    /// one is preselected then). It must be usable here: the project's own, a site-wide one, or the configured one.</summary>
    public async Task SetProjectDefaultAsync(string userId, Guid projectId, Guid? connectionId, CancellationToken ct = default)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Owner, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (connectionId is { } id && !(id == ConfiguredConnectionId && ConfiguredProfile() is not null)
            && !await db.LlmConnections.AnyAsync(c => c.Id == id && (c.ProjectId == null || c.ProjectId == projectId), ct))
            throw new DomainValidationException("connection", "DefaultConnectionUnknown", "Choose one of this project's connections as its default.");
        var project = await db.Projects.SingleAsync(p => p.Id == projectId, ct);
        if (project.DefaultConnectionId == connectionId) return;
        project.DefaultConnectionId = connectionId;
        var name = connectionId is null ? "" : (await ListAsync(userId, projectId, ct)).FirstOrDefault(c => c.Id == connectionId)?.Name ?? "";
        db.Activity.Add(Activity(projectId, userId, LlmActivityKinds.DefaultConnectionChanged, name));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Site-wide connections, for the administration page.</summary>
    public async Task<IReadOnlyList<LlmConnectionView>> ListSiteWideAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireSiteAdminAsync(db, userId, ct);
        var rows = await db.LlmConnections.AsNoTracking().Where(c => c.ProjectId == null).ToListAsync(ct);
        return rows.OrderBy(c => c.Name, StringComparer.CurrentCultureIgnoreCase).Select(c => ToView(c) with { KeyUnreadable = !CanRead(c) }).ToList();
    }

    /// <param name="projectId">Null for a site-wide connection (site administrators only).</param>
    public async Task<LlmConnectionView> CreateAsync(string userId, Guid? projectId, LlmConnectionInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await RequireManageAsync(db, userId, projectId, ct);
        var newKey = string.IsNullOrWhiteSpace(input.ApiKey) ? null : input.ApiKey.Trim();
        var (name, endpoint, model) = LlmConnectionRules.Validate(input, newKey is not null);
        var entity = new LlmConnection
        {
            Id = Guid.NewGuid(),
            ProjectId = projectId,
            CreatedAt = time.GetUtcNow(),
            CreatedById = userId,
        };
        Apply(entity, input, name, endpoint, model);
        entity.ApiKeyProtected = newKey is null ? null : Protector.Protect(newKey);
        db.LlmConnections.Add(entity);
        if (projectId is { } p) db.Activity.Add(Activity(p, userId, LlmActivityKinds.ConnectionCreated, name));
        await db.SaveChangesAsync(ct);
        return ToView(entity);
    }

    public async Task<LlmConnectionView> UpdateAsync(string userId, Guid connectionId, LlmConnectionInput input, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfConfigured(connectionId);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entity = await FindForManageAsync(db, userId, connectionId, ct);
        string? newProtected = entity.ApiKeyProtected;
        if (input.ApiKey is not null)
            newProtected = string.IsNullOrWhiteSpace(input.ApiKey) ? null : Protector.Protect(input.ApiKey.Trim());
        var (name, endpoint, model) = LlmConnectionRules.Validate(input, newProtected is not null);
        // The saved key is sent to the endpoint. Whoever moves the endpoint types the key again (or removes it): an
        // author who never saw the key cannot point the connection at a server of theirs and read the key there.
        if (input.ApiKey is null && entity.ApiKeyProtected is not null && !string.Equals(endpoint, entity.Endpoint, StringComparison.Ordinal))
            throw new DomainValidationException("apiKey", "ApiKeyEndpointChanged",
                "The endpoint changed: enter the API key again (a saved key is only sent to the endpoint it was saved for).");
        Apply(entity, input, name, endpoint, model);
        entity.ApiKeyProtected = newProtected;
        if (entity.ProjectId is { } p) db.Activity.Add(Activity(p, userId, LlmActivityKinds.ConnectionChanged, name));
        await db.SaveChangesAsync(ct);
        return ToView(entity);
    }

    public async Task DeleteAsync(string userId, Guid connectionId, CancellationToken ct = default)
    {
        ThrowIfConfigured(connectionId);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entity = await FindForManageAsync(db, userId, connectionId, ct);
        db.LlmConnections.Remove(entity);
        await db.LlmConnectionTests.Where(t => t.ConnectionId == connectionId).ExecuteDeleteAsync(ct);
        // A project whose default it was has no default any more (the next run preselects the author's last connection).
        await db.Projects.Where(p => p.DefaultConnectionId == connectionId).ExecuteUpdateAsync(s => s.SetProperty(p => p.DefaultConnectionId, (Guid?)null), ct);
        if (entity.ProjectId is { } p) db.Activity.Add(Activity(p, userId, LlmActivityKinds.ConnectionDeleted, entity.Name));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The profile, key included, for an Author of <paramref name="projectId"/> who wants to run something
    /// there: the project's own connections, site-wide ones and the configured one.</summary>
    public async Task<LlmProfile> GetProfileAsync(string userId, Guid projectId, Guid connectionId, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Author, ct);
        if (connectionId == ConfiguredConnectionId)
            return ConfiguredProfile() ?? throw NotFound();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entity = await db.LlmConnections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectionId, ct);
        if (entity is null || (entity.ProjectId is not null && entity.ProjectId != projectId)) throw NotFound();
        return ToProfile(entity);
    }

    /// <summary>For background jobs, which run with no signed-in user: the job was authorised when it was queued.</summary>
    public async Task<LlmProfile> GetProfileForSystemAsync(Guid connectionId, CancellationToken ct = default)
    {
        if (connectionId == ConfiguredConnectionId)
            return ConfiguredProfile() ?? throw NotFound();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entity = await db.LlmConnections.AsNoTracking().SingleOrDefaultAsync(c => c.Id == connectionId, ct) ?? throw NotFound();
        return ToProfile(entity);
    }

    /// <summary>Whether a connection is the site's (site-wide, or the configured one) rather than a project's own: calls
    /// through it count against the daily spending caps.</summary>
    public async Task<bool> IsSiteWideAsync(Guid connectionId, CancellationToken ct = default)
    {
        if (connectionId == ConfiguredConnectionId) return true;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.LlmConnections.AsNoTracking().AnyAsync(c => c.Id == connectionId && c.ProjectId == null, ct);
    }

    /// <summary>The connection from configuration section "Llm", or null when none is configured.</summary>
    public LlmProfile? ConfiguredProfile()
    {
        var o = options.CurrentValue;
        if (!o.HasConfiguredConnection) return null;
        var endpoint = string.IsNullOrWhiteSpace(o.Endpoint) && o.Provider == LlmProvider.OpenAI ? LlmConnectionRules.OpenAIDefaultEndpoint : (o.Endpoint ?? "").Trim();
        return new LlmProfile(ConfiguredConnectionId, ConfiguredConnectionName, o.Provider, endpoint, o.Model!.Trim(),
            string.IsNullOrWhiteSpace(o.ApiKey) ? null : o.ApiKey.Trim(), o.Temperature, o.MaxOutputTokens, o.MaxConcurrency,
            o.RequestsPerMinute, o.InputPricePerMillion, o.OutputPricePerMillion);
    }

    /// <summary>Run once at start: when the configured connection sends its API key over plain http to another machine,
    /// one warning in the log naming the host (never the key). Returns whether it warned.</summary>
    public bool WarnIfConfiguredKeySentInClear(ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(logger);
        if (ConfiguredProfile() is not { } configured || KeySentInClearTo(configured) is not { } host) return false;
        logger.LogWarning("The configured LLM connection (Llm:Endpoint) is http://, so its API key (Llm:ApiKey) is sent unencrypted to {Host} " +
            "on every call: use https, or leave the key empty if the server needs none", host);
        return true;
    }

    /// <summary>Run once at start, after the migrations: a connection saved before credentials in an address were
    /// refused (docs/decisions/0025) still has the credential in its address. That address is encrypted like an API key
    /// (<see cref="LlmConnection.EndpointProtected"/>) and the column keeps only its redacted text, so the secret is no
    /// longer in the database in the clear; the connection keeps working. Returns how many rows it protected. Called by
    /// the portal's start and the <c>migrate</c> verb alike (<c>Incubator.Web.Accounts.DatabaseUpgrade</c>).
    /// <para>SQLite keeps what an UPDATE replaced in the file's free space and in the write-ahead log until overwritten,
    /// so after protecting rows it rebuilds the file (VACUUM) and empties the log (checkpoint, TRUNCATE): the secret is
    /// then nowhere in the data folder's database files. Once per such upgrade, and only when a row was protected.</para></summary>
    public async Task<int> ProtectStoredEndpointsAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Few rows, and the test is on the text (user info, query parameter names), which SQL cannot express.
        var rows = (await db.LlmConnections.Where(c => c.EndpointProtected == null).ToListAsync(ct))
            .Where(c => EndpointSecrets.CarriesCredentials(c.Endpoint)).ToList();
        foreach (var c in rows)
        {
            c.EndpointProtected = Protector.Protect(c.Endpoint);
            var redacted = EndpointSecrets.Redact(c.Endpoint);
            c.Endpoint = redacted.Length > LlmConnectionRules.MaxEndpointLength ? redacted[..LlmConnectionRules.MaxEndpointLength] : redacted;
        }
        if (rows.Count == 0) return 0;
        await db.SaveChangesAsync(ct);
        if (db.Database.IsSqlite())
        {
            await db.Database.ExecuteSqlRawAsync("VACUUM;", ct);
            await db.Database.ExecuteSqlRawAsync("PRAGMA wal_checkpoint(TRUNCATE);", ct);
        }
        return rows.Count;
    }

    // The key only: an address that can no longer be decrypted is already flagged by its "credential in the address"
    // chip, which says the same thing to do (enter the address without it), and a run with it fails with EndpointUnreadable.
    private bool CanRead(LlmConnection c)
    {
        if (c.ApiKeyProtected is null) return true;
        try
        {
            Protector.Unprotect(c.ApiKeyProtected);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private LlmProfile ToProfile(LlmConnection c)
    {
        string? key = null;
        if (c.ApiKeyProtected is not null)
        {
            try
            {
                key = Protector.Unprotect(c.ApiKeyProtected);
            }
            catch (CryptographicException)
            {
                // The data-protection keys that encrypted it are gone (new data folder, different key ring).
                throw new DomainValidationException("apiKey", "ApiKeyUnreadable",
                    $"The API key saved for '{c.Name}' can no longer be decrypted (the server's data-protection keys changed). Enter the key again.", c.Name);
            }
        }
        var endpoint = c.Endpoint;
        if (c.EndpointProtected is not null)
        {
            try
            {
                endpoint = Protector.Unprotect(c.EndpointProtected);
            }
            catch (CryptographicException)
            {
                throw new DomainValidationException("endpoint", "EndpointUnreadable",
                    $"The address saved for '{c.Name}' had a credential in it and can no longer be decrypted (the server's data-protection keys changed). " +
                    "Edit the connection: enter the address without the credential and put the key in the API key field.", c.Name);
            }
        }
        return new LlmProfile(c.Id, c.Name, c.Provider, endpoint, c.Model, key, c.Temperature, c.MaxOutputTokens, c.MaxConcurrency,
            c.RequestsPerMinute, c.InputPricePerMillion, c.OutputPricePerMillion);
    }

    // Views are what pages show: a row saved before credentials in the endpoint were refused shows it redacted (and
    // flagged); the profile, which calls the endpoint, has it as saved (decrypted from EndpointProtected).
    private static LlmConnectionView ToView(LlmConnection c) =>
        new(c.Id, c.ProjectId, c.Name, c.Provider, EndpointSecrets.Redact(c.Endpoint), c.Model, c.ApiKeyProtected is not null, c.Temperature, c.MaxOutputTokens,
            c.MaxConcurrency, c.RequestsPerMinute, c.InputPricePerMillion, c.OutputPricePerMillion)
        {
            EndpointHasCredentials = c.EndpointProtected is not null || EndpointSecrets.CarriesCredentials(c.Endpoint),
            KeySentInClearTo = EndpointSecrets.KeySentInClearTo(c.Endpoint, c.ApiKeyProtected is not null),
        };

    private static LlmConnectionView ToView(LlmProfile p) =>
        new(p.Id ?? ConfiguredConnectionId, null, p.Name, p.Provider, EndpointSecrets.Redact(p.Endpoint), p.Model, p.HasKey, p.Temperature, p.MaxOutputTokens,
            p.MaxConcurrency, p.RequestsPerMinute, p.InputPricePerMillion, p.OutputPricePerMillion)
        { EndpointHasCredentials = EndpointSecrets.CarriesCredentials(p.Endpoint), KeySentInClearTo = KeySentInClearTo(p) };

    private static string? KeySentInClearTo(LlmProfile p) => EndpointSecrets.KeySentInClearTo(p.Endpoint, !string.IsNullOrWhiteSpace(p.ApiKey));

    private static void Apply(LlmConnection entity, LlmConnectionInput input, string name, string endpoint, string model)
    {
        entity.Name = name;
        entity.Provider = input.Provider;
        entity.Endpoint = endpoint;
        entity.EndpointProtected = null; // the address was validated: it has no credential
        entity.Model = model;
        entity.Temperature = input.Temperature;
        entity.MaxOutputTokens = input.MaxOutputTokens;
        entity.MaxConcurrency = input.MaxConcurrency;
        entity.RequestsPerMinute = input.RequestsPerMinute;
        entity.InputPricePerMillion = input.InputPricePerMillion;
        entity.OutputPricePerMillion = input.OutputPricePerMillion;
    }

    private async Task<LlmConnection> FindForManageAsync(IncubatorDbContext db, string userId, Guid connectionId, CancellationToken ct)
    {
        var entity = await db.LlmConnections.SingleOrDefaultAsync(c => c.Id == connectionId, ct);
        if (entity is null)
        {
            // Same answer as for a connection the user may not see: nothing about whether it exists.
            await RequireSignedInAsync(db, userId, ct);
            throw NotFound();
        }
        await RequireManageAsync(db, userId, entity.ProjectId, ct);
        return entity;
    }

    private async Task RequireManageAsync(IncubatorDbContext db, string userId, Guid? projectId, CancellationToken ct)
    {
        if (projectId is { } p) await access.RequireWriteAsync(p, userId, ProjectRole.Author, ct);
        else await RequireSiteAdminAsync(db, userId, ct);
    }

    private static async Task RequireSiteAdminAsync(IncubatorDbContext db, string userId, CancellationToken ct)
    {
        var isAdmin = !string.IsNullOrEmpty(userId) && await db.UserRoles
            .Where(ur => ur.UserId == userId)
            .Join(db.Roles, ur => ur.RoleId, r => r.Id, (_, r) => r.Name)
            .AnyAsync(n => n == SiteRoles.Admin, ct);
        if (!isAdmin) throw new ForbiddenException("Only site administrators can manage site-wide connections.");
    }

    private static async Task RequireSignedInAsync(IncubatorDbContext db, string userId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(userId) || !await db.Users.AnyAsync(u => u.Id == userId, ct)) throw new ForbiddenException();
    }

    private static void ThrowIfConfigured(Guid connectionId)
    {
        if (connectionId == ConfiguredConnectionId)
            throw new DomainValidationException("connection", "ConnectionReadOnly",
                "This connection comes from appsettings or environment variables; change it there.");
    }

    private static NotFoundException NotFound() => new("That LLM connection does not exist or is not available in this project.");

    private ActivityEntry Activity(Guid projectId, string userId, string kind, string detail) =>
        new() { ProjectId = projectId, UserId = userId, At = time.GetUtcNow(), Kind = kind, Detail = detail.Length > 400 ? detail[..400] : detail };
}
