using Incubator.Domain.Common.Events;
using Incubator.Domain.Generation;
using Microsoft.Extensions.Logging.Abstractions;

namespace Incubator.Domain.Benchmarks;

/// <summary>Does a slow watcher slow generation? Accepted samples per second through the engine (zero-latency
/// <see cref="InProcessFakeLlm"/>, memory store, char n-grams) publishing every sample, rejection and progress report to
/// an <see cref="InProcessRunEvents"/>, with 0 (the baseline), 1 and 5 subscribers that each take 50 ms per event — a
/// browser tab far slower than any real one. The three configurations are measured in turns, three times each, and the
/// median is reported, so machine load hits all of them alike. Aim: 5 slow subscribers ≥ 0.9× the baseline.</summary>
internal sealed class EventSubscribersBenchmark : IBenchmark
{
    private const int PerLabel = 100;
    private const double Oversample = 2;
    private const int Concurrency = 4;
    private const int Repeats = 3;
    private static readonly TimeSpan PerEvent = TimeSpan.FromMilliseconds(50);
    private static readonly int[] SubscriberCounts = [0, 1, 5];

    public string Name => "generation.slow-subscribers";

    public string Description => $"engine samples/s with 0, 1 and 5 live-event subscribers taking {PerEvent.TotalMilliseconds:0} ms per event ({GenerationBench.SupportLabels.Length} labels × {PerLabel})";

    public async Task<IReadOnlyList<BenchmarkRow>> RunAsync(CancellationToken ct)
    {
        var engine = GenerationBench.NgramEngine();
        var spec = GenerationBench.SupportSpec();
        var settings = new GenerationSettings(PerLabel, Oversample, Concurrency);

        async Task<Measurement> MeasureAsync(int subscribers, int perLabel, int seed)
        {
            var events = new InProcessRunEvents(NullLogger<InProcessRunEvents>.Instance);
            var projectId = Guid.NewGuid();
            var handled = new int[subscribers];
            var subscriptions = Enumerable.Range(0, subscribers).Select(i => events.Subscribe(projectId, async _ =>
            {
                await Task.Delay(PerEvent, ct);
                Interlocked.Increment(ref handled[i]);
            })).ToList();
            var observer = new PublishingObserver(events, projectId, Guid.NewGuid());
            try
            {
                var summary = await engine.RunAsync(spec, new InProcessFakeLlm(GenerationBench.SupportLabels, seed: seed), GenerationBench.Profile,
                    settings with { PerLabel = perLabel }, new MemoryGenerationStore(), observer, ct);
                return new Measurement(summary.Accepted / summary.Elapsed.TotalSeconds, summary.Accepted, observer.Published,
                    handled.Length == 0 ? 0 : handled.Min(), summary.Elapsed);
            }
            finally
            {
                foreach (var s in subscriptions) s.Dispose();
            }
        }

        // Warm-up (JIT, the demonstration bank's vectors), not measured.
        foreach (var n in SubscriberCounts) await MeasureAsync(n, 5, 99);

        var results = SubscriberCounts.ToDictionary(n => n, _ => new List<Measurement>());
        for (var r = 0; r < Repeats; r++)
            foreach (var n in SubscriberCounts)
                results[n].Add(await MeasureAsync(n, PerLabel, 1));

        var median = results.ToDictionary(x => x.Key, x => x.Value.OrderBy(m => m.Rate).ElementAt(Repeats / 2));
        var baseline = median[0].Rate;
        return SubscriberCounts.Select(n =>
        {
            var m = median[n];
            var note = $"median of {Repeats}; {m.Accepted} accepted, {m.Published} events published in {m.Elapsed.TotalSeconds:0.00} s";
            return n == 0
                ? new BenchmarkRow(Name, "accepted samples/s, no subscriber", m.Rate, "samples/s", Note: note + GenerationBench.BuildNote())
                : new BenchmarkRow(Name, $"accepted samples/s, {n} subscriber{(n == 1 ? "" : "s")} at {PerEvent.TotalMilliseconds:0} ms/event", m.Rate,
                    "samples/s", baseline,
                    $"baseline: no subscriber; {note}; the slowest subscriber had handled {m.SlowestHandled} of them by the end (the rest coalesced, "
                    + $"dropped beyond its {InProcessRunEvents.DefaultCapacity}-event buffer, or still waiting); aim ratio ≥ 0.9");
        }).ToList();
    }

    private sealed record Measurement(double Rate, int Accepted, int Published, int SlowestHandled, TimeSpan Elapsed);
}
