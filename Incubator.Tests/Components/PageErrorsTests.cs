using System.Globalization;
using System.Security.Claims;
using Bunit;
using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Incubator.Tests.Jobs;
using Incubator.Web;
using Incubator.Web.Components.Layout;
using Incubator.Web.Components.Pages.Projects;
using Incubator.Web.Components.Pages.Shared;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Localization;
using MudBlazor;

namespace Incubator.Tests.Components;

/// <summary>The one way pages handle domain refusals (field errors or a localised snackbar, "no access" while loading),
/// the layout's error panel, and a project page's live events: only the wanted ones reach it, and a failure in its
/// handler reaches the error boundary instead of the publisher's log.</summary>
public sealed class PageErrorsTests
{
    private static BunitContext NewContext() => PortalBunit.NewContext(s => s.AddScoped<PageErrors>());

    private static (PageErrors Errors, ISnackbar Snackbar, IStringLocalizer L) Resolve(BunitContext ctx) =>
        (ctx.Services.GetRequiredService<PageErrors>(), ctx.Services.GetRequiredService<ISnackbar>(),
            ctx.Services.GetRequiredService<IStringLocalizer<SharedResource>>());

    private static DomainValidationException Invalid() => new(
    [
        new DomainError("name", "ProjectNameRequired", "A name is required.", []),
        new DomainError("description", "CommentTooLong", "Too long.", [10, 12]),
    ]);

    private static async Task WithCulture(string culture, Func<Task> test)
    {
        var previous = CultureInfo.CurrentUICulture;
        CultureInfo.CurrentUICulture = new CultureInfo(culture);
        try
        {
            await test();
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }

    [Fact]
    public Task Invalid_input_goes_to_the_fields_localised_and_the_next_success_clears_them() => WithCulture("en", async () =>
    {
        await using var ctx = NewContext();
        var (errors, snackbar, _) = Resolve(ctx);
        var fields = new FieldErrors();

        var ok = await errors.RunAsync(() => throw Invalid(), fields);

        Assert.False(ok);
        Assert.True(fields.Has("Name"));
        Assert.Equal("The comment must be at most 10 characters (it has 12).", fields["description"]);
        Assert.Null(fields["other"]);
        Assert.Empty(snackbar.ShownSnackbars);

        Assert.True(await errors.RunAsync(() => Task.CompletedTask, fields));
        Assert.False(fields.Any);
        Assert.Null(fields["description"]);
    });

    [Fact]
    public Task Without_fields_every_refusal_is_one_localised_snackbar() => WithCulture("ja", async () =>
    {
        await using var ctx = NewContext();
        var (errors, snackbar, l) = Resolve(ctx);

        await errors.RunAsync(() => throw Invalid());
        await errors.RunAsync(() => throw new ForbiddenException("English text never shown"));
        await errors.RunAsync(() => throw new ConflictException("English text never shown"));
        await errors.RunAsync(() => throw new NotFoundException("English text never shown"));

        var shown = snackbar.ShownSnackbars.Select(s => (s.Message, s.Severity)).ToList();
        Assert.Equal(
        [
            (l.Error(Invalid().Details[0]) + " " + l.Error(Invalid().Details[1]), Severity.Error),
            (l["Common.Forbidden"].Value, Severity.Error),
            (l["Common.Conflict"].Value, Severity.Warning),
            (l["Common.NotFound"].Value, Severity.Warning),
        ], shown);
        Assert.Contains("権限", shown[1].Message);
    });

    /// <summary>A stale tab's form (Settings' rename, the task editor) writing into a project archived meanwhile: the
    /// refusal is about no field of the form, so it is a snackbar in the reader's language, not a hidden field error.</summary>
    [Theory]
    [InlineData("en", "read-only until an Owner restores it")]
    [InlineData("ja", "読み取り専用")]
    public Task An_archived_project_refusal_is_a_localised_snackbar_even_for_a_form(string culture, string expected) => WithCulture(culture, async () =>
    {
        await using var ctx = NewContext();
        var (errors, snackbar, _) = Resolve(ctx);
        var fields = new FieldErrors();

        var ok = await errors.RunAsync(() => throw ProjectAccess.Archived(), fields);

        Assert.False(ok);
        Assert.False(fields.Any);
        var shown = Assert.Single(snackbar.ShownSnackbars);
        Assert.Contains(expected, shown.Message);
        Assert.Equal(Severity.Error, shown.Severity);
    });

    [Fact]
    public Task A_page_may_word_a_conflict_itself_or_take_a_refusal_over() => WithCulture("en", async () =>
    {
        await using var ctx = NewContext();
        var (errors, snackbar, _) = Resolve(ctx);
        PageFailure? taken = null;

        await errors.RunAsync(() => throw new ConflictException("x"), conflict: "Someone decided first.");
        var handled = await errors.RunAsync(() => throw new ConflictException("x"), conflict: "Told inline.", handle: f => (taken = f) is not null);

        Assert.Equal("Someone decided first.", Assert.Single(snackbar.ShownSnackbars).Message);
        Assert.False(handled);
        Assert.Equal((FailureKind.Conflict, "Told inline."), (taken!.Kind, taken.Text));
    });

    [Fact]
    public async Task Results_come_back_refusals_give_null_and_bugs_are_not_swallowed()
    {
        await using var ctx = NewContext();
        var (errors, _, _) = Resolve(ctx);

        Assert.Equal("ok", await errors.TryGetAsync(() => Task.FromResult("ok")));
        Assert.Null(await errors.TryGetAsync<string>(() => throw new ForbiddenException()));
        await Assert.ThrowsAsync<InvalidOperationException>(() => errors.RunAsync(() => throw new InvalidOperationException("a bug")));

        Assert.True(await PageErrors.LoadAsync(() => Task.CompletedTask));
        Assert.False(await PageErrors.LoadAsync(() => throw new ForbiddenException()));
        Assert.False(await PageErrors.LoadAsync(() => throw new NotFoundException("gone")));
        await Assert.ThrowsAsync<DomainValidationException>(() => PageErrors.LoadAsync(() => throw Invalid()));
    }

    [Fact]
    public Task The_error_panel_is_localised_names_a_refusal_for_what_it_is_and_offers_a_retry() => WithCulture("ja", async () =>
    {
        await using var ctx = NewContext();
        var l = ctx.Services.GetRequiredService<IStringLocalizer<SharedResource>>();
        var retries = 0;

        var bug = ctx.Render<PageCrash>(p => p.Add(x => x.Exception, new InvalidOperationException("stack trace material"))
            .Add(x => x.OnRetry, () => retries++));
        var refused = ctx.Render<PageCrash>(p => p.Add(x => x.Exception, new ForbiddenException()).Add(x => x.OnRetry, () => { }));

        Assert.Contains(l["Crash.Title"].Value, bug.Find("[data-testid=page-crash]").TextContent);
        Assert.DoesNotContain("stack trace material", bug.Markup);
        Assert.Contains(l["Common.Forbidden"].Value, refused.Find("[data-testid=page-crash]").TextContent);
        await bug.Find("[data-testid=crash-retry]").ClickAsync(new MouseEventArgs());
        Assert.Equal(1, retries);
    });

    /// <summary>A project page that counts the batches it is handed and fails on TaskChanged version 99.</summary>
    private sealed class ListeningPage : ProjectPage
    {
        public static int Batches;

        protected override bool WantsEvent(RunEvent e) => e is TaskChanged;

        protected override Task OnProjectEventsAsync(IReadOnlyList<RunEvent> events)
        {
            Interlocked.Increment(ref Batches);
            return events.Any(e => e is TaskChanged { Version: 99 }) ? throw new InvalidOperationException("handler bug") : Task.CompletedTask;
        }

        protected override void BuildRenderTree(RenderTreeBuilder builder) =>
            builder.AddMarkupContent(0, Project is null ? "" : $"<p data-testid=\"listening\">{Batches}</p>");
    }

    /// <summary>Events reach the page through its own buffer on another thread; bUnit's default second is too short
    /// on a loaded CI machine (seen once).</summary>
    private static readonly TimeSpan Delivery = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_project_page_hears_only_wanted_events_and_a_failing_handler_reaches_the_error_boundary()
    {
        await using var host = await JobTestHost.CreateAsync();
        var projectId = await host.CreateProjectAsync("events");
        var userId = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        await using var ctx = NewContext();
        ctx.Services.AddSingleton(host.Services.GetRequiredService<ProjectService>());
        var events = host.Services.GetRequiredService<IRunEvents>();
        ctx.Services.AddSingleton(events);
        var auth = Task.FromResult(new AuthenticationState(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.NameIdentifier, userId)], "test"))));
        ListeningPage.Batches = 0;

        var cut = ctx.Render(builder =>
        {
            builder.OpenComponent<CascadingValue<Task<AuthenticationState>>>(0);
            builder.AddComponentParameter(1, "Value", auth);
            builder.AddComponentParameter(2, "ChildContent", (RenderFragment)(inner =>
            {
                inner.OpenComponent<ErrorBoundary>(0);
                inner.AddComponentParameter(1, "ChildContent", (RenderFragment)(page =>
                {
                    page.OpenComponent<ListeningPage>(0);
                    page.AddComponentParameter(1, nameof(ProjectPage.ProjectId), projectId);
                    page.CloseComponent();
                }));
                inner.AddComponentParameter(2, "ErrorContent", (RenderFragment<Exception>)(ex => crash =>
                {
                    crash.OpenComponent<PageCrash>(0);
                    crash.AddComponentParameter(1, nameof(PageCrash.Exception), ex);
                    crash.AddComponentParameter(2, nameof(PageCrash.OnRetry), EventCallback.Empty);
                    crash.CloseComponent();
                }));
                inner.CloseComponent();
            }));
            builder.CloseComponent();
        });
        cut.WaitForAssertion(() => Assert.Equal("0", cut.Find("[data-testid=listening]").TextContent), Delivery);

        await events.PublishAsync(new JobChanged(projectId, Guid.NewGuid(), "k", "t", Domain.Jobs.JobState.Running, 0.5, null, null, DateTimeOffset.UtcNow));
        await events.PublishAsync(new TaskChanged(projectId, Guid.NewGuid(), 1));
        cut.WaitForAssertion(() => Assert.Equal("1", cut.Find("[data-testid=listening]").TextContent), Delivery);
        Assert.Equal(1, ListeningPage.Batches);

        await events.PublishAsync(new TaskChanged(projectId, Guid.NewGuid(), 99));
        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-testid=page-crash]")), Delivery);
        Assert.Empty(cut.FindAll("[data-testid=listening]"));
    }
}
