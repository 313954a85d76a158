using Incubator.Domain.Review;
using System.Text.Json;
using Incubator.Domain.Data;
using Incubator.Domain.Llm;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Generation;

/// <summary>A portal run's store: every accepted sample and every rejected piece is a row the moment the engine
/// reports it, and run counters are incremented in SQL, so a crash loses nothing that was shown.</summary>
public sealed class DbGenerationStore(IDbContextFactory<IncubatorDbContext> dbFactory, GenerationRun run, TimeProvider time) : IGenerationStore
{
    /// <summary>Lock scope of one run's counters and rounds (<see cref="DbLocks"/>).</summary>
    private const string RunLock = "generation-run";

    public async Task<GenerationState> LoadAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var fresh = await db.GenerationRuns.AsNoTracking().SingleAsync(r => r.Id == run.Id, ct);
        var known = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == run.TaskId)
            .Select(c => new KnownSample(c.Id, c.Label, c.EditedText ?? c.Text, c.Stage, c.Round, c.RunId == run.Id))
            .ToListAsync(ct);
        // Centres of earlier rounds of this run, side by side per label, as "already have" examples.
        var selected = known.Where(k => k.FromThisRun && k.Stage == CandidateStage.Selected).GroupBy(k => k.Label)
            .ToDictionary(g => g.Key, g => g.Select(k => k.Text).Take(3).ToList());
        var centres = new List<IReadOnlyDictionary<string, string>>();
        for (var i = 0; i < 3; i++)
        {
            var row = selected.Where(s => i < s.Value.Count).ToDictionary(s => s.Key, s => s.Value[i]);
            if (row.Count > 0) centres.Add(row);
        }
        // Reviewer decisions on this task steer the prompt: rejections with their reasons, and corrections.
        var reviewed = await db.Candidates.AsNoTracking()
            .Where(c => c.TaskId == run.TaskId && (c.Status == CandidateStatus.Rejected || c.EditedText != null))
            .OrderByDescending(c => c.CreatedAt).Take(40)
            .Select(c => new { c.Label, c.Text, c.Status, c.ReviewReason, c.EditedText })
            .ToListAsync(ct);
        var feedback = reviewed.Count == 0 ? null : new GenerationFeedback(
            reviewed.Where(r => r.Status == CandidateStatus.Rejected).Select(r => new FeedbackItem(r.Label, r.Text, r.ReviewReason ?? "rejected")).ToList(),
            reviewed.Where(r => r.EditedText != null).Select(r => new FeedbackEdit(r.Label, r.Text, r.EditedText!)).ToList());
        return new GenerationState(fresh.Round, known, centres, feedback, fresh.InputTokens, fresh.OutputTokens, fresh.Cost, fresh.Calls)
        {
            TeamDemonstrations = await TeamDemonstrationsAsync(db, run.ProjectId, run.TaskId, ct),
            FailedCalls = fresh.FailedCalls,
        };
    }

    /// <summary>At most this many team demonstrations are offered to the bank (the most recent task versions first):
    /// each one is embedded once per run, and the prompt shows only the nearest few anyway.</summary>
    public const int MaxTeamDemonstrations = 50;

    /// <summary>Instruction-to-data pairs grown from the project's other tasks: one per task version that has an
    /// approved sample for every one of its labels, holding that version's instruction, its label names in order and,
    /// per label, the most recently created approved sample (the reviewer's edit when there is one). A version with a
    /// label nobody approved yet is left out: a demonstration missing a label would teach the model to skip labels.
    /// Nothing when the project opted out (<see cref="Projects.Project.UseTeamDemonstrations"/>).</summary>
    internal static async Task<IReadOnlyList<Demonstration>> TeamDemonstrationsAsync(IncubatorDbContext db, Guid projectId, Guid taskId, CancellationToken ct)
    {
        var enabled = await db.Projects.AsNoTracking().Where(p => p.Id == projectId).Select(p => p.UseTeamDemonstrations).SingleOrDefaultAsync(ct);
        if (!enabled) return [];
        var approved = await db.Candidates.AsNoTracking()
            .Where(c => c.ProjectId == projectId && c.TaskId != taskId && c.Status == CandidateStatus.Approved)
            .OrderByDescending(c => c.CreatedAt)
            .Select(c => new { c.TaskId, c.TaskVersionNumber, c.Label, Text = c.EditedText ?? c.Text, c.CreatedAt })
            .ToListAsync(ct);
        if (approved.Count == 0) return [];
        // Newest version first, so that when two versions share an instruction the bank keeps the newer one.
        var versions = approved.GroupBy(c => (c.TaskId, c.TaskVersionNumber))
            .OrderByDescending(g => g.Max(c => c.CreatedAt))
            .ToList();
        var taskIds = versions.Select(v => v.Key.TaskId).Distinct().ToList();
        var specs = (await db.TaskVersions.AsNoTracking()
                .Where(v => taskIds.Contains(v.TaskId))
                .Select(v => new { v.TaskId, v.Number, v.SpecJson })
                .ToListAsync(ct))
            .ToDictionary(v => (v.TaskId, v.Number), v => v.SpecJson);
        var result = new List<Demonstration>();
        foreach (var version in versions)
        {
            if (result.Count >= MaxTeamDemonstrations) break;
            if (!specs.TryGetValue(version.Key, out var json)) continue;
            Tasks.TaskSpec spec;
            try
            {
                spec = Tasks.TaskJson.Parse(json);
            }
            catch (Common.DomainValidationException)
            {
                continue; // a stored version that no longer parses is skipped, not fatal to the run
            }
            var labels = (spec.Labels ?? []).Select(l => l.Name).Where(n => !string.IsNullOrWhiteSpace(n)).Distinct(StringComparer.Ordinal).ToList();
            if (labels.Count < 2 || string.IsNullOrWhiteSpace(spec.Instruction)) continue;
            // approved is newest first, so the first sample met per label is the most recent.
            var samples = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var c in version)
                if (labels.Contains(c.Label) && !string.IsNullOrWhiteSpace(c.Text)) samples.TryAdd(c.Label, c.Text);
            if (samples.Count != labels.Count) continue;
            result.Add(new Demonstration(spec.Instruction, labels.AsReadOnly(),
                labels.ToDictionary(l => l, l => samples[l], StringComparer.Ordinal).AsReadOnly(),
                spec.Preferences?.Language ?? "en"));
        }
        return result;
    }

    public async Task<Guid> AddCandidateAsync(string label, string text, string normalizedText, int round, bool ambiguous, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = new Candidate
        {
            Id = Guid.NewGuid(), ProjectId = run.ProjectId, TaskId = run.TaskId, TaskVersionNumber = run.TaskVersionNumber, RunId = run.Id,
            Label = label, Text = text, NormalizedText = normalizedText, Source = CandidateSource.Generation, Stage = CandidateStage.Pool,
            Status = CandidateStatus.Pending, IsAmbiguous = ambiguous, Round = round, CreatedAt = time.GetUtcNow(),
        };
        db.Candidates.Add(c);
        await db.SaveChangesAsync(ct);
        return c.Id;
    }

    public async Task AddRejectedAsync(RejectedPiece piece, int round, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.RejectedSamples.Add(new RejectedSample
        {
            RunId = run.Id, ProjectId = run.ProjectId, Label = piece.Label, Text = Truncate(piece.Text, Common.InputLimits.SampleText), Reason = piece.Reason,
            Detail = Truncate(piece.Detail, 1000), DetailNote = NoteJson(piece.Note), Round = round, CreatedAt = time.GetUtcNow(),
        });
        await db.SaveChangesAsync(ct);
    }

    public async Task MarkAmbiguousAsync(IReadOnlyCollection<Guid> ids, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Candidates.Where(c => ids.Contains(c.Id)).ExecuteUpdateAsync(s => s.SetProperty(c => c.IsAmbiguous, true), ct);
    }

    public async Task<(long InputTokens, long OutputTokens, decimal Cost)> RecordCallAsync(LlmUsage usage, decimal cost, bool failed, int surplus, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var failedIncrement = failed ? 1 : 0;
        var estimated = usage.Estimated;
        // SQLite stores decimals as text, so the money total is read, added and written under the row's own
        // transaction (and, on PostgreSQL, the run's lock: concurrent calls must not lose an increment) rather than
        // incremented in SQL.
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockAsync(RunLock, run.Id, ct);
        var row = await db.GenerationRuns.SingleAsync(r => r.Id == run.Id, ct);
        row.InputTokens += usage.InputTokens;
        row.OutputTokens += usage.OutputTokens;
        row.Cost += cost;
        row.Calls += 1;
        row.FailedCalls += failedIncrement;
        row.Surplus += surplus;
        row.TokensEstimated |= estimated;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return (row.InputTokens, row.OutputTokens, row.Cost);
    }

    public async Task CompleteSelectionAsync(string label, DiversitySelectionIds selection, RoundStats stats, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.LockAsync(RunLock, run.Id, ct);
        // Ranks continue after what the label's main view already holds (earlier runs, mining, top-ups), in the order
        // the selection made: the queue's default order spreads them over the labels.
        var start = await db.Candidates.Where(c => c.TaskId == run.TaskId && c.Label == label && c.Stage == CandidateStage.Selected)
            .MaxAsync(c => (int?)c.SpreadRank, ct) is { } max ? max + 1 : 0;
        for (var i = 0; i < selection.Selected.Count; i++)
        {
            var (id, rank) = (selection.Selected[i], start + i);
            await db.Candidates.Where(c => c.Id == id)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Stage, CandidateStage.Selected).SetProperty(c => c.SpreadRank, rank), ct);
        }
        var reserve = selection.Reserve.ToList();
        await db.Candidates.Where(c => reserve.Contains(c.Id)).ExecuteUpdateAsync(s => s.SetProperty(c => c.Stage, CandidateStage.Reserve), ct);
        var row = await db.GenerationRuns.SingleAsync(r => r.Id == run.Id, ct);
        var history = string.IsNullOrEmpty(row.DiversityJson) ? [] : JsonSerializer.Deserialize<List<RoundStats>>(row.DiversityJson, Json) ?? [];
        history.Add(stats);
        row.DiversityJson = JsonSerializer.Serialize(history, Json);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    public async Task FinishAsync(RunEnd end, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var reason = end.Note?.Message is { } m ? Truncate(m, 1000) : null;
        var shortfalls = end.Shortfalls.Count == 0 ? null : JsonSerializer.Serialize(end.Shortfalls, Json);
        await db.GenerationRuns.Where(x => x.Id == run.Id).ExecuteUpdateAsync(s => s
            .SetProperty(x => x.Outcome, end.Outcome)
            .SetProperty(x => x.StopReason, reason)
            .SetProperty(x => x.ShortfallJson, shortfalls), ct);
    }

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];

    /// <summary>A note too long for its column (say, a very long unknown key) is not kept; its English detail is.</summary>
    private static string? NoteJson(Jobs.JobNote? note) => note?.ToJson() is { Length: <= 2000 } json ? json : null;
}
