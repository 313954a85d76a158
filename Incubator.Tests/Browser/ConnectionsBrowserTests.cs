using Incubator.Domain.Llm;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
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
        // The fake server is on 127.0.0.1: a key sent there over http stays on this machine, nothing to warn about.
        await Expect(author.Page.GetByTestId("conn-endpoint-cleartext")).ToHaveCountAsync(0);
        await author.ClickAsync("conn-save");
        await Expect(author.Page.GetByTestId("connection-name")).ToContainTextAsync("Fake local model");
        await Expect(author.Page.GetByTestId("conn-key-cleartext")).ToHaveCountAsync(0);
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

    /// <summary>A key written into the endpoint would be stored and shown in the clear: the form refuses it beside the
    /// field and saves nothing. A connection saved that way before (an upgrade) is listed, and opened for editing, with
    /// the credential hidden and a note saying what to do. An http:// address to another machine with a key is saved,
    /// with a warning beside the address while typing, a chip in the list and a sentence under the Generate page's picker.</summary>
    [Fact]
    public async Task An_endpoint_with_a_credential_is_refused_on_the_form_and_one_saved_before_is_shown_without_it()
    {
        using var portal = new PortalFactory(realServer: true);
        var author = await PortalBrowser.OpenAsync(browser.Browser, portal.ServerAddress);
        await author.RegisterAsync("llm-url@example.com", "Incub8tor-pass");
        var projectId = await author.CreateProjectAsync("LLM URL project");

        await author.GotoAsync($"/projects/{projectId}/connections");
        await author.ClickAsync("add-connection");
        await author.FillAsync("conn-name", "Proxy");
        await author.SelectAsync("conn-provider", "OpenAI-compatible");
        await author.FillAsync("conn-endpoint", "https://proxy.example.net/v1?api-key=s3cr3t-in-url");
        await author.FillAsync("conn-model", "m");
        await author.ClickAsync("conn-save");
        await Expect(author.Page.GetByText("put the key in the API key field, it is stored encrypted").First).ToBeVisibleAsync();
        Assert.Equal(0, await portal.QueryAsync(db => db.LlmConnections.CountAsync()));

        await portal.QueryAsync(async db =>
        {
            db.LlmConnections.Add(new LlmConnection
            {
                Id = Guid.NewGuid(), ProjectId = projectId, Name = "Old proxy", Provider = LlmProvider.OpenAICompatible,
                Endpoint = "https://bob:s3cr3t-in-url@proxy.example.net/v1", Model = "m", CreatedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        await author.GotoAsync($"/projects/{projectId}/connections");
        await Expect(author.Page.GetByTestId("conn-endpoint-shown")).ToHaveTextAsync("https://***@proxy.example.net/v1");
        await Expect(author.Page.GetByTestId("conn-endpoint-credentials")).ToBeVisibleAsync();
        Assert.DoesNotContain("s3cr3t-in-url", await author.Page.ContentAsync());
        await author.Page.GetByRole(AriaRole.Button, new() { Name = "Edit connection" }).ClickAsync();
        await Expect(author.Page.GetByTestId("conn-endpoint")).ToHaveValueAsync("https://***@proxy.example.net/v1");
        Assert.DoesNotContain("s3cr3t-in-url", await author.Page.ContentAsync());
        await author.Page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();

        // http:// to another machine with a key: allowed (a model server on the LAN), but said while typing and in the list.
        await author.ClickAsync("add-connection");
        await author.FillAsync("conn-name", "LAN box");
        await author.SelectAsync("conn-provider", "OpenAI-compatible");
        await author.FillAsync("conn-endpoint", "http://gpu-box.example:8000/v1");
        await author.FillAsync("conn-model", "m");
        await Expect(author.Page.GetByTestId("conn-endpoint-cleartext")).ToHaveCountAsync(0); // no key yet
        await author.FillAsync("conn-key", "sk-lan-key");
        await Expect(author.Page.GetByTestId("conn-endpoint-cleartext")).ToContainTextAsync("The API key will be sent unencrypted to gpu-box.example.");
        await author.ClickAsync("conn-save");
        await Expect(author.Page.GetByTestId("conn-key-cleartext")).ToHaveTextAsync("key sent unencrypted to gpu-box.example");
        // The address warnings wrap under the address: the list fits its box, no column pushed out of sight sideways.
        var overflow = await author.Page.GetByTestId("connections-table").Locator(".mud-table-container")
            .EvaluateAsync<int>("e => e.scrollWidth - e.clientWidth");
        Assert.True(overflow <= 0, $"The connection list is {overflow}px wider than its box: a column is scrolled out of sight.");
        await Expect(author.Page.GetByText("LAN box")).ToBeInViewportAsync();
        Assert.Equal(2, await portal.QueryAsync(db => db.LlmConnections.CountAsync()));

        // Picked on a page that starts LLM calls, the LAN connection is called out under the picker; the https one is not.
        var taskId = await portal.CreateTaskAsync("llm-url@example.com", projectId, Incubator.Tests.Mining.MiningFixtures.EnglishTask);
        await author.GotoAsync($"/projects/{projectId}/tasks/{taskId}/generate");
        // Neither was tested or used, so none is picked: the picker is blank (it showed the empty id's zeros) and says to choose.
        await Expect(author.Page.GetByText("Choose the connection this run uses.").First).ToBeVisibleAsync();
        await Expect(author.Page.GetByTestId("gen-connection")).ToHaveValueAsync("");
        await author.SelectAsync("gen-connection", "LAN box");
        await Expect(author.Page.GetByTestId("gen-connection")).ToHaveValueAsync("LAN box · m");
        await Expect(author.Page.GetByTestId("picked-connection-cleartext")).ToContainTextAsync("The API key will be sent unencrypted to gpu-box.example.");
        await author.SelectAsync("gen-connection", "Old proxy");
        await Expect(author.Page.GetByTestId("picked-connection-cleartext")).ToHaveCountAsync(0);
        await author.Page.Context.CloseAsync();
    }
}
