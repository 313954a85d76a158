using System.Security.Cryptography.X509Certificates;
using Incubator.Domain.Data;
using Incubator.Web.Security;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.Options;

namespace Incubator.Web.Extensions;

/// <summary>Section "KeyRing": how the Data Protection key ring (which protects sign-in cookies and stored LLM API keys)
/// is encrypted at rest. Either a 32-byte key (base64; <c>INCUBATOR_KEYRING_KEY</c> or <c>KeyRing__Key</c>) or a
/// certificate file with its private key (<c>INCUBATOR_KEYRING_CERTIFICATE</c> and
/// <c>INCUBATOR_KEYRING_CERTIFICATE_PASSWORD</c>, or <c>KeyRing__CertificatePath</c> / <c>__CertificatePassword</c>).
/// Without either the portal starts, warns in the log and on the administrators' site page.</summary>
public sealed class KeyRingOptions
{
    public const string Section = "KeyRing";

    public string? Key { get; set; }

    /// <summary>Keys used before <see cref="Key"/> (during a rotation): the ring's keys wrapped with them are read and
    /// wrapped again with the current key at start; then they can be removed.</summary>
    public List<string> PreviousKeys { get; set; } = [];

    public string? CertificatePath { get; set; }

    public string? CertificatePassword { get; set; }

    /// <summary>Certificates used before <see cref="CertificatePath"/>, still needed to read keys they protected.</summary>
    public List<string> PreviousCertificatePaths { get; set; } = [];

    internal byte[]? KeyBytes => TryKey(Key, out var k) ? k : null;

    internal IReadOnlyList<byte[]> AllKeys() =>
        new[] { Key }.Concat(PreviousKeys).Select(k => TryKey(k, out var bytes) ? bytes : null).OfType<byte[]>().ToList();

    internal static bool TryKey(string? text, out byte[] key)
    {
        key = [];
        if (string.IsNullOrWhiteSpace(text)) return false;
        try
        {
            key = Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            return false;
        }
        return key.Length == 32;
    }
}

/// <summary>How the key ring is protected now, for the log and the administrators' site page.</summary>
public sealed class KeyRingStatus
{
    /// <summary>"key", "certificate" or "none".</summary>
    public string Method { get; internal set; } = "none";

    public bool Encrypted => Method != "none";

    /// <summary>Keys in the folder that were unreadable with the configured key ring keys at start (a lost or changed
    /// key): what they protected (stored LLM keys) must be entered again.</summary>
    public int UnreadableKeys { get; internal set; }

    public string Folder { get; internal set; } = "";
}

internal sealed class KeyRingOptionsValidator : IValidateOptions<KeyRingOptions>
{
    public ValidateOptionsResult Validate(string? name, KeyRingOptions o)
    {
        var failures = new List<string>();
        if (!string.IsNullOrWhiteSpace(o.Key) && !KeyRingOptions.TryKey(o.Key, out _))
            failures.Add("KeyRing:Key (INCUBATOR_KEYRING_KEY) must be 32 random bytes in base64, for example the output of `openssl rand -base64 32`.");
        if (o.PreviousKeys.Any(k => !KeyRingOptions.TryKey(k, out _)))
            failures.Add("Every KeyRing:PreviousKeys entry must be 32 bytes in base64.");
        if (!string.IsNullOrWhiteSpace(o.Key) && !string.IsNullOrWhiteSpace(o.CertificatePath))
            failures.Add("Set either KeyRing:Key or KeyRing:CertificatePath, not both.");
        foreach (var path in new[] { o.CertificatePath }.Concat(o.PreviousCertificatePaths).Where(p => !string.IsNullOrWhiteSpace(p)))
        {
            try
            {
                using var cert = DataProtectionExtensions.LoadCertificate(path!, o.CertificatePassword);
                if (!cert.HasPrivateKey) failures.Add($"The key ring certificate {path} has no private key; export it with its key (PKCS#12, .pfx).");
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                failures.Add($"The key ring certificate {path} cannot be read: {ex.Message}");
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}

public static class DataProtectionExtensions
{
    /// <summary>Data Protection for the portal: application name, the key ring in {data}/keys (cookies survive a restart,
    /// instances sharing the volume share keys), and its encryption at rest (see <see cref="KeyRingOptions"/>). Also the
    /// headless <c>migrate</c> verb's, which encrypts stored secrets the portal must read.</summary>
    public static TBuilder AddIncubatorDataProtection<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        var services = builder.Services;
        var config = builder.Configuration;
        void Aliases(KeyRingOptions o)
        {
            if (!string.IsNullOrWhiteSpace(config["INCUBATOR_KEYRING_KEY"])) o.Key = config["INCUBATOR_KEYRING_KEY"];
            if (!string.IsNullOrWhiteSpace(config["INCUBATOR_KEYRING_CERTIFICATE"])) o.CertificatePath = config["INCUBATOR_KEYRING_CERTIFICATE"];
            if (!string.IsNullOrWhiteSpace(config["INCUBATOR_KEYRING_CERTIFICATE_PASSWORD"])) o.CertificatePassword = config["INCUBATOR_KEYRING_CERTIFICATE_PASSWORD"];
        }
        services.AddOptions<KeyRingOptions>().Bind(config.GetSection(KeyRingOptions.Section)).PostConfigure(Aliases).ValidateOnStart();
        services.AddSingleton<IValidateOptions<KeyRingOptions>, KeyRingOptionsValidator>();
        services.AddSingleton<KeyRingStatus>();
        var dataProtection = services.AddDataProtection().SetApplicationName("Incubator");
        services.AddOptions<KeyManagementOptions>()
            .Configure<IOptions<IncubatorOptions>, IOptions<KeyRingOptions>, IOptions<DatabaseOptions>, IServiceProvider>((o, inc, ring, database, sp) =>
            {
                o.XmlEncryptor = Encryptor(ring.Value);
                // PostgreSQL: every instance reads the one key ring in the database, so a cookie or a stored LLM key
                // protected on one works on all (docs/decisions/0030-shared-state.md); new keys are encrypted the same way.
                if (database.Value.Provider == DatabaseProvider.Postgres)
                {
                    o.XmlRepository = new EntityFrameworkCoreXmlRepository<IncubatorDbContext>(sp, sp.GetRequiredService<ILoggerFactory>());
                    return;
                }
                var dir = KeysFolder(inc.Value);
                Directory.CreateDirectory(dir);
                o.XmlRepository = new FileSystemXmlRepository(new DirectoryInfo(dir), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
            });
        // Reading keys wrapped with a certificate needs the certificate itself (it is not in any store on Linux). A file
        // that cannot be read is skipped here; the options validator stops the start with a clear message.
        var ring = config.GetSection(KeyRingOptions.Section).Get<KeyRingOptions>() ?? new KeyRingOptions();
        Aliases(ring);
        var certificates = new[] { ring.CertificatePath }.Concat(ring.PreviousCertificatePaths).Where(p => !string.IsNullOrWhiteSpace(p))
            .Select(p => TryLoadCertificate(p!, ring.CertificatePassword)).OfType<X509Certificate2>().ToArray();
        if (certificates.Length > 0) dataProtection.UnprotectKeysWithAnyCertificate(certificates);
        // One instance: the hosted step, and what DatabaseUpgrade runs first (whichever comes first does the work).
        services.AddSingleton<KeyRingStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<KeyRingStartup>());
        return builder;
    }

    internal static string KeysFolder(IncubatorOptions options) => Path.Combine(options.ResolveDataDirectory(), "keys");

    private static X509Certificate2? TryLoadCertificate(string path, string? password)
    {
        try
        {
            return LoadCertificate(path, password);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return null;
        }
    }

    internal static X509Certificate2 LoadCertificate(string path, string? password) =>
        X509CertificateLoader.LoadPkcs12FromFile(path, password, X509KeyStorageFlags.EphemeralKeySet);

    internal static IXmlEncryptor? Encryptor(KeyRingOptions ring) =>
        ring.KeyBytes is { } key ? new KeyRingXmlEncryptor(key)
        : !string.IsNullOrWhiteSpace(ring.CertificatePath)
            ? new CertificateXmlEncryptor(LoadCertificate(ring.CertificatePath, ring.CertificatePassword), Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance)
            : null;
}

/// <summary>Before anything reads the key ring: brings its files under the configured protection, records the status,
/// and warns when there is none. Runs once per host: at the host's start, or earlier when <c>DatabaseUpgrade</c> (which
/// encrypts old connection addresses with the ring) asks for it first (<see cref="EnsureDone"/>).</summary>
internal sealed class KeyRingStartup(IOptions<KeyRingOptions> ring, IOptions<IncubatorOptions> incubator, KeyRingStatus status, ILogger<KeyRingStartup> logger)
    : IHostedLifecycleService
{
    private readonly Lock _gate = new();
    private bool _done;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        EnsureDone();
        return Task.CompletedTask;
    }

    /// <summary>Runs the step unless it already ran in this host.</summary>
    public void EnsureDone()
    {
        lock (_gate)
        {
            if (_done) return;
            Run();
            _done = true;
        }
    }

    private void Run()
    {
        var o = ring.Value;
        var folder = DataProtectionExtensions.KeysFolder(incubator.Value);
        status.Folder = folder;
        status.Method = o.KeyBytes is not null ? "key" : !string.IsNullOrWhiteSpace(o.CertificatePath) ? "certificate" : "none";
        var result = KeyRingFiles.Protect(folder, DataProtectionExtensions.Encryptor(o), o.AllKeys(), o.KeyBytes);
        status.UnreadableKeys = result.Unreadable;
        if (result.Encrypted > 0 || result.Rewrapped > 0)
            logger.LogInformation("Key ring in {Folder}: keys that were stored unencrypted, now encrypted: {Encrypted}; keys re-encrypted with the current key: {Rewrapped}",
                folder, result.Encrypted, result.Rewrapped);
        if (result.Unreadable > 0)
            logger.LogWarning("Key ring in {Folder}: keys encrypted with a key ring key that is not configured: {Count}; what they protected " +
                "(stored LLM API keys, sign-in cookies) cannot be read and must be entered again", folder, result.Unreadable);
        if (!status.Encrypted)
            logger.LogWarning("The Data Protection key ring in {Folder} is not encrypted: anyone with a copy of the data folder can decrypt the stored " +
                "LLM API keys and forge sign-in cookies. Set INCUBATOR_KEYRING_KEY (32 random bytes in base64: openssl rand -base64 32) or " +
                "INCUBATOR_KEYRING_CERTIFICATE (a .pfx) to encrypt it; see the README's operations section", folder);
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
