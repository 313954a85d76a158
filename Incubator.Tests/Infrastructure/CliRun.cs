using Incubator.Web.Cli;

namespace Incubator.Tests.Infrastructure;

/// <summary>Runs a verb in-process through the executable's entry point and captures what it printed.</summary>
public static class CliRun
{
    public static async Task<(int Code, string Out, string Err)> VerbAsync(string verb, params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        var code = await CliApp.RunAsync([verb, .. args], stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
