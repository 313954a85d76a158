using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace Incubator.Tests.Browser;

/// <summary>An author adds an LLM connection (to the fake OpenAI-compatible server the test starts), tests it and sees
/// the model's answer, then the exact error when the server refuses; the key is never shown back.</summary>
[Collection(BrowserCollection.Name)]
public sealed class ConnectionsBrowserTests(BrowserFixture browser)
{
    [Fact]
    public async Task Author_adds_a_connection_tests_it_and_sees_the_answer_then_the_exact_error()
    {
        await using var fake = await FakeOpenAiServer.StartAsync();
        using var portal = new PortalFactory(realServer: true);
        var url = portal.ServerAddress;
        var author = await PortalBrowser.OpenAsync(browser.Browser, url);
        await author.RegisterAsync("llm@example.com", "Incub8tor-pass");
        var projectId = await author.CreateProjectAsync("LLM project");

        await author.GotoAsync($"/projects/{projectId}/connections");
        await Expect(author.Page.GetByTestId("no-connections")).ToBeVisibleAsync();
        await author.ClickAsync("add-connection");
        await author.FillAsync("conn-name", "Fake local model");
        await author.SelectAsync("conn-provider", "OpenAI-compatible");
        await author.FillAsync("conn-endpoint", fake.OpenAIEndpoint);
        await author.FillAsync("conn-model", "fake-model");
        await author.FillAsync("conn-key", "sk-very-secret-key");
        await author.ClickAsync("conn-save");
        await Expect(author.Page.GetByTestId("connection-name")).ToContainTextAsync("Fake local model");
        Assert.DoesNotContain("sk-very-secret-key", await author.Page.ContentAsync());

        fake.Enqueue(FakeReply.Completion("ok"));
        await author.ClickAsync("test-connection");
        await Expect(author.Page.GetByTestId("test-result")).ToContainTextAsync("The model answered “ok”");
        var sent = fake.ChatRequests[^1];
        Assert.Equal("Bearer sk-very-secret-key", sent.Header("Authorization"));
        Assert.Equal("fake-model", sent.Json!["model"]!.GetValue<string>());

        fake.Enqueue(FakeReply.Error(401, "Incorrect API key provided.", type: "invalid_request_error"));
        await author.ClickAsync("test-connection");
        await Expect(author.Page.GetByTestId("test-result")).ToContainTextAsync("401");
        await Expect(author.Page.GetByTestId("test-result")).ToContainTextAsync("Incorrect API key provided.");
        Assert.DoesNotContain("sk-very-secret-key", await author.Page.ContentAsync());

        await author.Page.Context.CloseAsync();
    }
}
