using Incubator.Web.Cli;

// One executable: no verb (or "serve") runs the portal; other verbs run headless and exit. See `--help`.
return await CliApp.RunAsync(args);

/// <summary>Visible to WebApplicationFactory in the tests.</summary>
public partial class Program;
