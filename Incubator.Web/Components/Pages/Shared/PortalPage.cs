using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;

namespace Incubator.Web.Components.Pages.Shared;

/// <summary>Base for pages that act as the signed-in user. Use cases re-check the role on every call; the page
/// only needs the user's id.</summary>
public abstract class PortalPage : ComponentBase
{
    [CascadingParameter]
    public Task<AuthenticationState>? AuthState { get; set; }

    /// <summary>Turns what the domain refuses into field errors or a snackbar (see <see cref="PageErrors"/>).</summary>
    [Inject] protected PageErrors Errors { get; set; } = default!;

    protected async Task<string> GetUserIdAsync()
    {
        if (AuthState is null) throw new InvalidOperationException("No authentication state.");
        var state = await AuthState;
        return Incubator.Web.Accounts.UserClaims.UserId(state.User);
    }
}
