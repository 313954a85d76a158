using Incubator.Domain.Review;
using System.Collections.Concurrent;
using Incubator.Domain.Llm;

namespace Incubator.Domain.Generation;

/// <summary>Keeps a run in memory: the CLI's store (it writes a TSV at the end) and the benchmarks'.</summary>
public sealed class MemoryGenerationStore : IGenerationStore
{
    private readonly object _lock = new();
    private readonly List<MemoryCandidate> _candidates = [];
    private readonly List<(RejectedPiece Piece, int Round)> _rejected = [];
    private long _input;
    private long _output;
    private decimal _cost;
    private int _calls;
    private int _failedCalls;

    public sealed class MemoryCandidate
    {
        public Guid Id { get; init; }
        public string Label { get; init; } = "";
        public string Text { get; init; } = "";
        public int Round { get; init; }
        public CandidateStage Stage { get; set; }
        public bool Ambiguous { get; set; }
        public int SpreadRank { get; set; }
    }

    public IReadOnlyList<MemoryCandidate> Candidates
    {
        get { lock (_lock) return _candidates.ToList(); }
    }

    public IReadOnlyList<(RejectedPiece Piece, int Round)> Rejected
    {
        get { lock (_lock) return _rejected.ToList(); }
    }

    /// <summary>How the run ended (null until it did).</summary>
    public RunEnd? End { get; private set; }

    public string? StopReason => End?.Note?.Message;

    /// <summary>Samples that arrived for labels already full (not kept).</summary>
    public int Surplus { get; private set; }

    public IReadOnlyList<RoundStats> Rounds => _rounds;

    private readonly List<RoundStats> _rounds = [];

    public Task<GenerationState> LoadAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            var known = _candidates.Select(c => new KnownSample(c.Id, c.Label, c.Text, c.Stage, c.Round, true)).ToList();
            return Task.FromResult(new GenerationState(0, known, [], null, _input, _output, _cost, _calls) { FailedCalls = _failedCalls });
        }
    }

    public Task<Guid> AddCandidateAsync(string label, string text, string normalizedText, int round, bool ambiguous, CancellationToken ct)
    {
        var c = new MemoryCandidate { Id = Guid.NewGuid(), Label = label, Text = text, Round = round, Stage = CandidateStage.Pool, Ambiguous = ambiguous };
        lock (_lock) _candidates.Add(c);
        return Task.FromResult(c.Id);
    }

    public Task AddRejectedAsync(RejectedPiece piece, int round, CancellationToken ct)
    {
        lock (_lock) _rejected.Add((piece, round));
        return Task.CompletedTask;
    }

    public Task MarkAmbiguousAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        lock (_lock)
            foreach (var c in _candidates.Where(c => ids.Contains(c.Id))) c.Ambiguous = true;
        return Task.CompletedTask;
    }

    public Task<(long InputTokens, long OutputTokens, decimal Cost)> RecordCallAsync(LlmUsage usage, decimal cost, bool failed, int surplus, CancellationToken ct)
    {
        lock (_lock)
        {
            _calls++;
            if (failed) _failedCalls++;
            Surplus += surplus;
            _input += usage.InputTokens;
            _output += usage.OutputTokens;
            _cost += cost;
            return Task.FromResult((_input, _output, _cost));
        }
    }

    public Task CompleteSelectionAsync(string label, DiversitySelectionIds selection, RoundStats stats, CancellationToken ct)
    {
        lock (_lock)
        {
            var reserve = selection.Reserve.ToHashSet();
            var rank = _candidates.Where(c => c.Label == label && c.Stage == CandidateStage.Selected).Select(c => c.SpreadRank + 1).DefaultIfEmpty(0).Max();
            var order = selection.Selected.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i);
            foreach (var c in _candidates)
            {
                if (order.TryGetValue(c.Id, out var i))
                {
                    c.Stage = CandidateStage.Selected;
                    c.SpreadRank = rank + i;
                }
                else if (reserve.Contains(c.Id))
                {
                    c.Stage = CandidateStage.Reserve;
                }
            }
            _rounds.Add(stats);
        }
        return Task.CompletedTask;
    }

    public Task FinishAsync(RunEnd end, CancellationToken ct)
    {
        End = end;
        return Task.CompletedTask;
    }
}
