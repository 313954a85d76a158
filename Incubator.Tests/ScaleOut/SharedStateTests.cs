using Incubator.Domain.Common;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Incubator.Web.Extensions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace Incubator.Tests.ScaleOut;

/// <summary>What instances share: live events over a real Redis, review presence in the database.</summary>
public sealed class SharedStateTests
{
    private sealed class Instance : IAsyncDisposable
    {
        private readonly ConnectionMultiplexer _redis;
        private readonly InstanceEventRelay _relay;

        private Instance(string name, ConnectionMultiplexer redis, InProcessRunEvents bus, InstanceEventRelay relay)
        {
            Name = name;
            _redis = redis;
            Bus = bus;
            _relay = relay;
        }

        public string Name { get; }

        public InProcessRunEvents Bus { get; }

        public static async Task<Instance> StartAsync(string name, string prefix)
        {
            var server = await TestServers.RedisAsync();
            var redis = await ConnectionMultiplexer.ConnectAsync(server.Configuration);
            var bus = new InProcessRunEvents(NullLogger<InProcessRunEvents>.Instance);
            var channel = new RedisMessageChannel(redis, Options.Create(new RedisOptions { Configuration = server.Configuration, ChannelPrefix = prefix }));
            var relay = new InstanceEventRelay(bus, channel, new InstanceName(name), NullLogger<InstanceEventRelay>.Instance);
            await relay.StartAsync(CancellationToken.None);
            return new Instance(name, redis, bus, relay);
        }

        public async ValueTask DisposeAsync()
        {
            await _relay.DisposeAsync();
            await _redis.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_event_published_on_one_instance_reaches_the_others_subscribers_once_in_order_but_not_their_hub_relay()
    {
        var prefix = $"test-{Guid.NewGuid():N}";
        await using var a = await Instance.StartAsync("instance-a", prefix);
        await using var b = await Instance.StartAsync("instance-b", prefix);
        var project = Guid.NewGuid();
        using var onA = new EventSink(a.Bus, project);
        using var onB = new EventSink(b.Bus, project);
        var hubOnB = new List<RunEvent>();
        using var localOnB = b.Bus.SubscribeLocal(e =>
        {
            lock (hubOnB) hubOnB.Add(e);
            return Task.CompletedTask;
        });
        var run = Guid.NewGuid();
        var samples = Enumerable.Range(0, 50).Select(i => new SampleAccepted(project, run, Guid.NewGuid(), i % 2 == 0 ? "refund" : "delivery", $"text {i}", 1, i == 7))
            .ToList();

        foreach (var s in samples) await a.Bus.PublishAsync(s);
        await a.Bus.PublishAsync(new JobChanged(project, Guid.NewGuid(), "generation.run", "Generate", JobState.Succeeded, 1, "done", null, DateTimeOffset.UtcNow));
        await onB.WaitForAsync<JobChanged>(_ => true);

        // B's page subscription got every sample, equal field by field and in A's order, then the job's end.
        Assert.Equal(samples, onB.Of<SampleAccepted>());
        Assert.Equal(JobState.Succeeded, Assert.Single(onB.Of<JobChanged>()).State);
        // A heard its own events once (its relay ignores its own echo), and B's hub relay none (the backplane's job).
        await onA.SettledAsync();
        Assert.Equal(samples, onA.Of<SampleAccepted>());
        lock (hubOnB) Assert.Empty(hubOnB);
        // Another project's subscriber on B hears nothing of it.
        using var other = new EventSink(b.Bus, Guid.NewGuid());
        await a.Bus.PublishAsync(new ProjectChanged(project, "renamed"));
        await onB.WaitForAsync<ProjectChanged>(p => p.What == "renamed");
        await other.SettledAsync();
        Assert.Empty(other.Events);
    }

    [Theory]
    [MemberData(nameof(TestServers.Providers), MemberType = typeof(TestServers))]
    public async Task Review_presence_joined_on_one_instance_shows_on_another_and_a_dead_instances_rows_expire(DatabaseProvider provider)
    {
        using var folder = new TempFolder("incubator-presence");
        void Review(IServiceCollection s) => s.AddIncubatorReview(JobTestHost.NoSettings);
        await using var a = await JobTestHost.CreateAsync(folder.Path, "a", Review, new Dictionary<string, string?> { ["Instance:Name"] = "instance-a" }, provider: provider);
        var shared = new Dictionary<string, string?>(a.DatabaseSettings) { ["Instance:Name"] = "instance-b" };
        await using var b = await JobTestHost.CreateAsync(folder.Path, "b", Review, shared, migrate: false);
        var projectId = await a.CreateProjectAsync();
        var taskId = Guid.NewGuid();
        await using (var db = await a.Db.CreateDbContextAsync())
        {
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = "t", CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            // A page held by an instance that died three minutes ago.
            db.ReviewPresence.Add(new ReviewPresenceEntry
            {
                Id = Guid.NewGuid(), ProjectId = projectId, TaskId = taskId, Display = "Ghost", Instance = "instance-dead", ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(-1),
            });
            await db.SaveChangesAsync();
        }
        var alice = await a.CreateUserAsync(projectId, ProjectRole.Reviewer, "alice");
        var bob = await a.CreateUserAsync(projectId, ProjectRole.Viewer, "bob");
        var presenceA = a.Services.GetRequiredService<ReviewPresence>();
        var presenceB = b.Services.GetRequiredService<ReviewPresence>();
        using var heardOnB = new EventSink(b.Services.GetRequiredService<IRunEvents>(), projectId);

        await using (await presenceA.JoinAsync(alice, projectId, taskId, "Alice"))
        {
            await using var bobsPage = await presenceB.JoinAsync(bob, projectId, taskId, "Bob");
            Assert.Equal(["Alice", "Bob"], await presenceB.WhoAsync(bob, taskId));
            Assert.Equal(["Alice", "Bob"], await presenceA.WhoAsync(alice, taskId));

            // Renewing on B keeps B's page and A's, and removes the dead instance's row for good.
            await presenceB.RenewAsync();
            await using (var db = await a.Db.CreateDbContextAsync())
                Assert.Equal(["instance-a", "instance-b"], (await db.ReviewPresence.AsNoTracking().Select(p => p.Instance).ToListAsync()).Order());
            await heardOnB.WaitForAsync<PresenceChanged>(p => p.TaskId == taskId);
        }

        Assert.Empty(await presenceB.WhoAsync(bob, taskId));
    }
}
