using System.Collections.Concurrent;
using System.Text.Json;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Projects;
using Incubator.Tests.Jobs;
using Incubator.Web.Hubs;
using Microsoft.AspNetCore.SignalR;

namespace Incubator.Tests.Integration;

/// <summary>The event list is declared once, by the records: every event type in the domain is catalogued, relayed to
/// hub clients under its name, documented, and round-trips through the polymorphic JSON form.</summary>
public sealed class RunEventCatalogTests
{
    /// <summary>Found independently of the catalogue: every concrete RunEvent subclass in the domain assembly.</summary>
    private static readonly Type[] EventTypes = typeof(RunEvent).Assembly.GetTypes()
        .Where(t => typeof(RunEvent).IsAssignableFrom(t) && t != typeof(RunEvent) && !t.IsAbstract).OrderBy(t => t.Name).ToArray();

    public static TheoryData<string> EventNames() => [.. EventTypes.Select(t => t.Name)];

    /// <summary>An instance of the event with every argument filled (ProjectId given; other ids and texts non-empty).</summary>
    private static RunEvent Instance(Type type, Guid projectId)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
        var args = ctor.GetParameters().Select(p => p.Name == "ProjectId" ? projectId : Value(p.ParameterType)).ToArray();
        return (RunEvent)ctor.Invoke(args);

        static object? Value(Type t) =>
            t == typeof(Guid) ? Guid.NewGuid()
            : t == typeof(string) ? "x"
            : t == typeof(DateTimeOffset) ? DateTimeOffset.UnixEpoch
            : t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>) ? new Dictionary<string, int> { ["a"] = 1 }
            : Nullable.GetUnderlyingType(t) is { } inner ? Value(inner)
            : t.IsValueType ? Activator.CreateInstance(t)
            : null;
    }

    [Fact]
    public void Every_event_type_in_the_domain_is_in_the_catalogue_under_its_own_name()
    {
        Assert.NotEmpty(EventTypes);
        Assert.Equal(EventTypes.Select(t => (t.Name, t)), RunEventCatalog.All.Select(k => (k.Name, k.Type)));
        Assert.Equal(EventTypes.Select(t => t.Name), ProjectsHub.ClientMethods);
        Assert.Contains(nameof(AssignmentChanged), ProjectsHub.ClientMethods);
        Assert.Contains(nameof(PresenceChanged), ProjectsHub.ClientMethods);
    }

    [Theory]
    [MemberData(nameof(EventNames))]
    public async Task The_hub_relay_sends_each_event_to_its_projects_group_under_the_events_name(string name)
    {
        var hub = new RecordingHubContext();
        // No connection of this instance joined the project, so nobody is left out and nothing is read.
        var relay = new HubEventRelay(new InProcessRunEvents(new CapturingLogger<InProcessRunEvents>()), hub,
            new HubMembership(new ProjectAccess(null!), TimeProvider.System), new CapturingLogger<HubEventRelay>());
        var projectId = Guid.NewGuid();
        var e = Instance(EventTypes.Single(t => t.Name == name), projectId);

        await relay.RelayAsync(e);

        var sent = Assert.Single(hub.Sent);
        Assert.Equal((ProjectsHub.Group(projectId), name), (sent.Group, sent.Method));
        Assert.Same(e, Assert.Single(sent.Args));
    }

    [Theory]
    [MemberData(nameof(EventNames))]
    public void Each_event_round_trips_through_json_with_its_name_as_the_type(string name)
    {
        var e = Instance(EventTypes.Single(t => t.Name == name), Guid.NewGuid());

        var json = JsonSerializer.Serialize(e, RunEventCatalog.JsonOptions);
        var back = JsonSerializer.Deserialize<RunEvent>(json, RunEventCatalog.JsonOptions);

        Assert.Equal(name, JsonDocument.Parse(json).RootElement.GetProperty("type").GetString());
        Assert.IsType(e.GetType(), back);
        Assert.Equal(JsonSerializer.Serialize((object)e, RunEventCatalog.JsonOptions), JsonSerializer.Serialize((object)back!, RunEventCatalog.JsonOptions));
    }

    [Fact]
    public void The_readme_names_every_hub_method()
    {
        var readme = File.ReadAllText(Path.Combine(Infrastructure.Repo.Root, "README.md"));
        var hubSection = readme[readme.IndexOf("SignalR hub `/hubs/projects`", StringComparison.Ordinal)..];

        Assert.All(ProjectsHub.ClientMethods, m => Assert.Contains($"`{m}`", hubSection));
    }

    private sealed class RecordingHubContext : IHubContext<ProjectsHub>
    {
        public ConcurrentQueue<(string Group, string Method, object?[] Args)> Sent { get; } = new();

        public IHubClients Clients => new GroupsOnly(this);

        public IGroupManager Groups => throw new NotSupportedException();

        private sealed class GroupsOnly(RecordingHubContext owner) : IHubClients
        {
            public IClientProxy Group(string groupName) => new Proxy(owner, groupName);

            public IClientProxy All => throw new NotSupportedException("the relay sends to project groups only");

            public IClientProxy AllExcept(IReadOnlyList<string> excludedConnectionIds) => All;

            public IClientProxy Client(string connectionId) => All;

            public IClientProxy Clients(IReadOnlyList<string> connectionIds) => All;

            public IClientProxy GroupExcept(string groupName, IReadOnlyList<string> excludedConnectionIds) => All;

            public IClientProxy Groups(IReadOnlyList<string> groupNames) => All;

            public IClientProxy User(string userId) => All;

            public IClientProxy Users(IReadOnlyList<string> userIds) => All;
        }

        private sealed class Proxy(RecordingHubContext owner, string group) : IClientProxy
        {
            public Task SendCoreAsync(string method, object?[] args, CancellationToken cancellationToken = default)
            {
                owner.Sent.Enqueue((group, method, args));
                return Task.CompletedTask;
            }
        }
    }
}
