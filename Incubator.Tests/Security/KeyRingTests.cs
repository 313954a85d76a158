using System.Security.Cryptography;
using Incubator.Domain.Common;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Extensions;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>The Data Protection key ring at rest. The attack — a copy of the data folder decrypts a stored LLM
/// key offline — works against an unencrypted ring and fails against one encrypted with the operator's key; protection
/// switched on later encrypts the keys already there; a rotation keeps stored secrets readable; a lost key leaves the
/// portal running and says "enter the key again".</summary>
public sealed class KeyRingTests : IDisposable
{
    private const string Secret = "sk-live-0123456789abcdef";
    private static readonly string K1 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string K2 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private static readonly string K3 = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
    private readonly TempFolder _data = new("incubator-keyring");

    public void Dispose() => _data.Dispose();

    private string KeysFolder => Path.Combine(_data.Path, "keys");

    private PortalFactory Portal(string? key = null, params string[] previous)
    {
        var portal = new PortalFactory().With("Incubator:DataDirectory", _data.Path).With("KeyRing:Key", key);
        for (var i = 0; i < previous.Length; i++) portal.With($"KeyRing:PreviousKeys:{i}", previous[i]);
        return portal;
    }

    /// <summary>Registers an owner, creates a project connection with <see cref="Secret"/> as its key; returns the ids.</summary>
    private static async Task<(string UserId, Guid ProjectId, Guid ConnectionId)> StoreKeyAsync(PortalFactory portal)
    {
        var owner = await portal.RegisterAsync(PortalExtensions.UniqueEmail("ring"));
        var projectId = (await portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(owner.Id, "Keys", "")).Id;
        var connection = await portal.Services.GetRequiredService<LlmConnectionService>().CreateAsync(owner.Id, projectId,
            new LlmConnectionInput("Paid", LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "m", Secret, 0.9, 100, 1, null, 0m, 0m));
        return (owner.Id, projectId, connection.Id);
    }

    private static Task<string?> StoredKeyAsync(PortalFactory portal, Guid connectionId) =>
        portal.QueryAsync(db => db.LlmConnections.Where(c => c.Id == connectionId).Select(c => c.ApiKeyProtected).SingleAsync());

    /// <summary>The attacker: a copy of the keys folder and the stored ciphertext, the portal's application name and
    /// purpose (both public in the source), and no key ring key.</summary>
    private string? DecryptOffline(string protectedKey)
    {
        using var copy = new TempFolder("incubator-stolen");
        foreach (var f in Directory.EnumerateFiles(KeysFolder)) File.Copy(f, Path.Combine(copy.Path, Path.GetFileName(f)));
        var provider = DataProtectionProvider.Create(new DirectoryInfo(copy.Path), b => b.SetApplicationName("Incubator"));
        try
        {
            return provider.CreateProtector(LlmConnectionService.ProtectorPurpose).Unprotect(protectedKey);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    private static string AllKeyFiles(string folder) => string.Concat(Directory.EnumerateFiles(folder, "*.xml").Select(File.ReadAllText));

    [Fact]
    public async Task Without_a_key_a_copy_of_the_folder_decrypts_stored_llm_keys_and_the_portal_warns()
    {
        using var portal = Portal();
        var (userId, _, connectionId) = await StoreKeyAsync(portal);

        Assert.Equal(Secret, DecryptOffline((await StoredKeyAsync(portal, connectionId))!));
        var status = portal.Services.GetRequiredService<KeyRingStatus>();
        Assert.False(status.Encrypted);
        using var admin = await AuthenticatedClient.SignInAsync(portal, await portal.QueryAsync(db => db.Users.Where(u => u.Id == userId).Select(u => u.Email!).SingleAsync()));
        var page = await admin.Http.GetStringAsync("/admin/site");
        Assert.Contains("data-testid=\"keyring-unencrypted\"", page);
    }

    [Fact]
    public async Task With_a_key_the_copy_decrypts_nothing_while_the_portal_reads_its_keys()
    {
        using var portal = Portal(K1);
        var (userId, projectId, connectionId) = await StoreKeyAsync(portal);

        var files = AllKeyFiles(KeysFolder);
        Assert.Contains("incubatorEncryptedKey", files);
        Assert.DoesNotContain("requiresEncryption=\"true\"", files);
        Assert.Null(DecryptOffline((await StoredKeyAsync(portal, connectionId))!));
        var profile = await portal.Services.GetRequiredService<LlmConnectionService>().GetProfileAsync(userId, projectId, connectionId);
        Assert.Equal(Secret, profile.ApiKey);
        Assert.Equal("key", portal.Services.GetRequiredService<KeyRingStatus>().Method);
    }

    [Fact]
    public async Task Protection_switched_on_later_encrypts_the_existing_keys_and_a_rotation_keeps_secrets_readable()
    {
        (string UserId, Guid ProjectId, Guid ConnectionId) stored;
        using (var plain = Portal())
            stored = await StoreKeyAsync(plain);
        Assert.Contains("requiresEncryption=\"true\"", AllKeyFiles(KeysFolder));

        async Task<string?> ReadAsync(PortalFactory portal) =>
            (await portal.Services.GetRequiredService<LlmConnectionService>().GetProfileAsync(stored.UserId, stored.ProjectId, stored.ConnectionId)).ApiKey;

        using (var first = Portal(K1))
        {
            Assert.Equal(Secret, await ReadAsync(first));
            Assert.DoesNotContain("requiresEncryption=\"true\"", AllKeyFiles(KeysFolder));
            Assert.Null(DecryptOffline((await StoredKeyAsync(first, stored.ConnectionId))!));
        }
        // Rotation: the new key with the old one as previous re-encrypts the ring; afterwards the old key can go.
        using (var rotating = Portal(K2, K1))
            Assert.Equal(Secret, await ReadAsync(rotating));
        using (var rotated = Portal(K2))
        {
            Assert.Equal(Secret, await ReadAsync(rotated));
            Assert.Equal(0, rotated.Services.GetRequiredService<KeyRingStatus>().UnreadableKeys);
        }
    }

    [Fact]
    public async Task A_lost_key_leaves_the_portal_running_and_stored_llm_keys_say_enter_again()
    {
        (string UserId, Guid ProjectId, Guid ConnectionId) stored;
        using (var before = Portal(K1))
            stored = await StoreKeyAsync(before);

        using var after = Portal(K3);
        var connections = after.Services.GetRequiredService<LlmConnectionService>();

        var listed = (await connections.ListAsync(stored.UserId, stored.ProjectId)).Single(c => c.Id == stored.ConnectionId);
        Assert.True(listed.HasKey);
        Assert.True(listed.KeyUnreadable);
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => connections.GetProfileAsync(stored.UserId, stored.ProjectId, stored.ConnectionId));
        Assert.Equal("ApiKeyUnreadable", ex.Details.Single().Code);
        Assert.True(after.Services.GetRequiredService<KeyRingStatus>().UnreadableKeys > 0);
        // Entering the key again works, with a new key of the ring.
        await connections.UpdateAsync(stored.UserId, stored.ConnectionId,
            new LlmConnectionInput("Paid", LlmProvider.OpenAICompatible, "http://127.0.0.1:9/v1", "m", Secret, 0.9, 100, 1, null, 0m, 0m));
        Assert.False((await connections.ListAsync(stored.UserId, stored.ProjectId)).Single(c => c.Id == stored.ConnectionId).KeyUnreadable);
    }

    [Fact]
    public async Task An_address_saved_with_a_credential_before_they_were_refused_is_encrypted_at_the_next_start()
    {
        const string saved = "https://bob:pw-in-the-address-77@llm.example.net/v1?api-key=key-in-the-address-77";
        (string UserId, Guid ProjectId, Guid ConnectionId) stored;
        using (var before = Portal(K1))
        {
            stored = await StoreKeyAsync(before);
            // As an older version stored it: the validation that refuses it now did not exist.
            await before.QueryAsync(db => db.LlmConnections.Where(c => c.Id == stored.ConnectionId)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Endpoint, saved).SetProperty(c => c.ApiKeyProtected, (string?)null)));
        }

        using var after = Portal(K1);
        var row = await after.QueryAsync(db => db.LlmConnections.AsNoTracking().SingleAsync(c => c.Id == stored.ConnectionId));
        var connections = after.Services.GetRequiredService<LlmConnectionService>();

        Assert.Equal("https://***@llm.example.net/v1?api-key=***", row.Endpoint);
        Assert.DoesNotContain("in-the-address", row.EndpointProtected!, StringComparison.Ordinal);
        // The same ring decrypts it for the calls; a copy of the folder without the ring key cannot.
        Assert.Equal(saved, (await connections.GetProfileAsync(stored.UserId, stored.ProjectId, stored.ConnectionId)).Endpoint);
        Assert.Null(DecryptOffline(row.EndpointProtected!));
        Assert.True((await connections.ListAsync(stored.UserId, stored.ProjectId)).Single(c => c.Id == stored.ConnectionId).EndpointHasCredentials);
    }

    [Fact]
    public async Task A_start_that_rotates_the_ring_key_brings_the_ring_under_the_new_key_before_it_encrypts_an_old_address()
    {
        // Order, not only outcome: the ring's decryptor reads with the current and the previous keys, so an address
        // encrypted before the re-wrap still decrypts afterwards; what the old order got wrong is that the portal
        // encrypted with a ring not yet brought under the configured key. The log says in which order the two ran.
        const string saved = "https://bob:pw-in-the-address-79@llm.example.net/v1?api-key=key-in-the-address-79";
        (string UserId, Guid ProjectId, Guid ConnectionId) stored;
        using (var before = Portal(K1))
        {
            stored = await StoreKeyAsync(before);
            await before.QueryAsync(db => db.LlmConnections.Where(c => c.Id == stored.ConnectionId)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Endpoint, saved).SetProperty(c => c.ApiKeyProtected, (string?)null)));
        }

        var log = new Fakes.ListLoggerProvider();
        using (var rotating = Portal(K2, K1).With("Logging:LogLevel:Incubator", "Information")
                   .WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(log))))
        {
            _ = rotating.Services;
            var lines = log.Lines;
            var rewrapped = lines.ToList().FindIndex(l => l.Contains("keys re-encrypted with the current key: 1", StringComparison.Ordinal));
            var encrypted = lines.ToList().FindIndex(l => l.Contains("LLM connections that had a credential in their address", StringComparison.Ordinal));
            Assert.True(rewrapped >= 0, "the ring's start step did not re-wrap the key:\n" + log.AllText);
            Assert.True(encrypted >= 0, "the start did not encrypt the old address:\n" + log.AllText);
            Assert.True(rewrapped < encrypted, "the old address was encrypted before the key ring was brought under the new key:\n" + log.AllText);
        }

        // The previous key can go: the new ring alone reads the address, and the portal calls it as saved.
        using var rotated = Portal(K2);
        var connections = rotated.Services.GetRequiredService<LlmConnectionService>();
        Assert.Equal(saved, (await connections.GetProfileAsync(stored.UserId, stored.ProjectId, stored.ConnectionId)).Endpoint);
        Assert.Equal(0, rotated.Services.GetRequiredService<KeyRingStatus>().UnreadableKeys);
    }

    [Fact]
    public void A_key_that_is_not_32_bytes_of_base64_stops_the_start_with_a_clear_message()
    {
        using var portal = Portal("not-a-key");

        var ex = Assert.ThrowsAny<Microsoft.Extensions.Options.OptionsValidationException>(() => portal.Services);

        Assert.Contains("32 random bytes in base64", ex.Message);
    }
}
