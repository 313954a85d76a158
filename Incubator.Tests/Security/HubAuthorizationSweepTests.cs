using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Integration;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Security;

/// <summary>Every public method of <see cref="ProjectsHub"/>, enumerated by reflection, called over a real SignalR
/// connection by a signed-in outsider with the ids of a project they are not a member of. A method the table below does
/// not know fails the sweep with its name.</summary>
public sealed class HubAuthorizationSweepTests(HubPortal portal) : IClassFixture<HubPortal>
{
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(60);

    /// <summary>What each hub method must do for a non-member: Refused (a HubException, nothing joined) or Harmless
    /// (it only ever removes the caller's own connection from something).</summary>
    private enum HubRule
    {
        Refused,
        Harmless,
    }

    private static readonly Dictionary<string, HubRule> Methods = new(StringComparer.Ordinal)
    {
        [nameof(ProjectsHub.JoinProject)] = HubRule.Refused,
        [nameof(ProjectsHub.LeaveProject)] = HubRule.Harmless,
    };

    private static IEnumerable<MethodInfo> HubMethods() =>
        typeof(ProjectsHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .Where(m => !m.IsSpecialName && m.GetBaseDefinition().DeclaringType == typeof(ProjectsHub));

    private HubConnection Connect(AuthenticatedClient client) =>
        new HubConnectionBuilder()
            .WithUrl(portal.ServerAddress + ProjectsHub.Path, o => o.Cookies = client.Cookies)
            .AddJsonProtocol(o => o.PayloadSerializerOptions.Converters.Add(new JsonStringEnumConverter()))
            .Build();

    [Fact]
    public void Every_hub_method_is_in_the_table()
    {
        var found = HubMethods().Select(m => m.Name).ToList();
        var unknown = found.Where(n => !Methods.ContainsKey(n)).ToList();
        Assert.True(unknown.Count == 0, "ProjectsHub methods the authorization sweep does not know (add each to HubAuthorizationSweepTests.Methods): "
            + string.Join(", ", unknown));
        Assert.Empty(Methods.Keys.Except(found));
    }

    [Fact]
    public async Task An_outsider_calling_every_hub_method_with_another_projects_id_is_refused_and_receives_none_of_its_events()
    {
        await using var outsider = Connect(portal.Outsider);
        var received = new ConcurrentQueue<(string Method, Guid ProjectId)>();
        var barrier = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        foreach (var name in ProjectsHub.ClientMethods)
        {
            outsider.On(name, [typeof(JsonElement)], (args, _) =>
            {
                var projectId = args[0] is JsonElement e && e.TryGetProperty("projectId", out var p) ? p.GetGuid() : Guid.Empty;
                received.Enqueue((name, projectId));
                if (projectId == portal.OutsidersOwnProjectId) Volatile.Read(ref barrier).TrySetResult();
                return Task.CompletedTask;
            }, new object());
        }
        await outsider.StartAsync();
        await outsider.InvokeAsync(nameof(ProjectsHub.JoinProject), portal.OutsidersOwnProjectId);
        var ownerId = await portal.QueryAsync(db => db.ProjectMembers.Where(m => m.ProjectId == portal.ProjectId && m.Role == ProjectRole.Owner)
            .Select(m => m.UserId).FirstAsync());
        var projects = portal.Services.GetRequiredService<ProjectService>();
        var events = portal.Services.GetRequiredService<IRunEvents>();

        // Events of the other project, then one of the outsider's own project as a barrier: anything of the other project
        // sent to this connection would have arrived before it. After each method on its own (a later method must not
        // undo what an earlier one let in), and once more around a real job's whole life.
        async Task<IEnumerable<string>> LeakedAsync(string after, bool withJob)
        {
            Volatile.Write(ref barrier, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
            await projects.RenameProjectAsync(ownerId, portal.ProjectId, "Live project", "changed after " + after);
            await events.PublishAsync(new AssignmentChanged(portal.ProjectId, Guid.NewGuid()));
            if (withJob)
            {
                using var job = await portal.Owner.Http.PostJsonAsync($"/api/projects/{portal.ProjectId}/jobs/diagnostics", new { steps = 2, delayMs = 0 });
                Assert.Equal(System.Net.HttpStatusCode.Accepted, job.StatusCode);
                await WaitForJobsAsync(portal.ProjectId);
            }
            await projects.RenameProjectAsync(portal.OutsiderId, portal.OutsidersOwnProjectId, "Outsider's own", "barrier after " + after);
            await Volatile.Read(ref barrier).Task.WaitAsync(Guard);
            var leaked = received.Where(r => r.ProjectId != portal.OutsidersOwnProjectId).Select(r => $"after {after}: received {r.Method} of the other project").ToList();
            received.Clear();
            return leaked;
        }

        var problems = new List<string>();
        foreach (var method in HubMethods())
        {
            var args = method.GetParameters().Select(p => p.ParameterType == typeof(Guid)
                ? (object)portal.ProjectId
                : throw new InvalidOperationException($"The hub sweep does not know how to call {method.Name}: parameter {p.Name} of type {p.ParameterType.Name}.")).ToArray();
            Exception? error = null;
            try
            {
                await outsider.InvokeCoreAsync(method.Name, args);
            }
            catch (HubException ex)
            {
                error = ex;
            }
            // A method the table does not know is held to the strictest rule (the table test names it too).
            switch (Methods.GetValueOrDefault(method.Name, HubRule.Refused))
            {
                case HubRule.Refused when error is null:
                    problems.Add($"{method.Name}: accepted from a non-member");
                    break;
                case HubRule.Refused when error.Message.Contains("Live project", StringComparison.Ordinal):
                    problems.Add($"{method.Name}: the refusal names the project");
                    break;
                case HubRule.Harmless when error is not null:
                    problems.Add($"{method.Name}: failed ({error.Message}) where it should do nothing");
                    break;
            }
            problems.AddRange(await LeakedAsync(method.Name, withJob: false));
        }
        problems.AddRange(await LeakedAsync("every method", withJob: true));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private async Task WaitForJobsAsync(Guid projectId)
    {
        for (var i = 0; i < 600; i++)
        {
            var active = await portal.QueryAsync(db => db.Jobs.CountAsync(j => j.ProjectId == projectId
                && (j.State == Incubator.Domain.Jobs.JobState.Queued || j.State == Incubator.Domain.Jobs.JobState.Running)));
            if (active == 0) return;
            await Task.Delay(50);
        }
        throw new TimeoutException("The job did not finish.");
    }
}
