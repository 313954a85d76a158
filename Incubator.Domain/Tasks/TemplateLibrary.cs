using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;
using Incubator.Domain.Accounts;
using Incubator.Domain.Common;
using Incubator.Domain.Data;
using Incubator.Domain.Projects;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Tasks;

public enum TemplateScope
{
    BuiltIn,
    Site,
    Project,
}

/// <summary>A <c>{Name}</c> placeholder of a template, with the label a form shows and the value it starts with.</summary>
public sealed record TemplateVariable(string Name, string Label, string DefaultValue);

/// <summary>Ids: "builtin:&lt;slug&gt;:&lt;lang&gt;", "site:&lt;guid&gt;", "project:&lt;guid&gt;".</summary>
public sealed record TemplateInfo(
    string Id, string Name, string Description, string Language, string Category, IReadOnlyList<TemplateVariable> Variables, TemplateScope Scope);

/// <summary>Starting points for tasks: built-in templates shipped as embedded JSON (English and Japanese), templates
/// saved to a project, and project templates a site administrator shared with everyone. A template is a
/// <see cref="TaskSpec"/> whose strings may hold <c>{variable}</c> placeholders; instantiating replaces them all.</summary>
public sealed partial class TemplateLibrary(
    IDbContextFactory<IncubatorDbContext> dbFactory,
    ProjectAccess access,
    TimeProvider time)
{
    public const string CustomCategory = "custom";
    public const int MaxTemplateNameLength = 200;
    public const int MaxTemplateDescriptionLength = 1000;

    [GeneratedRegex(@"\{([A-Za-z][A-Za-z0-9_]*)\}")]
    private static partial Regex Placeholder();

    /// <summary>The built-ins: read once from the assembly, immutable afterwards.</summary>
    public static IReadOnlyList<BuiltInTemplate> BuiltIns => BuiltInCache.Value;

    private static readonly Lazy<IReadOnlyList<BuiltInTemplate>> BuiltInCache = new(LoadBuiltIns);

    public async Task<IReadOnlyList<TemplateInfo>> ListAsync(string userId, Guid projectId, string? language, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.TaskTemplates.AsNoTracking()
            .Where(t => t.ProjectId == null || t.ProjectId == projectId)
            .ToListAsync(ct);
        var result = new List<TemplateInfo>();
        result.AddRange(BuiltIns.Select(b => b.Info));
        result.AddRange(rows.OrderBy(r => r.ProjectId is null ? 0 : 1).ThenBy(r => r.Name, StringComparer.CurrentCultureIgnoreCase).Select(Info));
        return result.Where(t => SameLanguage(t.Language, language)).ToList();
    }

    /// <summary>The template's spec with every <c>{variable}</c> replaced by the given value (trimmed), normalised.
    /// All missing variables are reported at once (code TemplateVariableMissing, field "variables.&lt;name&gt;").</summary>
    public async Task<TaskSpec> InstantiateAsync(string userId, Guid projectId, string templateId, IReadOnlyDictionary<string, string> variables, CancellationToken ct = default)
    {
        await access.RequireAsync(projectId, userId, ProjectRole.Viewer, ct);
        ArgumentNullException.ThrowIfNull(variables);
        var (info, spec) = await FindAsync(projectId, templateId, ct);
        var missing = info.Variables
            .Where(v => !variables.TryGetValue(v.Name, out var value) || string.IsNullOrWhiteSpace(value))
            .Select(v => new DomainError($"variables.{v.Name}", "TemplateVariableMissing", $"Fill in '{v.Label}'.", [v.Label, v.Name]))
            .ToList();
        if (missing.Count > 0) throw new DomainValidationException(missing);
        return TaskJson.Normalize(Fill(spec, name => variables[name].Trim()));
    }

    public async Task<TemplateInfo> SaveProjectTemplateAsync(string userId, Guid projectId, string name, string description, TaskSpec spec, CancellationToken ct = default)
    {
        await access.RequireWriteAsync(projectId, userId, ProjectRole.Author, ct);
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new List<DomainError>();
        var trimmedName = (name ?? "").Trim();
        var trimmedDescription = (description ?? "").Trim();
        if (trimmedName.Length == 0)
            errors.Add(new("templateName", "TemplateNameRequired", "Give the template a name.", []));
        else if (trimmedName.Length > MaxTemplateNameLength)
            errors.Add(new("templateName", "TemplateNameTooLong", $"The template name must be at most {MaxTemplateNameLength} characters (it has {trimmedName.Length}).", [MaxTemplateNameLength, trimmedName.Length]));
        if (trimmedDescription.Length > MaxTemplateDescriptionLength)
            errors.Add(new("templateDescription", "TemplateDescriptionTooLong", $"The template description must be at most {MaxTemplateDescriptionLength} characters (it has {trimmedDescription.Length}).", [MaxTemplateDescriptionLength, trimmedDescription.Length]));
        var normalized = TaskJson.Normalize(spec);
        errors.AddRange(TaskSpecValidator.Validate(normalized));
        if (errors.Count > 0) throw new DomainValidationException(errors);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Projects.Where(p => p.Id == projectId).Select(p => p.IsArchived).SingleAsync(ct))
            throw ProjectAccess.Archived();
        var row = new TaskTemplate
        {
            Id = Guid.NewGuid(), ProjectId = projectId, Name = trimmedName, Description = trimmedDescription,
            Language = normalized.Preferences.Language, SpecJson = TaskJson.Serialize(normalized, indented: false),
            CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        db.TaskTemplates.Add(row);
        await db.SaveChangesAsync(ct);
        return Info(row);
    }

    /// <summary>Copies a project template to the site-wide library (a new template; the project's stays). Site
    /// administrators only, and only from a project they can see.</summary>
    public async Task<TemplateInfo> ShareSiteWideAsync(string userId, string projectTemplateId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var isAdmin = await db.UserRoles
            .Where(ur => ur.UserId == userId)
            .Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => r.Name)
            .AnyAsync(n => n == SiteRoles.Admin, ct);
        if (!isAdmin) throw new ForbiddenException("Only site administrators can share templates with everyone.");
        if (!TryParseId(projectTemplateId, "project", out var id)) throw NotFound(projectTemplateId);
        var source = await db.TaskTemplates.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id && t.ProjectId != null, ct)
            ?? throw NotFound(projectTemplateId);
        await access.RequireAsync(source.ProjectId!.Value, userId, ProjectRole.Viewer, ct);
        var copy = new TaskTemplate
        {
            Id = Guid.NewGuid(), ProjectId = null, Name = source.Name, Description = source.Description, Language = source.Language,
            SpecJson = source.SpecJson, CreatedAt = time.GetUtcNow(), CreatedById = userId,
        };
        db.TaskTemplates.Add(copy);
        await db.SaveChangesAsync(ct);
        return Info(copy);
    }

    /// <summary>The names of all <c>{placeholders}</c> in the spec's strings, in order of first appearance.</summary>
    public static IReadOnlyList<string> FindVariables(TaskSpec spec)
    {
        var names = new List<string>();
        Fill(spec, name =>
        {
            if (!names.Contains(name, StringComparer.Ordinal)) names.Add(name);
            return "{" + name + "}";
        });
        return names;
    }

    /// <summary>Replaces every placeholder in every string of the spec (one pass: a value containing braces is not
    /// expanded again).</summary>
    public static TaskSpec Fill(TaskSpec spec, Func<string, string> value)
    {
        string F(string s) => Placeholder().Replace(s, m => value(m.Groups[1].Value));
        string? FN(string? s) => s is null ? null : F(s);
        IReadOnlyList<string> FL(IReadOnlyList<string> list) => list.Select(F).ToArray();
        return spec with
        {
            Name = F(spec.Name),
            Instruction = F(spec.Instruction),
            Labels = spec.Labels.Select(l => l with
            {
                Name = F(l.Name), Description = F(l.Description), Examples = FL(l.Examples), CounterExamples = FL(l.CounterExamples),
            }).ToArray(),
            Preferences = spec.Preferences with
            {
                Tone = FN(spec.Preferences.Tone), Domain = FN(spec.Preferences.Domain), Notes = FN(spec.Preferences.Notes),
                Include = FL(spec.Preferences.Include), Avoid = FL(spec.Preferences.Avoid),
            },
        };
    }

    private async Task<(TemplateInfo Info, TaskSpec Spec)> FindAsync(Guid projectId, string templateId, CancellationToken ct)
    {
        if (templateId?.StartsWith("builtin:", StringComparison.Ordinal) == true)
        {
            var builtIn = BuiltIns.FirstOrDefault(b => b.Info.Id == templateId) ?? throw NotFound(templateId);
            return (builtIn.Info, builtIn.Spec);
        }
        Guid id;
        var site = TryParseId(templateId, "site", out id);
        if (!site && !TryParseId(templateId, "project", out id)) throw NotFound(templateId);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.TaskTemplates.AsNoTracking().SingleOrDefaultAsync(t => t.Id == id, ct);
        if (row is null || (site != (row.ProjectId is null))) throw NotFound(templateId);
        if (row.ProjectId is { } owner && owner != projectId)
            throw new ForbiddenException("That template belongs to another project.");
        return (Info(row), TaskJson.Parse(row.SpecJson));
    }

    private static bool TryParseId(string? templateId, string scope, out Guid id)
    {
        id = Guid.Empty;
        var prefix = scope + ":";
        return templateId is not null && templateId.StartsWith(prefix, StringComparison.Ordinal) && Guid.TryParse(templateId.AsSpan(prefix.Length), out id);
    }

    private static DomainValidationException NotFound(string? templateId) =>
        new("templateId", "TemplateNotFound", $"There is no template '{templateId}'.", templateId ?? "");

    private static TemplateInfo Info(TaskTemplate row)
    {
        var spec = TaskJson.Parse(row.SpecJson);
        var variables = FindVariables(spec).Select(n => new TemplateVariable(n, n, "")).ToArray();
        return row.ProjectId is null
            ? new TemplateInfo($"site:{row.Id}", row.Name, row.Description, row.Language, CustomCategory, variables, TemplateScope.Site)
            : new TemplateInfo($"project:{row.Id}", row.Name, row.Description, row.Language, CustomCategory, variables, TemplateScope.Project);
    }

    private static bool SameLanguage(string templateLanguage, string? wanted)
    {
        if (string.IsNullOrWhiteSpace(wanted)) return true;
        static string Primary(string s) => s.Trim().Split('-', '_')[0];
        return string.Equals(Primary(templateLanguage), Primary(wanted), StringComparison.OrdinalIgnoreCase);
    }

    // ---- built-ins ----------------------------------------------------------------------------------------------

    /// <summary>One language of a built-in template.</summary>
    public sealed record BuiltInTemplate(TemplateInfo Info, string Slug, TaskSpec Spec);

    private sealed record TemplateFile(
        string Slug,
        string Category,
        Dictionary<string, string> Name,
        Dictionary<string, string> Description,
        List<VariableFile> Variables,
        Dictionary<string, JsonElement> Specs);

    private sealed record VariableFile(string Name, Dictionary<string, string> Label, Dictionary<string, string> Default);

    internal const string ResourcePrefix = "Incubator.Domain.Tasks.Templates.";

    private static IReadOnlyList<BuiltInTemplate> LoadBuiltIns()
    {
        var assembly = typeof(TemplateLibrary).Assembly;
        var result = new List<BuiltInTemplate>();
        foreach (var resource in assembly.GetManifestResourceNames().Where(n => n.StartsWith(ResourcePrefix, StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
            result.AddRange(ReadTemplateFile(assembly, resource));
        return result;
    }

    private static IEnumerable<BuiltInTemplate> ReadTemplateFile(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        var file = JsonSerializer.Deserialize<TemplateFile>(stream, new JsonSerializerOptions(JsonSerializerDefaults.Web) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow })
            ?? throw new InvalidOperationException($"Template resource {resource} is empty.");
        foreach (var (language, element) in file.Specs)
        {
            TaskSpec spec;
            try
            {
                spec = TaskJson.Parse(element.GetRawText());
            }
            catch (DomainValidationException ex)
            {
                throw new InvalidOperationException($"Built-in template {file.Slug} ({language}) is not valid task JSON: {ex.Message}", ex);
            }
            var variables = FindVariables(spec).Select(n =>
            {
                var declared = file.Variables.FirstOrDefault(v => v.Name == n);
                return new TemplateVariable(n, declared?.Label.GetValueOrDefault(language) ?? n, declared?.Default.GetValueOrDefault(language) ?? "");
            }).ToArray();
            var info = new TemplateInfo($"builtin:{file.Slug}:{language}", file.Name[language], file.Description[language], language,
                file.Category, variables, TemplateScope.BuiltIn);
            yield return new BuiltInTemplate(info, file.Slug, spec);
        }
    }
}
