namespace Incubator.Tests.Infrastructure;

/// <summary>Paths into the repository the tests were built from.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    /// <summary>"Debug" or "Release", whichever built this test assembly (and with it the portal).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    public static string WebDll => Path.Combine(Root, "Incubator.Web", "bin", Configuration, "net10.0", "Incubator.Web.dll");

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Incubator.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Incubator.sln not found above the test folder.");
    }
}
