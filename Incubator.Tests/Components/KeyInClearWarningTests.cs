using Bunit;
using Incubator.Domain.Llm;
using Incubator.Tests.Infrastructure;
using Incubator.Web.Components.Pages.Shared;

namespace Incubator.Tests.Components;

/// <summary>bUnit: the warning under the address field of the connection form (as the user types) and the chip in the
/// connection list, for an API key that would travel unencrypted; in English and Japanese from the real resources.</summary>
public sealed class KeyInClearWarningTests
{
    [Theory]
    [InlineData("en", "The API key will be sent unencrypted to gpu-box.lan. Use https, or leave the key empty if the server needs none.")]
    [InlineData("ja", "APIキーは暗号化されずに gpu-box.lan へ送られます。")]
    public async Task Form_warns_while_typing_and_the_warning_goes_when_the_address_is_https(string culture, string text)
    {
        await using var ctx = PortalBunit.NewContext();
        var cut = Localized.In(culture, () => ctx.Render<KeyInClearWarning>(p => p
            .Add(x => x.Endpoint, "http://gpu-box.lan:8000/v1").Add(x => x.ApiKey, "sk-typed-key-123").Add(x => x.HasStoredKey, false)));

        var warning = cut.Find("[data-testid=conn-endpoint-cleartext]");
        Assert.Contains(text, warning.TextContent);
        Assert.DoesNotContain("sk-typed-key-123", cut.Markup, StringComparison.Ordinal);

        Localized.In(culture, () => cut.Render(p => p.Add(x => x.Endpoint, "https://gpu-box.lan:8000/v1")));
        Assert.Empty(cut.FindAll("[data-testid=conn-endpoint-cleartext]"));
    }

    [Theory]
    [InlineData("http://gpu-box.lan/v1", "sk-1", false, true)]
    [InlineData("http://gpu-box.lan/v1", "", true, true)] // editing: an empty field keeps the stored key, which is sent
    [InlineData("http://gpu-box.lan/v1", null, true, true)]
    [InlineData("http://gpu-box.lan/v1", "   ", true, false)] // blanks remove the stored key
    [InlineData("http://gpu-box.lan/v1", "", false, false)] // no key at all
    [InlineData("http://localhost.evil.com:11434/v1", "sk-1", false, true)]
    [InlineData("http://localhost:11434/v1", "sk-1", true, false)]
    [InlineData("http://127.0.0.1:8000/v1", "sk-1", false, false)]
    [InlineData("http://[::1]:8000/v1", "sk-1", false, false)]
    [InlineData("https://api.openai.com/v1", "sk-1", true, false)]
    public async Task Form_warns_only_when_a_key_would_go_unencrypted_to_another_machine(string endpoint, string? typedKey, bool storedKey, bool warns)
    {
        await using var ctx = PortalBunit.NewContext();
        var cut = Localized.In("en", () => ctx.Render<KeyInClearWarning>(p => p
            .Add(x => x.Endpoint, endpoint).Add(x => x.ApiKey, typedKey).Add(x => x.HasStoredKey, storedKey)));

        Assert.Equal(warns, cut.FindAll("[data-testid=conn-endpoint-cleartext]").Count == 1);
    }

    private static LlmConnectionView View(string endpoint, bool hasKey, string? sentTo) =>
        new(Guid.NewGuid(), null, "LAN box", LlmProvider.OpenAICompatible, endpoint, "llama3.2", hasKey, 0.7, 900, 2, null, 0, 0)
        { KeySentInClearTo = sentTo };

    [Theory]
    [InlineData("en", "key sent unencrypted to 10.0.0.7")]
    [InlineData("ja", "APIキーを暗号化せずに 10.0.0.7 へ送信")]
    public async Task List_shows_a_chip_on_a_connection_whose_key_goes_unencrypted(string culture, string text)
    {
        await using var ctx = PortalBunit.NewContext();
        var cut = Localized.In(culture, () => ctx.Render<KeyInClearWarning>(p => p.Add(x => x.Connection, View("http://10.0.0.7:8000/v1", true, "10.0.0.7"))));

        var chip = cut.Find("[data-testid=conn-key-cleartext]");
        Assert.Equal(text, chip.TextContent.Trim());
        Assert.Contains("10.0.0.7", chip.GetAttribute("title"), StringComparison.Ordinal);

        // The list trusts the domain's verdict, not the address alone: no chip when the view says the key stays safe.
        Localized.In(culture, () => cut.Render(p => p.Add(x => x.Connection, View("http://10.0.0.7:8000/v1", false, null))));
        Assert.Empty(cut.FindAll("[data-testid=conn-key-cleartext]"));
    }

    [Theory]
    [InlineData("en", "The API key will be sent unencrypted to 10.0.0.7. Use https, or leave the key empty if the server needs none.")]
    [InlineData("ja", "APIキーは暗号化されずに 10.0.0.7 へ送られます。")]
    public async Task The_connection_picked_on_a_page_that_calls_the_LLM_is_warned_about_in_a_sentence(string culture, string text)
    {
        await using var ctx = PortalBunit.NewContext();
        var cut = Localized.In(culture, () => ctx.Render<KeyInClearWarning>(p => p
            .Add(x => x.Connection, View("http://10.0.0.7:8000/v1", true, "10.0.0.7")).Add(x => x.Picked, true)));

        Assert.Contains(text, cut.Find("[data-testid=picked-connection-cleartext]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=conn-key-cleartext]")); // a sentence under the picker, not the list's chip

        Localized.In(culture, () => cut.Render(p => p.Add(x => x.Connection, View("https://10.0.0.7:8000/v1", true, null))));
        Assert.Empty(cut.FindAll("[data-testid=picked-connection-cleartext]"));
    }
}
