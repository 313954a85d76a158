using Incubator.Domain.Llm;
using Incubator.Web.Extensions;

namespace Incubator.Tests.Security;

/// <summary>A password or key in a configured value (a Redis configuration, a connection string) never appears in the
/// error that refuses the setting: the operator sees which setting is wrong and the rest of its value.</summary>
public sealed class ConfiguredSecretsTests
{
    /// <summary>Before: the validator echoed Redis:Configuration as configured, password included.</summary>
    [Theory]
    [InlineData("password=s3cret-pw,ssl=true", "names no server")]
    [InlineData("redis:6379,password=s3cret-pw,ssl=perhaps", "is not a valid StackExchange.Redis configuration")]
    public void A_refused_redis_configuration_is_echoed_without_its_password(string configuration, string expected)
    {
        var result = new RedisOptionsValidator().Validate(null, new RedisOptions { Configuration = configuration });

        Assert.True(result.Failed);
        Assert.Contains(expected, result.FailureMessage);
        Assert.Contains("password=***", result.FailureMessage);
        Assert.DoesNotContain("s3cret-pw", result.FailureMessage);
    }

    [Theory]
    [InlineData("Host=db;Username=app;Password=s3cret-pw;Database=incubator", "Host=db;Username=app;Password=***;Database=incubator")]
    [InlineData("Password=s3cret-pw;Host=db", "Password=***;Host=db")]
    [InlineData("redis:6379,password=s3cret-pw,ssl=true", "redis:6379,password=***,ssl=true")]
    [InlineData("Host=db; Pwd = s3cret-pw ; Port=5432", "Host=db; Pwd =***; Port=5432")]
    [InlineData("--ConnectionStrings:Incubator=Host=db;Password=s3cret-pw", "--ConnectionStrings:Incubator=Host=db;Password=***")]
    [InlineData("Host=db;Username=app;Database=incubator", "Host=db;Username=app;Database=incubator")]
    public void Settings_strings_lose_the_value_of_every_credential_setting(string text, string expected) =>
        Assert.Equal(expected, EndpointSecrets.RedactSettings(text));
}
