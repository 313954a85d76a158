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
    private int _round;

    public sealed class MemoryCandidate
    {
        public Guid Id { get; init; }
        public string Label { get; init; } = "";
        public string Text { get; init; } = "";
        public int Round { get; init; }
        public CandidateStage Stage { get; set; }
        public bool Ambiguous { get; set; }
    }

    public IReadOnlyList<MemoryCandidate> Candidates
    {
        get { lock (_lock) return _candidates.ToList(); }
    }

    public IReadOnlyList<(RejectedPiece Piece, int Round)> Rejected
    {
        get { lock (_lock) return _rejected.ToList(); }
    }

    public string? StopReason { get; private set; }

    public IReadOnlyList<RoundStats> Rounds => _rounds;

    private readonly List<RoundStats> _rounds = [];

    public Task<GenerationState> LoadAsync(CancellationToken ct)
    {
        lock (_lock)
        {
            var known = _candidates.Select(c => new KnownSample(c.Id, c.Label, c.Text, c.Stage, c.Round, true)).ToList();
            return Task.FromResult(new GenerationState(_round, known, [], null, _input, _output, _cost, 0));
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

    public Task<(long InputTokens, long OutputTokens, decimal Cost)> RecordCallAsync(LlmUsage usage, decimal cost, bool failed, CancellationToken ct)
    {
        lock (_lock)
        {
            _input += usage.InputTokens;
            _output += usage.OutputTokens;
            _cost += cost;
            return Task.FromResult((_input, _output, _cost));
        }
    }

    public Task CompleteRoundAsync(int round, IReadOnlyDictionary<string, DiversitySelectionIds> selection, RoundStats stats, CancellationToken ct)
    {
        lock (_lock)
        {
            var selected = selection.Values.SelectMany(s => s.Selected).ToHashSet();
            var reserve = selection.Values.SelectMany(s => s.Reserve).ToHashSet();
            foreach (var c in _candidates)
            {
                if (selected.Contains(c.Id)) c.Stage = CandidateStage.Selected;
                else if (reserve.Contains(c.Id)) c.Stage = CandidateStage.Reserve;
            }
            _round = round + 1;
            _rounds.Add(stats);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(string reason, CancellationToken ct)
    {
        StopReason = reason;
        return Task.CompletedTask;
    }
}
