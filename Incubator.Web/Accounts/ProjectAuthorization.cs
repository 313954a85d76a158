using System.Security.Claims;
using Incubator.Domain.Projects;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;

namespace Incubator.Web.Accounts;

/// <summary>Policy names for project pages and endpoints. The project comes from the route value "ProjectId".</summary>
public static class ProjectPolicies
{
    public const string Viewer = "Project.Viewer";
    public const string Reviewer = "Project.Reviewer";
    public const string Author = "Project.Author";
    public const string Owner = "Project.Owner";
    public const string SiteAdmin = "Site.Admin";

    public static void Add(AuthorizationOptions options)
    {
        foreach (var (name, role) in new[] { (Viewer, ProjectRole.Viewer), (Reviewer, ProjectRole.Reviewer), (Author, ProjectRole.Author), (Owner, ProjectRole.Owner) })
            options.AddPolicy(name, p => p.RequireAuthenticatedUser().AddRequirements(new ProjectRoleRequirement(role)));
        options.AddPolicy(SiteAdmin, p => p.RequireAuthenticatedUser().RequireRole(Incubator.Domain.Accounts.SiteRoles.Admin));
    }
}

public sealed class ProjectRoleRequirement(ProjectRole minimum) : IAuthorizationRequirement
{
    public ProjectRole Minimum { get; } = minimum;
}

/// <summary>Evaluated both for the HTTP request that first renders a page or calls an endpoint (resource: HttpContext)
/// and for in-circuit navigation (resource: RouteData), so a non-member is refused either way.</summary>
public sealed class ProjectRoleHandler(ProjectAccess access) : AuthorizationHandler<ProjectRoleRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, ProjectRoleRequirement requirement)
    {
        var projectId = ResolveProjectId(context.Resource);
        var userId = context.User.FindFirstValue(ClaimTypes.NameIdentifier);
        if (projectId is null || userId is null) return;
        if (await access.HasRoleAsync(projectId.Value, userId, requirement.Minimum))
            context.Succeed(requirement);
    }

    internal static Guid? ResolveProjectId(object? resource)
    {
        object? value = resource switch
        {
            HttpContext http => http.GetRouteValue("ProjectId"),
            Microsoft.AspNetCore.Components.RouteData route => route.RouteValues.FirstOrDefault(kv => string.Equals(kv.Key, "ProjectId", StringComparison.OrdinalIgnoreCase)).Value,
            Guid g => g,
            _ => null,
        };
        return value switch
        {
            Guid g => g,
            string s when Guid.TryParse(s, out var g) => g,
            _ => null,
        };
    }
}
