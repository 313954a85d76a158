using System.Net;
using System.Net.Http.Headers;
using Incubator.Domain.Accounts;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.TrainingFlow;

/// <summary>Personal API tokens: stored hashed, act as their user with the same project role checks, revocable.</summary>
public sealed class ApiTokenTests : IClassFixture<ApiTokenTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private readonly Portal _portal;

    public ApiTokenTests(Portal portal) => _portal = portal;

    private HttpClient Bearer(string? token)
    {
        var http = _portal.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (token is not null) http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private Task<CreatedApiToken> CreateTokenAsync(string userId, string name) =>
        _portal.InScopeAsync(sp => sp.GetRequiredService<ApiTokenService>().CreateAsync(userId, name));

    [Fact]
    public async Task Token_acts_as_its_user_until_revoked()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("tok-owner");
        var viewerEmail = PortalExtensions.UniqueEmail("tok-viewer");
        var outsiderEmail = PortalExtensions.UniqueEmail("tok-outsider");
        var (projectId, _, _) = await _portal.CreateProjectWithTaskAsync(ownerEmail, (viewerEmail, ProjectRole.Viewer));
        var outsider = await _portal.RegisterAsync(outsiderEmail);
        var viewerId = await _portal.UserIdAsync(viewerEmail);

        var created = await CreateTokenAsync(viewerId, "CI");
        Assert.StartsWith("inc_", created.Secret);
        Assert.Equal(created.Secret[..12], created.Token.Prefix);
        // Only the hash is stored: the secret appears nowhere in the table.
        var row = await _portal.QueryAsync(db => db.ApiTokens.AsNoTracking().SingleAsync(t => t.Id == created.Token.Id));
        Assert.Equal(ApiTokenService.Hash(created.Secret), row.Hash);
        Assert.DoesNotContain(created.Secret, row.Hash + row.Prefix + row.Name);
        Assert.Null(row.LastUsedAt);

        using var ok = await Bearer(created.Secret).GetAsync($"/api/projects/{projectId}/models");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.NotNull(await _portal.QueryAsync(db => db.ApiTokens.Where(t => t.Id == created.Token.Id).Select(t => t.LastUsedAt).SingleAsync()));

        // A Viewer's token cannot do an Author's work.
        using var freeze = await Bearer(created.Secret).PostJsonAsync($"/api/tasks/{Guid.NewGuid()}/datasets", new { seed = 1 });
        Assert.Equal(HttpStatusCode.Forbidden, freeze.StatusCode);

        using var wrong = await Bearer("inc_" + new string('x', 43)).GetAsync($"/api/projects/{projectId}/models");
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using var garbage = await Bearer("not-a-token").GetAsync($"/api/projects/{projectId}/models");
        Assert.Equal(HttpStatusCode.Unauthorized, garbage.StatusCode);
        using var none = await Bearer(null).GetAsync($"/api/projects/{projectId}/models");
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);

        var outsiderToken = await CreateTokenAsync(outsider.Id, "mine");
        using var nonMember = await Bearer(outsiderToken.Secret).GetAsync($"/api/projects/{projectId}/models");
        Assert.Equal(HttpStatusCode.Forbidden, nonMember.StatusCode);

        await _portal.InScopeAsync(async sp =>
        {
            await sp.GetRequiredService<ApiTokenService>().RevokeAsync(viewerId, created.Token.Id);
            return 0;
        });
        using var revoked = await Bearer(created.Secret).GetAsync($"/api/projects/{projectId}/models");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        var list = await _portal.InScopeAsync(sp => sp.GetRequiredService<ApiTokenService>().ListAsync(viewerId));
        Assert.False(Assert.Single(list).IsActive);

        // Someone else cannot revoke a token that is not theirs.
        await Assert.ThrowsAsync<Incubator.Domain.Common.NotFoundException>(() =>
            _portal.InScopeAsync(sp => sp.GetRequiredService<ApiTokenService>().RevokeAsync(outsider.Id, created.Token.Id).ContinueWith(t => { t.GetAwaiter().GetResult(); return 0; })));
    }

    [Fact]
    public async Task OpenApi_document_lists_the_model_endpoints()
    {
        using var response = await Bearer(null).GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadAsStringAsync();
        Assert.Contains("/api/projects/{ProjectId}/models", json);
        Assert.Contains("/api/models/{modelId}/bundle", json);
        Assert.Contains("/api/models/{modelId}/predict", json);
    }
}
