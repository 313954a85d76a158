using System.Text;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.Llm;

/// <summary>Connections on a real SQLite database with Data Protection keys in the data folder, as the portal
/// composes them: roles, validation codes, the write-only encrypted key and the configured connection.</summary>
public sealed class LlmConnectionServiceTests : IAsyncLifetime
{
    private const string Secret = "sk-proj-PLAINTEXT-key-4242424242";
    private TempFolder _folder = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _folder = new TempFolder("incubator-llm");
        _services = Build(new Dictionary<string, string?>
        {
            ["Llm:Provider"] = "OpenAICompatible",
            ["Llm:Endpoint"] = "http://localhost:11434/v1",
            ["Llm:Model"] = "llama3.2",
            ["Llm:ApiKey"] = "configured-key-123",
            ["Llm:MaxConcurrency"] = "3",
        });
        await _services.GetRequiredService<DatabaseMigrator>().MigrateAsync();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _folder.Dispose();
    }

    private ServiceProvider Build(Dictionary<string, string?> settings)
    {
        settings["Incubator:DataDirectory"] = _folder.Path;
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddIncubatorData(config)
            .AddIncubatorProjects()
            .AddIncubatorJobs(config, runWorker: false)
            .AddIncubatorLlm(config);
        services.AddDataProtection().PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(_folder.Path, "keys")));
        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
    }

    private LlmConnectionService Connections => _services.GetRequiredService<LlmConnectionService>();

    private IDbContextFactory<IncubatorDbContext> Db => _services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();

    private static LlmConnectionInput Input(string? key = Secret, LlmProvider provider = LlmProvider.OpenAICompatible, string name = "Local Ollama") =>
        new(name, provider, "http://localhost:11434/v1", "llama3.2", key, 0.7, 900, 2, 60, 0.15m, 0.6m);

    [Fact]
    public async Task Key_is_encrypted_at_rest_write_only_in_views_and_decrypted_for_profiles()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);

        var view = await Connections.CreateAsync(author, project, Input());

        Assert.True(view.HasKey);
        Assert.DoesNotContain(Secret, view.ToString(), StringComparison.Ordinal);
        await using (var db = await Db.CreateDbContextAsync())
        {
            var row = await db.LlmConnections.AsNoTracking().SingleAsync(c => c.Id == view.Id);
            Assert.NotNull(row.ApiKeyProtected);
            Assert.DoesNotContain(Secret, row.ApiKeyProtected, StringComparison.Ordinal);
            Assert.Equal(Secret, _services.GetRequiredService<IDataProtectionProvider>().CreateProtector(LlmConnectionService.ProtectorPurpose).Unprotect(row.ApiKeyProtected));
            // Nothing else in the row carries it either.
            var raw = await db.Database.SqlQueryRaw<string>(
                "SELECT Name || '|' || Endpoint || '|' || Model || '|' || ApiKeyProtected AS Value FROM LlmConnections").ToListAsync();
            Assert.DoesNotContain(raw, r => r.Contains(Secret, StringComparison.Ordinal));
        }
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(_folder.Path, "*.db*"))
            Assert.DoesNotContain(Secret, Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file)), StringComparison.Ordinal);

        var profile = await Connections.GetProfileAsync(author, project, view.Id);
        Assert.Equal(Secret, profile.ApiKey);
        Assert.Equal(("Local Ollama", "llama3.2", 0.7, 900, 2, 60, 0.15m, 0.6m),
            (profile.Name, profile.Model, profile.Temperature, profile.MaxOutputTokens, profile.MaxConcurrency, profile.RequestsPerMinute, profile.InputPricePerMillion, profile.OutputPricePerMillion));
        Assert.DoesNotContain(Secret, profile.ToString(), StringComparison.Ordinal);
        Assert.Equal(Secret, (await Connections.GetProfileForSystemAsync(view.Id)).ApiKey);
    }

    [Fact]
    public async Task Update_keeps_replaces_or_removes_the_key()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        var view = await Connections.CreateAsync(author, project, Input());

        var kept = await Connections.UpdateAsync(author, view.Id, Input(key: null, name: "Renamed"));
        Assert.True(kept.HasKey);
        Assert.Equal("Renamed", kept.Name);
        Assert.Equal(Secret, (await Connections.GetProfileAsync(author, project, view.Id)).ApiKey);

        await Connections.UpdateAsync(author, view.Id, Input(key: "sk-new"));
        Assert.Equal("sk-new", (await Connections.GetProfileAsync(author, project, view.Id)).ApiKey);

        var removed = await Connections.UpdateAsync(author, view.Id, Input(key: ""));
        Assert.False(removed.HasKey);
        Assert.Null((await Connections.GetProfileAsync(author, project, view.Id)).ApiKey);

        await Connections.DeleteAsync(author, view.Id);
        Assert.DoesNotContain(await Connections.ListAsync(author, project), c => c.Id == view.Id);
        await Assert.ThrowsAsync<NotFoundException>(() => Connections.GetProfileAsync(author, project, view.Id));
    }

    /// <summary>The saved key goes, as the Authorization header, to the connection's endpoint. An author who did not type
    /// the key (any author may edit the project's connections) must not be able to point it at a server of theirs and
    /// read it there: moving the endpoint needs the key typed again (or removed).</summary>
    [Fact]
    public async Task Moving_the_endpoint_of_a_connection_with_a_saved_key_needs_the_key_again()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        var view = await Connections.CreateAsync(author, project, Input());
        var elsewhere = Input(key: null) with { Endpoint = "https://collector.example.net/v1" };

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.UpdateAsync(author, view.Id, elsewhere));

        Assert.Equal(("apiKey", "ApiKeyEndpointChanged"), (ex.Details.Single().Field, ex.Details.Single().Code));
        var profile = await Connections.GetProfileAsync(author, project, view.Id);
        Assert.Equal(("http://localhost:11434/v1", Secret), (profile.Endpoint, profile.ApiKey));
        // With the key typed again, or without a key, the endpoint may move.
        Assert.Equal("https://collector.example.net/v1", (await Connections.UpdateAsync(author, view.Id, elsewhere with { ApiKey = "sk-typed-again" })).Endpoint);
        Assert.Equal("sk-typed-again", (await Connections.GetProfileAsync(author, project, view.Id)).ApiKey);
        var keyless = await Connections.UpdateAsync(author, view.Id, Input(key: "") with { Endpoint = "http://127.0.0.1:8080/v1" });
        Assert.Equal(("http://127.0.0.1:8080/v1", false), (keyless.Endpoint, keyless.HasKey));
    }

    [Fact]
    public async Task Every_invalid_field_is_reported_with_its_code_and_nothing_is_saved()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        var bad = new LlmConnectionInput(" ", LlmProvider.AzureOpenAI, "localhost:11434", "", null, 2.5, 0, 65, 0, -1m, -0.01m);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.CreateAsync(author, project, bad));

        Assert.Equal(
            ["ConnectionNameRequired", "EndpointInvalid", "ModelRequired", "TemperatureOutOfRange", "MaxOutputTokensOutOfRange",
             "ConcurrencyOutOfRange", "RpmOutOfRange", "PriceNegative", "PriceNegative", "AzureNeedsKey"],
            ex.Details.Select(d => d.Code));
        await using var db = await Db.CreateDbContextAsync();
        Assert.Equal(0, await db.LlmConnections.CountAsync());
    }

    [Fact]
    public async Task Migrations_cover_the_model()
    {
        await using var db = await Db.CreateDbContextAsync();
        Assert.False(db.Database.HasPendingModelChanges());
    }

    [Theory]
    [InlineData("ftp://example.com/v1")]
    [InlineData("/v1/chat")]
    [InlineData("javascript:alert(1)")]
    public async Task Endpoint_must_be_an_absolute_http_address(string endpoint)
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.CreateAsync(author, project, Input() with { Endpoint = endpoint }));

        Assert.Equal("EndpointInvalid", Assert.Single(ex.Details).Code);
    }

    /// <summary>An endpoint that carries a credential (user:password@, or a key, token or signature in the query) would keep
    /// it in the clear in the database and on the page: it is refused, and the message does not repeat the secret.</summary>
    [Theory]
    [InlineData("https://user:s3cr3t-pw@llm.example.net/v1")]
    [InlineData("https://s3cr3t-pw@llm.example.net/v1")]
    [InlineData("https://llm.example.net/v1?api-key=s3cr3t-pw")]
    [InlineData("https://llm.example.net/v1?KEY=s3cr3t-pw")]
    [InlineData("https://llm.example.net/v1?api-version=2024-06-01&token=s3cr3t-pw")]
    [InlineData("https://llm.example.net/v1?Access_Token=s3cr3t-pw")]
    [InlineData("https://llm.example.net/v1?sig=s3cr3t-pw")]
    [InlineData("https://llm.example.net/v1?subscription-key=s3cr3t-pw")]
    public async Task An_endpoint_carrying_a_credential_is_refused_on_create_and_edit_without_echoing_it(string endpoint)
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.CreateAsync(author, project, Input() with { Endpoint = endpoint }));

        var error = Assert.Single(ex.Details);
        Assert.Equal(("endpoint", "EndpointHasCredentials"), (error.Field, error.Code));
        Assert.Contains("API key field", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t-pw", ex.Message + string.Join("|", ex.Details.SelectMany(d => d.Args).Select(a => a?.ToString())), StringComparison.Ordinal);
        var view = await Connections.CreateAsync(author, project, Input());
        var edit = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.UpdateAsync(author, view.Id, Input() with { Endpoint = endpoint }));
        Assert.Equal("EndpointHasCredentials", Assert.Single(edit.Details).Code);
        await using var db = await Db.CreateDbContextAsync();
        Assert.False(await db.LlmConnections.AnyAsync(c => c.Endpoint.Contains("s3cr3t")));
    }

    [Theory]
    [InlineData("https://llm.example.net/v1?api-version=2024-06-01")]
    [InlineData("https://my-resource.openai.azure.com/")]
    [InlineData("http://localhost:11434/v1")]
    public async Task An_endpoint_with_harmless_query_parameters_is_accepted(string endpoint)
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        Assert.Equal(endpoint, (await Connections.CreateAsync(author, project, Input() with { Endpoint = endpoint })).Endpoint);
    }

    /// <summary>A row saved before the rule (an upgrade) keeps working — runs still call the endpoint as saved — but no view,
    /// profile text or page shows its secret, and it cannot be saved again until the secret is taken out.</summary>
    [Fact]
    public async Task A_stored_endpoint_with_a_credential_keeps_working_but_is_never_shown()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        const string stored = "https://bob:s3cr3t-pw@llm.example.net/v1?api-version=2024-06-01&api-key=s3cr3t-key";
        var id = Guid.NewGuid();
        await using (var db = await Db.CreateDbContextAsync())
        {
            db.LlmConnections.Add(new LlmConnection
            {
                Id = id, ProjectId = project, Name = "Old proxy", Provider = LlmProvider.OpenAICompatible, Endpoint = stored, Model = "m",
                CreatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        // Before the start step has run (as on the first start of an upgraded server, until it runs) and after it, the
        // pages see the same redacted, flagged address and the calls the address as saved.
        async Task<LlmConnectionView> ShownAndCalledAsSavedAsync()
        {
            var view = (await Connections.ListAsync(author, project)).Single(c => c.Id == id);
            Assert.Equal("https://***@llm.example.net/v1?api-version=2024-06-01&api-key=***", view.Endpoint);
            Assert.True(view.EndpointHasCredentials);
            Assert.False(view.KeyUnreadable);
            Assert.DoesNotContain("s3cr3t", view.ToString(), StringComparison.Ordinal);
            var profile = await Connections.GetProfileAsync(author, project, id);
            Assert.Equal(stored, profile.Endpoint);
            Assert.Equal(stored, (await Connections.GetProfileForSystemAsync(id)).Endpoint);
            Assert.DoesNotContain("s3cr3t", profile.ToString(), StringComparison.Ordinal);
            return view;
        }
        await ShownAndCalledAsSavedAsync();

        // The start step encrypts the address: nothing in the row holds the secret in the clear any more.
        Assert.Equal(1, await Connections.ProtectStoredEndpointsAsync());
        Assert.Equal(0, await Connections.ProtectStoredEndpointsAsync());
        await using (var db = await Db.CreateDbContextAsync())
        {
            var row = await db.LlmConnections.AsNoTracking().SingleAsync(c => c.Id == id);
            Assert.Equal("https://***@llm.example.net/v1?api-version=2024-06-01&api-key=***", row.Endpoint);
            Assert.NotNull(row.EndpointProtected);
            Assert.DoesNotContain("s3cr3t", row.EndpointProtected, StringComparison.Ordinal);
        }
        var view = await ShownAndCalledAsSavedAsync();

        // Saving the form as shown (the redacted endpoint) is refused until the credential is taken out.
        var edit = new LlmConnectionInput("Old proxy", LlmProvider.OpenAICompatible, view.Endpoint, "m", null, 0.9, 1024, 4, null, 0, 0);
        Assert.Equal("EndpointHasCredentials", Assert.Single((await Assert.ThrowsAsync<DomainValidationException>(() => Connections.UpdateAsync(author, id, edit))).Details).Code);
        var fixedView = await Connections.UpdateAsync(author, id, edit with { Endpoint = "https://llm.example.net/v1?api-version=2024-06-01", ApiKey = "s3cr3t-key" });
        Assert.False(fixedView.EndpointHasCredentials);
        var fixedProfile = await Connections.GetProfileAsync(author, project, id);
        Assert.Equal(("https://llm.example.net/v1?api-version=2024-06-01", "s3cr3t-key"), (fixedProfile.Endpoint, fixedProfile.ApiKey));
        await using (var db = await Db.CreateDbContextAsync())
            Assert.Null((await db.LlmConnections.AsNoTracking().SingleAsync(c => c.Id == id)).EndpointProtected);
    }

    [Fact]
    public async Task An_encrypted_address_the_server_can_no_longer_decrypt_is_reported_and_not_sent_anywhere()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        var id = Guid.NewGuid();
        await using (var db = await Db.CreateDbContextAsync())
        {
            // Protected by a key ring this server does not have.
            db.LlmConnections.Add(new LlmConnection
            {
                Id = id, ProjectId = project, Name = "Moved proxy", Provider = LlmProvider.OpenAICompatible, Endpoint = "https://***@llm.example.net/v1",
                EndpointProtected = new EphemeralDataProtectionProvider().CreateProtector(LlmConnectionService.ProtectorPurpose).Protect("https://u:p@llm.example.net/v1"),
                Model = "m", CreatedAt = DateTimeOffset.UtcNow,
            });
            await db.SaveChangesAsync();
        }

        var view = (await Connections.ListAsync(author, project)).Single(c => c.Id == id);
        Assert.True(view.EndpointHasCredentials);
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.GetProfileAsync(author, project, id));
        Assert.Equal(("endpoint", "EndpointUnreadable"), (ex.Details.Single().Field, ex.Details.Single().Code));
    }

    [Theory]
    [InlineData("https://user:pw-1234@host.example/v1", "https://***@host.example/v1")]
    [InlineData("http://host.example/v1?api-version=1&Api-Key=k-1234&x=2", "http://host.example/v1?api-version=1&Api-Key=***&x=2")]
    [InlineData("Could not reach https://u:p-1234@h.example/v1/chat/completions?token=t-1234 (refused)", "Could not reach https://***@h.example/v1/chat/completions?token=*** (refused)")]
    [InlineData("https://host.example/v1?api-version=2024-06-01", "https://host.example/v1?api-version=2024-06-01")]
    [InlineData("see https://host.example/a@b", "see https://host.example/a@b")]
    public void Redact_removes_userinfo_and_credential_query_values_from_any_text(string text, string expected) =>
        Assert.Equal(expected, EndpointSecrets.Redact(text));

    [Fact]
    public async Task Limits_at_the_edges_are_accepted_and_OpenAI_defaults_its_endpoint()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);

        var view = await Connections.CreateAsync(author, project,
            new LlmConnectionInput("OpenAI", LlmProvider.OpenAI, "  ", " gpt-4o-mini ", "sk-x", 2, 32768, 64, 100_000, 0m, 0m));
        var azureRemovingKey = await Connections.CreateAsync(author, project, Input(provider: LlmProvider.AzureOpenAI));

        Assert.Equal(("https://api.openai.com/v1", "gpt-4o-mini"), (view.Endpoint, view.Model));
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.UpdateAsync(author, azureRemovingKey.Id, Input(key: "", provider: LlmProvider.AzureOpenAI)));
        Assert.Equal("AzureNeedsKey", Assert.Single(ex.Details).Code);
    }

    [Fact]
    public async Task Viewers_list_but_cannot_create_and_outsiders_see_nothing()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        var viewer = await UserAsync(project, ProjectRole.Viewer);
        var reviewer = await UserAsync(project, ProjectRole.Reviewer);
        var outsider = await UserAsync(null, null);
        var view = await Connections.CreateAsync(author, project, Input());

        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.CreateAsync(viewer, project, Input()));
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.UpdateAsync(viewer, view.Id, Input()));
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.DeleteAsync(reviewer, view.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.GetProfileAsync(reviewer, project, view.Id));
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.ListAsync(outsider, project));
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.UpdateAsync(outsider, view.Id, Input()));
        var seen = await Connections.ListAsync(viewer, project);
        Assert.Contains(seen, c => c.Id == view.Id && c.HasKey);
    }

    [Fact]
    public async Task Site_wide_connections_need_an_admin_to_manage_and_any_author_to_use()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        var (otherProject, otherAuthor) = await ProjectWithAsync(ProjectRole.Owner);
        var admin = await UserAsync(null, null);
        await MakeSiteAdminAsync(admin);

        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.CreateAsync(author, null, Input(name: "Shared")));
        var shared = await Connections.CreateAsync(admin, null, Input(name: "Shared"));
        var own = await Connections.CreateAsync(author, project, Input(name: "Own"));

        Assert.Null(shared.ProjectId);
        Assert.True(shared.IsSiteWide);
        Assert.Equal(Secret, (await Connections.GetProfileAsync(otherAuthor, otherProject, shared.Id)).ApiKey);
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.UpdateAsync(author, shared.Id, Input(name: "Hijacked")));
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.DeleteAsync(otherAuthor, shared.Id));
        // A project's connection is not usable from another project, even by someone who is Author there.
        await Assert.ThrowsAsync<NotFoundException>(() => Connections.GetProfileAsync(otherAuthor, otherProject, own.Id));
        var list = await Connections.ListAsync(author, project);
        Assert.Equal(["Own", "Shared", LlmConnectionService.ConfiguredConnectionName], list.Select(c => c.Name));
        Assert.DoesNotContain(await Connections.ListAsync(otherAuthor, otherProject), c => c.Id == own.Id);
        Assert.Equal(["Shared"], (await Connections.ListSiteWideAsync(admin)).Select(c => c.Name));
        await Assert.ThrowsAsync<ForbiddenException>(() => Connections.ListSiteWideAsync(author));
    }

    [Fact]
    public async Task Configured_connection_is_listed_usable_and_read_only()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);

        var configured = Assert.Single(await Connections.ListAsync(author, project), c => c.IsConfigured);
        Assert.Equal((Guid.Parse("00000000-0000-0000-0000-00000000c0f1"), "Configured (appsettings/environment)", "llama3.2", true, 3),
            (configured.Id, configured.Name, configured.Model, configured.HasKey, configured.MaxConcurrency));

        var profile = await Connections.GetProfileForSystemAsync(LlmConnectionService.ConfiguredConnectionId);
        Assert.Equal(("http://localhost:11434/v1", "configured-key-123"), (profile.Endpoint, profile.ApiKey));
        Assert.Equal("configured-key-123", (await Connections.GetProfileAsync(author, project, configured.Id)).ApiKey);
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Connections.UpdateAsync(author, configured.Id, Input()));
        Assert.Equal("ConnectionReadOnly", Assert.Single(ex.Details).Code);
        await using var db = await Db.CreateDbContextAsync();
        Assert.Equal(0, await db.LlmConnections.CountAsync());
    }

    [Fact]
    public async Task Without_configuration_there_is_no_configured_connection_and_bad_configuration_fails_validation()
    {
        await using (var plain = Build([]))
        {
            Assert.Null(plain.GetRequiredService<LlmConnectionService>().ConfiguredProfile());
            await Assert.ThrowsAsync<NotFoundException>(() => plain.GetRequiredService<LlmConnectionService>().GetProfileForSystemAsync(LlmConnectionService.ConfiguredConnectionId));
        }
        await using var bad = Build(new Dictionary<string, string?> { ["Llm:Model"] = "m", ["Llm:Endpoint"] = "not a url", ["Llm:Temperature"] = "7" });
        var ex = Assert.Throws<OptionsValidationException>(() => bad.GetRequiredService<IOptions<LlmOptions>>().Value);
        Assert.Contains(ex.Failures, f => f.Contains("EndpointInvalid", StringComparison.Ordinal));
        Assert.Contains(ex.Failures, f => f.Contains("TemperatureOutOfRange", StringComparison.Ordinal));
        await using var keyInUrl = Build(new Dictionary<string, string?> { ["Llm:Model"] = "m", ["Llm:Endpoint"] = "https://llm.example.net/v1?key=s3cr3t-pw" });
        var refused = Assert.Throws<OptionsValidationException>(() => keyInUrl.GetRequiredService<IOptions<LlmOptions>>().Value);
        Assert.Contains(refused.Failures, f => f.Contains("EndpointHasCredentials", StringComparison.Ordinal));
        Assert.DoesNotContain("s3cr3t-pw", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_sent_over_http_to_another_machine_can_be_saved_and_is_flagged_in_the_list()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        LlmConnectionInput At(string endpoint, string? key, string name) => Input(key, name: name) with { Endpoint = endpoint };

        // Allowed (a vLLM/Ollama box on the LAN), but the list says where the key goes.
        await Connections.CreateAsync(author, project, At("http://gpu-box.lan:8000/v1", Secret, "LAN with key"));
        await Connections.CreateAsync(author, project, At("http://gpu-box.lan:8000/v1", "", "LAN without key"));
        await Connections.CreateAsync(author, project, At("http://localhost.evil.com:11434/v1", Secret, "Not localhost"));
        await Connections.CreateAsync(author, project, At("http://127.0.0.1:11434/v1", Secret, "Loopback"));
        await Connections.CreateAsync(author, project, At("https://gpu-box.lan/v1", Secret, "LAN over https"));

        var list = await Connections.ListAsync(author, project);
        Assert.Equal("gpu-box.lan", list.Single(c => c.Name == "LAN with key").KeySentInClearTo);
        Assert.Equal("localhost.evil.com", list.Single(c => c.Name == "Not localhost").KeySentInClearTo);
        Assert.Null(list.Single(c => c.Name == "LAN without key").KeySentInClearTo);
        Assert.Null(list.Single(c => c.Name == "Loopback").KeySentInClearTo);
        Assert.Null(list.Single(c => c.Name == "LAN over https").KeySentInClearTo);
        // The configured connection of this fixture is http://localhost: nothing to say, at start either.
        Assert.Null(list.Single(c => c.IsConfigured).KeySentInClearTo);
        var log = new Fakes.ListLoggerProvider();
        Assert.False(Connections.WarnIfConfiguredKeySentInClear(log.CreateLogger("start")));
        Assert.Empty(log.Lines);

        // Removing the key takes the warning away.
        var withKey = list.Single(c => c.Name == "LAN with key");
        await Connections.UpdateAsync(author, withKey.Id, At("http://gpu-box.lan:8000/v1", "", "LAN with key"));
        Assert.Null((await Connections.ListAsync(author, project)).Single(c => c.Id == withKey.Id).KeySentInClearTo);
    }

    [Fact]
    public async Task A_configured_connection_sending_its_key_over_http_is_flagged_in_the_list_and_logged_at_start_without_the_key()
    {
        var (project, author) = await ProjectWithAsync(ProjectRole.Author);
        await using var lan = Build(new Dictionary<string, string?>
        {
            ["Llm:Provider"] = "OpenAICompatible", ["Llm:Endpoint"] = "http://10.0.0.7:8000/v1", ["Llm:Model"] = "m", ["Llm:ApiKey"] = "configured-key-123",
        });
        var connections = lan.GetRequiredService<LlmConnectionService>();

        Assert.Equal("10.0.0.7", Assert.Single(await connections.ListAsync(author, project), c => c.IsConfigured).KeySentInClearTo);
        var log = new Fakes.ListLoggerProvider();
        Assert.True(connections.WarnIfConfiguredKeySentInClear(log.CreateLogger("start")));
        var line = Assert.Single(log.Lines);
        Assert.StartsWith("[Warning]", line, StringComparison.Ordinal);
        Assert.Contains("unencrypted to 10.0.0.7", line, StringComparison.Ordinal);
        Assert.DoesNotContain("configured-key-123", line, StringComparison.Ordinal);

        // The same address without a key: nothing is sent in the clear, nothing to say.
        await using var noKey = Build(new Dictionary<string, string?> { ["Llm:Provider"] = "OpenAICompatible", ["Llm:Endpoint"] = "http://10.0.0.7:8000/v1", ["Llm:Model"] = "m" });
        Assert.Null(Assert.Single(await noKey.GetRequiredService<LlmConnectionService>().ListAsync(author, project), c => c.IsConfigured).KeySentInClearTo);
        Assert.False(noKey.GetRequiredService<LlmConnectionService>().WarnIfConfiguredKeySentInClear(log.CreateLogger("start")));
        Assert.Single(log.Lines);
    }

    private async Task<(Guid Project, string User)> ProjectWithAsync(ProjectRole role)
    {
        var id = Guid.NewGuid();
        await using (var db = await Db.CreateDbContextAsync())
        {
            db.Projects.Add(new Project { Id = id, Name = "llm test", CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        return (id, await UserAsync(id, role));
    }

    private async Task<string> UserAsync(Guid? projectId, ProjectRole? role)
    {
        var id = Guid.NewGuid().ToString();
        var email = $"u-{id[..8]}@example.test";
        await using var db = await Db.CreateDbContextAsync();
        db.Users.Add(new AppUser
        {
            Id = id, UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email,
            NormalizedEmail = email.ToUpperInvariant(), DisplayName = "u", CreatedAt = DateTimeOffset.UtcNow,
        });
        if (projectId is { } p && role is { } r)
            db.ProjectMembers.Add(new ProjectMember { ProjectId = p, UserId = id, Role = r, AddedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    private async Task MakeSiteAdminAsync(string userId)
    {
        await using var db = await Db.CreateDbContextAsync();
        var role = await db.Roles.SingleOrDefaultAsync(r => r.Name == SiteRoles.Admin);
        if (role is null)
        {
            role = new IdentityRole(SiteRoles.Admin) { NormalizedName = SiteRoles.Admin.ToUpperInvariant() };
            db.Roles.Add(role);
        }
        db.UserRoles.Add(new IdentityUserRole<string> { UserId = userId, RoleId = role.Id });
        await db.SaveChangesAsync();
    }
}
