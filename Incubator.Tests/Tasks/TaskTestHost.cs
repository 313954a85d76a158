using Incubator.Domain.Common.Events;
using System.Collections.Concurrent;
using Incubator.Domain.Accounts;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Incubator.Tests.Tasks;

/// <summary>Tasks and templates as the portal composes them (data, projects, events, tasks) on a SQLite file in a
/// temporary data folder, recording every published event.</summary>
internal sealed class TaskTestHost : IAsyncDisposable
{
    private readonly TempFolder _folder;

    private TaskTestHost(ServiceProvider services, TempFolder folder)
    {
        Services = services;
        _folder = folder;
        Events = new EventSink(services.GetRequiredService<IRunEvents>());
    }

    public ServiceProvider Services { get; }

    /// <summary>Every event published in this host.</summary>
    public EventSink Events { get; }

    public IDbContextFactory<IncubatorDbContext> Db => Services.GetRequiredService<IDbContextFactory<IncubatorDbContext>>();

    public TaskService Tasks => Services.GetRequiredService<TaskService>();

    public TemplateLibrary Templates => Services.GetRequiredService<TemplateLibrary>();

    public static async Task<TaskTestHost> CreateAsync()
    {
        var folder = new TempFolder("incubator-tasks");
        var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Incubator:DataDirectory"] = folder.Path,
        }).Build();
        var services = new ServiceCollection()
            .AddLogging(b => b.SetMinimumLevel(LogLevel.Warning))
            .AddIncubatorData(config)
            .AddIncubatorProjects()
            .AddIncubatorJobs(config, runWorker: false)
            .AddIncubatorTasks();
        var sp = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true, ValidateScopes = true });
        await sp.GetRequiredService<DatabaseMigrator>().MigrateAsync();
        return new TaskTestHost(sp, folder);
    }

    public async ValueTask DisposeAsync()
    {
        Events.Dispose();
        await Services.DisposeAsync();
        _folder.Dispose();
    }

    public async Task<Guid> CreateProjectAsync(string name = "tasks test", bool archived = false)
    {
        var id = Guid.NewGuid();
        await using var db = await Db.CreateDbContextAsync();
        db.Projects.Add(new Project { Id = id, Name = name, IsArchived = archived, CreatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    /// <summary>An account, optionally a member of <paramref name="projectId"/> with <paramref name="role"/>.</summary>
    public async Task<string> CreateUserAsync(Guid projectId, ProjectRole? role, string label = "user")
    {
        var id = Guid.NewGuid().ToString();
        var email = $"{label}-{id[..8]}@example.test";
        await using var db = await Db.CreateDbContextAsync();
        db.Users.Add(new AppUser
        {
            Id = id, UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email,
            NormalizedEmail = email.ToUpperInvariant(), DisplayName = label, CreatedAt = DateTimeOffset.UtcNow,
        });
        if (role is { } r)
            db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = id, Role = r, AddedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    public async Task AddMemberAsync(Guid projectId, string userId, ProjectRole role)
    {
        await using var db = await Db.CreateDbContextAsync();
        db.ProjectMembers.Add(new ProjectMember { ProjectId = projectId, UserId = userId, Role = role, AddedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
    }

    public async Task MakeSiteAdminAsync(string userId)
    {
        await using var db = await Db.CreateDbContextAsync();
        var role = await db.Roles.SingleOrDefaultAsync(r => r.Name == SiteRoles.Admin);
        if (role is null)
        {
            role = new IdentityRole(SiteRoles.Admin) { NormalizedName = SiteRoles.Admin.ToUpperInvariant() };
            db.Roles.Add(role);
        }
        db.UserRoles.Add(new IdentityUserRole<string> { UserId = userId, RoleId = role.Id });
        await db.SaveChangesAsync();
    }

    public async Task<T> QueryAsync<T>(Func<IncubatorDbContext, Task<T>> query)
    {
        await using var db = await Db.CreateDbContextAsync();
        return await query(db);
    }

    public Task<(int Tasks, int Versions, int Activity)> CountRowsAsync() =>
        QueryAsync(async db => (await db.Tasks.CountAsync(), await db.TaskVersions.CountAsync(), await db.Activity.CountAsync()));
}
