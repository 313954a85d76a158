using Incubator.Domain.Common;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Tests.Tasks;

/// <summary>The built-in templates themselves (no database), checked for every template in both languages.</summary>
public sealed class BuiltInTemplateTests
{
    public static readonly TheoryData<string> BuiltInIds = new(TemplateLibrary.BuiltIns.Select(b => b.Info.Id));

    private static TaskSpec WithDefaults(TemplateLibrary.BuiltInTemplate t) =>
        TaskJson.Normalize(TemplateLibrary.Fill(t.Spec, name => t.Info.Variables.Single(v => v.Name == name).DefaultValue));

    private static TemplateLibrary.BuiltInTemplate Get(string id) => TemplateLibrary.BuiltIns.Single(b => b.Info.Id == id);

    [Fact]
    public void At_least_twelve_per_language_each_in_english_and_japanese()
    {
        var bySlug = TemplateLibrary.BuiltIns.GroupBy(b => b.Slug).ToList();
        Assert.True(bySlug.Count >= 12, $"only {bySlug.Count} built-in templates");
        Assert.All(bySlug, g => Assert.Equal(["en", "ja"], g.Select(t => t.Info.Language).Order()));
        Assert.All(TemplateLibrary.BuiltIns, t => Assert.Equal($"builtin:{t.Slug}:{t.Info.Language}", t.Info.Id));
        var required = new[]
        {
            "product-review-sentiment", "news-topic", "support-intent", "sms-spam", "abusive-language", "emotion", "question-type",
            "urgency-triage", "ted-educator", "food-or-movies", "finance-news-stance", "banking-intents",
        };
        Assert.Empty(required.Except(bySlug.Select(g => g.Key)));
    }

    [Theory]
    [MemberData(nameof(BuiltInIds))]
    public void Valid_after_instantiation_with_defaults(string id)
    {
        var t = Get(id);
        var spec = WithDefaults(t);
        Assert.Empty(TaskSpecValidator.Validate(spec));
        Assert.DoesNotMatch(@"\{[A-Za-z]", TaskJson.Serialize(spec));
        Assert.Equal(t.Info.Language, spec.Preferences.Language);
        Assert.False(string.IsNullOrWhiteSpace(t.Info.Name));
        Assert.False(string.IsNullOrWhiteSpace(t.Info.Description));
        Assert.False(string.IsNullOrWhiteSpace(t.Info.Category));
    }

    [Theory]
    [MemberData(nameof(BuiltInIds))]
    public void Distinct_non_empty_definitions_and_at_most_one_other_label(string id)
    {
        var spec = WithDefaults(Get(id));
        Assert.All(spec.Labels, l => Assert.False(string.IsNullOrWhiteSpace(l.Description), $"{id}: '{l.Name}' has no definition"));
        Assert.Equal(spec.Labels.Count, spec.Labels.Select(l => l.Description).Distinct().Count());
        Assert.True(spec.Labels.Count(l => l.IsOther) <= 1);
    }

    [Theory]
    [MemberData(nameof(BuiltInIds))]
    public void Every_variable_has_a_label_and_a_default(string id)
    {
        var t = Get(id);
        Assert.All(t.Info.Variables, v =>
        {
            Assert.NotEqual(v.Name, v.Label);
            Assert.False(string.IsNullOrWhiteSpace(v.DefaultValue));
        });
    }

    [Theory]
    [MemberData(nameof(BuiltInIds))]
    public void Json_round_trip_is_the_identity(string id)
    {
        foreach (var spec in new[] { Get(id).Spec, WithDefaults(Get(id)) })
        {
            var json = TaskJson.Serialize(spec);
            Assert.Equal(json, TaskJson.Serialize(TaskJson.Parse(json)));
            Assert.Equal(TaskJson.Serialize(spec, indented: false), TaskJson.Serialize(TaskJson.Parse(json), indented: false));
        }
    }

    [Fact]
    public void Japanese_templates_measure_length_in_characters()
    {
        foreach (var t in TemplateLibrary.BuiltIns.Where(b => b.Info.Language == "ja"))
        {
            Assert.Null(t.Spec.Preferences.MinWords);
            Assert.Null(t.Spec.Preferences.MaxWords);
            Assert.NotNull(t.Spec.Preferences.MaxChars);
        }
    }

    [Fact]
    public void Required_shapes()
    {
        var support = Get("builtin:support-intent:en");
        Assert.Equal(["product", "audience"], support.Info.Variables.Select(v => v.Name));
        Assert.NotNull(support.Spec.OtherLabel);
        Assert.Equal(["product"], Get("builtin:product-review-sentiment:ja").Info.Variables.Select(v => v.Name));
        Assert.True(Get("builtin:banking-intents:en").Spec.Labels.Count >= 10);
        Assert.Contains(Get("builtin:ted-educator:en").Spec.Labels, l => l.Name == "TED talk given by an educator");
        Assert.Equal(["about food", "about movies"], Get("builtin:food-or-movies:en").Spec.Labels.Select(l => l.Name));
    }
}

/// <summary>Listing, instantiating, saving and sharing templates through <see cref="TemplateLibrary"/>.</summary>
public sealed class TemplateLibraryTests : IAsyncLifetime
{
    private TaskTestHost _host = null!;

    public async Task InitializeAsync() => _host = await TaskTestHost.CreateAsync();

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private TemplateLibrary Templates => _host.Templates;

    private static Dictionary<string, string> Defaults(TemplateInfo t) => t.Variables.ToDictionary(v => v.Name, v => v.DefaultValue);

    [Theory]
    [InlineData("en")]
    [InlineData("ja")]
    public async Task List_has_at_least_twelve_built_ins_per_language(string language)
    {
        var project = await _host.CreateProjectAsync();
        var viewer = await _host.CreateUserAsync(project, ProjectRole.Viewer);

        var list = await Templates.ListAsync(viewer, project, language);

        Assert.True(list.Count(t => t.Scope == TemplateScope.BuiltIn) >= 12);
        Assert.All(list, t => Assert.Equal(language, t.Language));
        Assert.True((await Templates.ListAsync(viewer, project, null)).Count >= 24);
    }

    [Fact]
    public async Task Instantiate_fills_every_variable()
    {
        var project = await _host.CreateProjectAsync();
        var viewer = await _host.CreateUserAsync(project, ProjectRole.Viewer);

        var spec = await Templates.InstantiateAsync(viewer, project, "builtin:support-intent:en",
            new Dictionary<string, string> { ["product"] = " Acme Sheets ", ["audience"] = "school administrators" });

        Assert.Equal("Acme Sheets support intent", spec.Name);
        Assert.Contains("Messages to the support team of Acme Sheets come from school administrators.", spec.Instruction);
        Assert.Contains("Acme Sheets", spec.Labels.Single(l => l.Name == "technical problem").Description);
        Assert.DoesNotMatch(@"\{[A-Za-z]", TaskJson.Serialize(spec));
        Assert.Empty(TaskSpecValidator.Validate(spec));

        var ja = await Templates.InstantiateAsync(viewer, project, "builtin:product-review-sentiment:ja", new Dictionary<string, string> { ["product"] = "電気ケトル" });
        Assert.Equal("電気ケトルのレビュー評価", ja.Name);
    }

    [Fact]
    public async Task Missing_or_empty_variables_are_all_reported()
    {
        var project = await _host.CreateProjectAsync();
        var viewer = await _host.CreateUserAsync(project, ProjectRole.Viewer);

        var ex = await Assert.ThrowsAsync<DomainValidationException>(() =>
            Templates.InstantiateAsync(viewer, project, "builtin:support-intent:en", new Dictionary<string, string> { ["audience"] = "  " }));

        Assert.All(ex.Details, d => Assert.Equal("TemplateVariableMissing", d.Code));
        Assert.Equal(["variables.product", "variables.audience"], ex.Details.Select(d => d.Field));
    }

    [Fact]
    public async Task Unknown_templates_are_reported()
    {
        var project = await _host.CreateProjectAsync();
        var viewer = await _host.CreateUserAsync(project, ProjectRole.Viewer);
        foreach (var id in new[] { "builtin:nope:en", "site:" + Guid.NewGuid(), "project:" + Guid.NewGuid(), "garbage" })
        {
            var ex = await Assert.ThrowsAsync<DomainValidationException>(() => Templates.InstantiateAsync(viewer, project, id, new Dictionary<string, string>()));
            Assert.Equal("TemplateNotFound", Assert.Single(ex.Details).Code);
        }
    }

    [Fact]
    public async Task A_project_template_is_visible_only_in_its_project()
    {
        var project = await _host.CreateProjectAsync();
        var author = await _host.CreateUserAsync(project, ProjectRole.Author);
        var other = await _host.CreateProjectAsync("other");
        await _host.AddMemberAsync(other, author, ProjectRole.Author);
        var spec = TaskJsonTests.Sample() with { Name = "Routing for {team}", Instruction = "Tickets for {team}." };

        var saved = await Templates.SaveProjectTemplateAsync(author, project, " Team routing ", "Our routing", spec);

        Assert.Equal((TemplateScope.Project, "Team routing", "custom"), (saved.Scope, saved.Name, saved.Category));
        Assert.StartsWith("project:", saved.Id);
        Assert.Equal(["team"], saved.Variables.Select(v => v.Name));
        Assert.Contains(await Templates.ListAsync(author, project, "en"), t => t.Id == saved.Id);
        Assert.DoesNotContain(await Templates.ListAsync(author, other, null), t => t.Id == saved.Id);
        await Assert.ThrowsAsync<ForbiddenException>(() =>
            Templates.InstantiateAsync(author, other, saved.Id, new Dictionary<string, string> { ["team"] = "x" }));
        var filled = await Templates.InstantiateAsync(author, project, saved.Id, new Dictionary<string, string> { ["team"] = "finance" });
        Assert.Equal("Routing for finance", filled.Name);
    }

    [Fact]
    public async Task Saving_a_template_needs_author_and_a_valid_spec()
    {
        var project = await _host.CreateProjectAsync();
        var viewer = await _host.CreateUserAsync(project, ProjectRole.Viewer);
        var author = await _host.CreateUserAsync(project, ProjectRole.Author);

        await Assert.ThrowsAsync<ForbiddenException>(() => Templates.SaveProjectTemplateAsync(viewer, project, "t", "", TaskJsonTests.Sample()));
        var ex = await Assert.ThrowsAsync<DomainValidationException>(() =>
            Templates.SaveProjectTemplateAsync(author, project, "", "", TaskJsonTests.Sample() with { Labels = [] }));
        Assert.Equal(["TemplateNameRequired", "TooFewLabels"], ex.Details.Select(d => d.Code));
        Assert.Equal(0, await _host.QueryAsync(db => db.TaskTemplates.CountAsync()));
    }

    [Fact]
    public async Task Only_site_admins_share_site_wide_and_shared_templates_appear_in_other_projects()
    {
        var project = await _host.CreateProjectAsync();
        var author = await _host.CreateUserAsync(project, ProjectRole.Author);
        var saved = await Templates.SaveProjectTemplateAsync(author, project, "Routing", "", TaskJsonTests.Sample());
        var other = await _host.CreateProjectAsync("other");
        var otherViewer = await _host.CreateUserAsync(other, ProjectRole.Viewer);

        await Assert.ThrowsAsync<ForbiddenException>(() => Templates.ShareSiteWideAsync(author, saved.Id));

        var adminOutsider = await _host.CreateUserAsync(other, ProjectRole.Owner, "admin-outsider");
        await _host.MakeSiteAdminAsync(adminOutsider);
        await Assert.ThrowsAsync<ForbiddenException>(() => Templates.ShareSiteWideAsync(adminOutsider, saved.Id));
        Assert.DoesNotContain(await Templates.ListAsync(otherViewer, other, null), t => t.Scope == TemplateScope.Site);

        var admin = await _host.CreateUserAsync(project, ProjectRole.Viewer, "admin");
        await _host.MakeSiteAdminAsync(admin);
        var shared = await Templates.ShareSiteWideAsync(admin, saved.Id);

        Assert.Equal(TemplateScope.Site, shared.Scope);
        Assert.StartsWith("site:", shared.Id);
        var seen = Assert.Single(await Templates.ListAsync(otherViewer, other, "en"), t => t.Scope == TemplateScope.Site);
        Assert.Equal(shared.Id, seen.Id);
        var spec = await Templates.InstantiateAsync(otherViewer, other, shared.Id, new Dictionary<string, string>());
        Assert.Equal("Support ticket routing", spec.Name);
        var bad = await Assert.ThrowsAsync<DomainValidationException>(() => Templates.ShareSiteWideAsync(admin, shared.Id));
        Assert.Equal("TemplateNotFound", Assert.Single(bad.Details).Code);
    }
}
