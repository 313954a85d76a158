using Incubator.Domain.Llm;

namespace Incubator.Tests.Llm;

/// <summary>The one rule for an API key that travels unencrypted (decision 0025, amendment http20): http://, a host that
/// is not this machine (decided on the parsed host, not on a prefix of the text), and a key.</summary>
public sealed class KeySentInClearTests
{
    [Theory]
    [InlineData("http://gpu-box.lan:8000/v1", "gpu-box.lan")]
    [InlineData("HTTP://GPU-Box.LAN/v1", "gpu-box.lan")]
    [InlineData("http://192.168.1.20:11434/v1", "192.168.1.20")]
    [InlineData("http://128.0.0.1/v1", "128.0.0.1")]
    [InlineData("http://localhost.evil.com/v1", "localhost.evil.com")]
    [InlineData("http://localhost.evil.com:11434/v1", "localhost.evil.com")]
    [InlineData("http://127.0.0.1.nip.io/v1", "127.0.0.1.nip.io")]
    [InlineData("http://mylocalhost/v1", "mylocalhost")]
    [InlineData("http://[fd00::5]:8000/v1", "[fd00::5]")]
    [InlineData("http://[::2]/v1", "[::2]")]
    [InlineData("  http://gpu-box.lan/v1  ", "gpu-box.lan")]
    public void Http_to_another_machine_with_a_key_names_the_host(string endpoint, string host)
    {
        Assert.Equal(host, EndpointSecrets.KeySentInClearTo(endpoint, keyWillBeSent: true));
        Assert.Null(EndpointSecrets.KeySentInClearTo(endpoint, keyWillBeSent: false));
    }

    [Theory]
    [InlineData("http://localhost:11434/v1")]
    [InlineData("http://LOCALHOST/v1")]
    [InlineData("http://localhost./v1")]
    [InlineData("http://127.0.0.1:8000/v1")]
    [InlineData("http://127.45.6.7/v1")]
    [InlineData("http://127.255.255.254:1/v1")]
    [InlineData("http://[::1]:8000/v1")]
    [InlineData("http://[0:0:0:0:0:0:0:1]/v1")]
    [InlineData("http://[::ffff:127.0.0.1]/v1")]
    public void Loopback_is_this_machine(string endpoint) =>
        Assert.Null(EndpointSecrets.KeySentInClearTo(endpoint, keyWillBeSent: true));

    [Theory]
    [InlineData("https://gpu-box.lan:8000/v1")]
    [InlineData("https://api.openai.com/v1")]
    [InlineData("HTTPS://192.168.1.20/v1")]
    [InlineData("not a url")]
    [InlineData("gpu-box.lan:8000/v1")]
    [InlineData("ftp://gpu-box.lan/v1")]
    [InlineData("")]
    [InlineData(null)]
    public void Https_or_no_http_url_is_not_flagged(string? endpoint) =>
        Assert.Null(EndpointSecrets.KeySentInClearTo(endpoint, keyWillBeSent: true));
}
