using Microsoft.Playwright;

namespace Incubator.Tests.Infrastructure;

/// <summary>Small, readable steps over the portal's MudBlazor pages, as a person would do them.</summary>
public sealed class PortalBrowser(IPage page, string baseUrl)
{
    public IPage Page { get; } = page;

    /// <summary>For waits on a URL after Blazor's in-page navigations: the URL commits, no load event follows.</summary>
    public static readonly PageWaitForURLOptions UrlCommitted = new() { WaitUntil = WaitUntilState.Commit };

    public string BaseUrl { get; } = baseUrl.TrimEnd('/');

    /// <param name="timezoneId">The browser's time zone (IANA), or the machine's when null.</param>
    public static async Task<PortalBrowser> OpenAsync(IBrowser browser, string baseUrl, string locale = "en-US", string? timezoneId = null)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { Locale = locale, BaseURL = baseUrl, TimezoneId = timezoneId });
        context.SetDefaultTimeout(30_000);
        context.SetDefaultNavigationTimeout(45_000);
        var page = await context.NewPageAsync();
        var browserPage = new PortalBrowser(page, baseUrl);
        page.Console += (_, m) => browserPage.Remember($"console {m.Type}: {m.Text}");
        page.PageError += (_, e) => browserPage.Remember($"page error: {e}");
        return browserPage;
    }

    private readonly Queue<string> _recent = new();

    private void Remember(string line)
    {
        lock (_recent)
        {
            _recent.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");
            while (_recent.Count > 40) _recent.Dequeue();
        }
    }

    /// <summary>The page's last console messages and errors (Blazor logs reconnects there), for failure messages.</summary>
    public string RecentConsole
    {
        get
        {
            lock (_recent) return string.Join("\n", _recent);
        }
    }

    /// <summary>Waits until the page's URL matches. Playwright's own wait has timed out on a loaded machine although the
    /// page had navigated (the failure printed the matching URL, after Blazor's in-page navigation from registering), so
    /// this also looks at the page's URL itself every second.</summary>
    public async Task WaitForUrlAsync(System.Text.RegularExpressions.Regex url, int timeoutMs = 45_000)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!url.IsMatch(Page.Url))
        {
            var left = timeoutMs - (int)clock.ElapsedMilliseconds;
            if (left <= 0) throw new TimeoutException($"The page's URL did not match {url} within {timeoutMs / 1000} s: it is {Page.Url}.");
            try
            {
                await Page.WaitForURLAsync(url, new PageWaitForURLOptions { Timeout = Math.Min(left, 1_000), WaitUntil = WaitUntilState.Commit });
            }
            catch (TimeoutException)
            {
                // Looked at again above.
            }
        }
    }

    public async Task GotoAsync(string path)
    {
        await Page.GotoAsync(BaseUrl + path);
        await WaitInteractiveAsync();
    }

    /// <summary>Prerendered pages ignore clicks until the Blazor circuit is connected; the layout flags that moment.</summary>
    public Task WaitInteractiveAsync() =>
        Page.Locator("[data-interactive=true]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });

    /// <summary>Chooses a file in a Blazor file input (MudFileUpload is Blazor's InputFile) once Blazor listens to it.
    /// The input is in the page before its component's first interactive render has run InputFile's script, which
    /// attaches the change listener; a file set in between is chosen in the browser and never reaches the server (seen
    /// on a fresh, loaded machine). A person cannot pick a file that fast; a test can.</summary>
    public async Task ChooseFileAsync(string inputSelector, string path)
    {
        await Page.WaitForFunctionAsync(
            "selector => { const input = document.querySelector(selector); return !!input && input._blazorInputFileNextFileId !== undefined; }",
            inputSelector);
        await Page.Locator(inputSelector).First.SetInputFilesAsync(path);
    }

    public Task FillAsync(string testId, string value) =>
        Page.Locator($"input[data-testid={testId}], textarea[data-testid={testId}], [data-testid={testId}] input, [data-testid={testId}] textarea").First.FillAsync(value);

    public Task ClickAsync(string testId) => Page.Locator($"[data-testid={testId}]").First.ClickAsync();

    public async Task RegisterAsync(string email, string password, string? name = null)
    {
        await GotoAsync("/account/register");
        await FillAsync("register-email", email);
        if (name is not null) await FillAsync("register-name", name);
        await FillAsync("register-password", password);
        await FillAsync("register-confirm", password);
        // Registering never signs in (its answer must not tell whether the address already had an account): the page
        // sends the person to sign in, and they do. Registering twice gives the same answer, so a second click is safe.
        await SubmitAndWaitAsync($"Registering '{email}'", "register-submit", new System.Text.RegularExpressions.Regex("/account/login\\?registered=1"),
            "/account/register", "register-email", email);
        await SignInAsync(email, password);
    }

    public async Task SignInAsync(string email, string password)
    {
        await GotoAsync("/account/login");
        await FillAsync("login-email", email);
        await FillAsync("login-password", password);
        await SubmitAndWaitAsync($"Signing in '{email}'", "login-submit",
            new System.Text.RegularExpressions.Regex("^" + System.Text.RegularExpressions.Regex.Escape(BaseUrl + "/") + "$"),
            "/account/login", "login-email", email, errorTestId: "login-error");
        await WaitInteractiveAsync();
    }

    public async Task<Guid> CreateProjectAsync(string name)
    {
        await GotoAsync("/projects/new");
        await FillAsync("project-name-input", name);
        await SubmitAndWaitAsync($"Creating project '{name}'", "project-create", new System.Text.RegularExpressions.Regex("/projects/[0-9a-f-]{36}$"),
            "/projects/new", "project-name-input", name);
        return Guid.Parse(Page.Url[^36..]);
    }

    /// <summary>Clicks a form's button and waits for the page it leads to. Seen in CI on loaded machines (registering,
    /// signing in, creating a project): no navigation within 20 s of the click. A person would click again, so the
    /// test does, once, if the page is still the form's (<paramref name="formPath"/>) with <paramref name="value"/> in
    /// its field and no error shown; otherwise, and if the second click leads nowhere either, it fails with the page's
    /// text and its last console lines.</summary>
    private async Task SubmitAndWaitAsync(string what, string buttonTestId, System.Text.RegularExpressions.Regex url, string formPath,
        string fieldTestId, string value, string? errorTestId = null)
    {
        await ClickAsync(buttonTestId);
        try
        {
            await WaitForUrlAsync(url, 20_000);
            return;
        }
        catch (TimeoutException)
        {
            var field = Page.Locator($"[data-testid={fieldTestId}] input").First;
            var shown = await field.CountAsync() > 0 ? await field.InputValueAsync() : null;
            var error = errorTestId is not null && await Page.GetByTestId(errorTestId).CountAsync() > 0;
            if (!Page.Url.Contains(formPath, StringComparison.Ordinal) || shown != value || error)
                throw new TimeoutException($"{what} did not navigate: url {Page.Url}, field '{shown ?? "(absent)"}', " +
                    $"page text: {await BodyTextAsync()}\n{RecentConsole}");
        }
        await ClickAsync(buttonTestId);
        try
        {
            await WaitForUrlAsync(url);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{what} did not navigate after a second click: url {Page.Url}, page text: {await BodyTextAsync()}\n{RecentConsole}", ex);
        }
    }

    private async Task<string> BodyTextAsync()
    {
        var text = await Page.EvaluateAsync<string>("() => document.body ? document.body.innerText : ''");
        return text.Length <= 600 ? text : text[..600] + "…";
    }

    /// <summary>Picks an option of a MudSelect by its visible text.</summary>
    public async Task SelectAsync(string testId, string optionText)
    {
        await Page.Locator($"[data-testid={testId}]").First.ClickAsync();
        await Page.Locator(".mud-popover-open .mud-list-item").Filter(new LocatorFilterOptions { HasText = optionText }).First.ClickAsync();
    }
}
