using Incubator.Domain.Data;
using Incubator.Domain.Jobs;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Domain.Mining;

/// <summary>Active learning: trains <see cref="QuickModel"/> on the task's approved samples and stores every pending
/// candidate's uncertainty that can reach the queue (selected or reserve), so the review queue can put the most uncertain first.</summary>
public sealed class RescoreJob(IDbContextFactory<IncubatorDbContext> dbFactory, CorpusEmbedders embedders) : IJobHandler
{
    public const string KindName = "mining.rescore";

    public sealed record Payload(Guid TaskId);

    public string Kind => KindName;

    public async Task RunAsync(JobContext context)
    {
        var ct = context.CancellationToken;
        var taskId = context.ReadPayload<Payload>().TaskId;
        TaskSpec spec;
        Dictionary<string, List<string>> approved;
        List<(Guid Id, string Text)> pending;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var task = await db.Tasks.AsNoTracking().SingleAsync(t => t.Id == taskId, ct);
            var version = await db.TaskVersions.AsNoTracking().SingleAsync(v => v.TaskId == taskId && v.Number == task.CurrentVersion, ct);
            spec = TaskJson.Parse(version.SpecJson);
            approved = (await db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId && c.Status == CandidateStatus.Approved)
                    .Select(c => new { c.Label, Text = c.EditedText ?? c.Text }).ToListAsync(ct))
                .GroupBy(c => c.Label).ToDictionary(g => g.Key, g => g.Select(c => c.Text).Take(1000).ToList());
            // Selected candidates and the reserve that can top the queue up; a generation's pool never reaches it.
            pending = (await db.Candidates.AsNoTracking().Where(c => c.TaskId == taskId && c.Status == CandidateStatus.Pending && c.Stage != CandidateStage.Pool)
                .Select(c => new { c.Id, Text = c.EditedText ?? c.Text }).ToListAsync(ct)).Select(c => (c.Id, c.Text)).ToList();
        }
        var embedder = embedders.ForLanguage(spec.Preferences.Language);
        var model = QuickModel.Train(approved.ToDictionary(a => a.Key, a => (IReadOnlyList<float[]>)embedder.Embed(a.Value)))
            ?? throw new InvalidOperationException($"Too few approved samples: at least {QuickModel.MinPerLabel} in each of two labels are needed.");
        await context.LogAsync(ProgressNotes.RescoreStarted(embedder.Name, approved.Values.Sum(a => a.Count), model.Labels.Count, pending.Count));
        var done = 0;
        foreach (var chunk in pending.Chunk(256))
        {
            ct.ThrowIfCancellationRequested();
            var vectors = embedder.Embed(chunk.Select(c => c.Text).ToArray());
            var scores = chunk.Select((c, i) => (c.Id, model.Predict(vectors[i]).Uncertainty)).ToArray();
            done += chunk.Length;
            await context.CommitAsync(done / (double)Math.Max(1, pending.Count), ProgressNotes.RescoreScored(done, pending.Count), extraWrites: async db =>
            {
                foreach (var (id, u) in scores)
                    await db.Candidates.Where(c => c.Id == id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Uncertainty, Math.Round(u, 4)));
            });
        }
        await context.CommitAsync(1, ProgressNotes.RescoreDone(pending.Count));
    }
}
