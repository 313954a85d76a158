namespace Incubator.Domain.Accounts;

public static class SiteRoles
{
    /// <summary>Site administrators manage users and share site-wide templates and connections. Project rights
    /// still come only from project membership.</summary>
    public const string Admin = "Admin";
}
