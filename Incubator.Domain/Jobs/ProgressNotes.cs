using System.Globalization;

namespace Incubator.Domain.Jobs;

/// <summary>What jobs say while they run: their progress lines ("Progress.*") and log lines ("Log.*"), as notes the
/// portal says in the reader's language ("JobNote.{Code}") while the API, the job log's Message and the CLI keep the
/// English sentence. Counts are arguments written with the invariant group separator ("1,200"), which reads the same in
/// both languages; names (corpora, encoders, labels) are data. Training's own lines are <c>TrainingNotes</c>, a run's
/// end <c>RunNotes</c> (docs/decisions/0035-keyboard-review-and-server-messages.md).</summary>
public static class ProgressNotes
{
    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    // The job worker's own lines.

    public static JobNote Paused() => new("Log.Paused", "Job paused.");

    public static JobNote Succeeded() => new("Log.Succeeded", "Job succeeded.");

    public static JobNote Cancelled() => new("Log.Cancelled", "Job cancelled.");

    /// <summary>A failure whose reason is a note has it as the cause; any other carries the error text (data).</summary>
    public static JobNote Failed(string error, JobNote? why = null) => new("Log.Failed", $"Job failed: {error}", [why?.Message ?? error], why);

    public static JobNote StoppedShort(JobNote why) => new("Log.StoppedShort", $"Job stopped short: {why.Message}", [why.Message], why);

    /// <summary>Any other end (a state a newer version adds): its name as data.</summary>
    public static JobNote Ended(JobState state) => new("Log.Ended", $"Job {state.ToString().ToLowerInvariant()}.", state.ToString());

    // Diagnostics (the portal's own check that jobs run).

    public static JobNote DiagnosticsStep(int step, int steps) => new("Progress.DiagnosticsStep", $"Step {step} of {steps}", step, steps);

    public static JobNote DiagnosticsStepDone(int step) => new("Log.DiagnosticsStepDone", $"Step {step} done.", step);

    public static JobNote DiagnosticsResuming(int done, int steps) => new("Log.DiagnosticsResuming", $"Resuming after step {done} of {steps}.", done, steps);

    // Generation runs (their ends are RunNotes).

    public static JobNote GenerationStarted(int perLabel, int labels, string connection, string model, double oversample, int concurrency, long? budgetTokens, decimal? budgetMoney)
    {
        var budget = (budgetTokens is { } bt ? $", budget {N(bt)} tokens" : "") + (budgetMoney is { } bm ? $", budget {bm.ToString("0.####", CultureInfo.InvariantCulture)}" : "");
        var english = $"Generating {perLabel} per label for {labels} labels with {connection} ({model}), oversampling ×{oversample.ToString("0.##", CultureInfo.InvariantCulture)}, concurrency {concurrency}{budget}.";
        return budgetTokens is null && budgetMoney is null
            ? new("Log.GenerationStarted", english, perLabel, labels, connection, model, oversample.ToString("0.##", CultureInfo.InvariantCulture), concurrency)
            : new("Log.GenerationStartedBudget", english, perLabel, labels, connection, model, oversample.ToString("0.##", CultureInfo.InvariantCulture), concurrency,
                budgetTokens is { } t ? N(t) : "—", budgetMoney is { } m ? m.ToString("0.####", CultureInfo.InvariantCulture) : "—");
    }

    public static JobNote Generating(int selected, int target, int pooled, int calls) => new("Progress.Generating",
        $"{selected} of {target} selected, {pooled} in pools, {calls} calls", selected, target, pooled, calls);

    public static JobNote GenerationDone(int selected, int reserve) => new("Progress.GenerationDone", $"Done: {selected} selected, {reserve} in reserve.", selected, reserve);

    /// <summary>The code of <see cref="GenerationSummary"/> with rejections, and the index of its per-reason argument, which
    /// the portal says with each reason's own name.</summary>
    public const string GenerationSummaryCode = "Log.GenerationSummary";

    public const int GenerationSummaryRejectedArg = 4;

    /// <param name="rejected">Rejections per reason ("Unparseable 3, Duplicate 1": each a <c>RejectReason</c> and its
    /// count), empty when none.</param>
    public static JobNote GenerationSummary(int accepted, int selected, int reserve, int surplus, string rejected, long inputTokens, long outputTokens, decimal cost, int calls, int failedCalls)
    {
        var english = $"Accepted {accepted} (selected {selected}, reserve {reserve}, {surplus} more not kept: their labels were full); "
                      + $"rejected: {(rejected.Length == 0 ? "none" : rejected)}; tokens {N(inputTokens)} in / {N(outputTokens)} out; cost {cost.ToString("0.####", CultureInfo.InvariantCulture)}; "
                      + $"{calls} calls ({failedCalls} failed).";
        return new(rejected.Length == 0 ? "Log.GenerationSummaryClean" : GenerationSummaryCode, english, accepted, selected, reserve, surplus,
            rejected.Length == 0 ? "—" : rejected, N(inputTokens), N(outputTokens), cost.ToString("0.####", CultureInfo.InvariantCulture), calls, failedCalls);
    }

    // LLM labelling of a corpus (its ends are LabelNotes).

    public static JobNote LabellingScored(int done, int texts) => new("Progress.LabellingScored", $"{N(done)} / {N(texts)} texts scored by the miner", N(done), N(texts));

    public static JobNote LabellingChosen(int texts) => new("Progress.LabellingChosen", $"{N(texts)} texts chosen", N(texts));

    /// <param name="perLabel">How many texts per miner label, as data ("billing 4, shipping 3").</param>
    public static JobNote LabellingChose(int chosen, int texts, bool stratified, string perLabel) => stratified
        ? new("Log.LabellingChoseStratified", $"Chose {N(chosen)} of {N(texts)} texts (stratified by the miner's labels): {perLabel} by the miner's label.", N(chosen), N(texts), perLabel)
        : new("Log.LabellingChoseAll", $"Chose {N(chosen)} of {N(texts)} texts (all): {perLabel} by the miner's label.", N(chosen), N(texts), perLabel);

    public static JobNote LabellingAlreadyQueued(int texts) => new("Log.LabellingAlreadyQueued",
        $"{N(texts)} texts of the corpus are already candidates of the task and are not labelled again.", N(texts));

    public static JobNote LabellingStarted(int texts, int batches, int batchSize, string connection, string model) => new("Log.LabellingStarted",
        $"Labelling {N(texts)} texts in {batches} batches of up to {batchSize} with {connection} ({model}).", N(texts), batches, batchSize, connection, model);

    public static JobNote LabellingResuming(int batch, int batches, int done) => new("Log.LabellingResuming",
        $"Resuming at batch {batch} of {batches} ({N(done)} texts already done).", batch, batches, N(done));

    public static JobNote Labelling(int done, int texts) => new("Progress.Labelling", $"{N(done)} of {N(texts)} texts labelled", N(done), N(texts));

    public static JobNote LabellingBatch(int batch, int batches, int labelled, int none) => new("Log.LabellingBatch",
        $"Batch {batch}/{batches}: {labelled} labelled, {none} none of these, 0 rejected.", batch, batches, labelled, none);

    /// <param name="problems">What was rejected and why, as data (the reasons are codes, the details the model's text).</param>
    public static JobNote LabellingBatchRejected(int batch, int batches, int labelled, int none, int rejected, string problems) => new("Log.LabellingBatchRejected",
        $"Batch {batch}/{batches}: {labelled} labelled, {none} none of these, {rejected} rejected: {problems}.", batch, batches, labelled, none, rejected, problems);

    public static JobNote LabellingDone(int labelled, int disagreed, int none, int rejected) => new("Progress.LabellingDone",
        $"Done: {N(labelled)} labelled ({N(disagreed)} unlike the miner), {N(none)} none of these, {N(rejected)} rejected.", N(labelled), N(disagreed), N(none), N(rejected));

    // Mining.

    public static JobNote MiningStarted(int texts, string corpus, string embedder, bool characterNgrams, int approved) => characterNgrams
        ? new("Log.MiningStartedCharacters", $"Scoring {N(texts)} texts of {corpus} with {embedder} (character n-grams: the corpus is not English); {approved} approved samples blended into the label vectors.",
            N(texts), corpus, embedder, approved)
        : new("Log.MiningStarted", $"Scoring {N(texts)} texts of {corpus} with {embedder}; {approved} approved samples blended into the label vectors.",
            N(texts), corpus, embedder, approved);

    public static JobNote MiningScored(int done, int texts) => new("Progress.MiningScored", $"{N(done)} / {N(texts)} texts scored", N(done), N(texts));

    public static JobNote MiningDone(int candidates, int texts) => new("Progress.MiningDone", $"{candidates} candidates from {N(texts)} texts", candidates, N(texts));

    /// <param name="perLabel">Candidates per label as data ("billing 12, refund 9").</param>
    public static JobNote MiningCreated(int candidates, string perLabel) => new("Log.MiningCreated", $"Created {candidates} candidates: {perLabel}.", candidates, perLabel);

    // Re-scoring pending candidates with a quick model.

    public static JobNote RescoreStarted(string embedder, int approved, int labels, int pending) => new("Log.RescoreStarted",
        $"Quick model (nearest centroid, {embedder}) on {approved} approved samples of {labels} labels; scoring {pending} pending candidates.", embedder, approved, labels, pending);

    public static JobNote RescoreScored(int done, int pending) => new("Progress.RescoreScored", $"{N(done)} / {N(pending)} candidates scored", N(done), N(pending));

    public static JobNote RescoreDone(int pending) => new("Progress.RescoreDone", $"{N(pending)} candidates scored", N(pending));

    // Corpus embedding.

    public static JobNote CorpusDeleted() => new("Progress.CorpusDeleted", "The corpus was deleted.");

    public static JobNote EmbeddingResuming(int next, int texts) => new("Log.EmbeddingResuming", $"Resuming at text {N(next)} of {N(texts)}.", N(next), N(texts));

    /// <summary>The notes whose last argument is an embedder's stored name ("char-ngram"): pages name it in words.</summary>
    public static readonly IReadOnlySet<string> EmbedderLastArgCodes = new HashSet<string>(StringComparer.Ordinal)
        { "Log.EmbeddingStarted", "Progress.Embedded", "Progress.EmbeddingDone" };

    public static JobNote EmbeddingStarted(int texts, string embedder) => new("Log.EmbeddingStarted", $"Embedding {N(texts)} texts with {embedder}.", N(texts), embedder);

    public static JobNote Embedded(int done, int texts, string embedder) => new("Progress.Embedded", $"{N(done)} / {N(texts)} texts embedded ({embedder})", N(done), N(texts), embedder);

    public static JobNote EmbeddingDone(int texts, string embedder) => new("Progress.EmbeddingDone", $"{N(texts)} texts embedded ({embedder})", N(texts), embedder);

    // Queries and applying a model over a corpus.

    public static JobNote QueryResuming(int next, int processed, int total) => new("Log.QueryResuming",
        $"Resuming at text {N(next)} ({N(processed)} of {N(total)} done).", N(next), N(processed), N(total));

    public static JobNote QueryStarted(bool query, string expression, string corpus, int total) => query
        ? new("Log.QueryStarted", $"Query {expression} over {corpus} ({N(total)} texts).", expression, corpus, N(total))
        : new("Log.ApplyStarted", $"Applying {expression} over {corpus} ({N(total)} texts).", expression, corpus, N(total));

    public static JobNote QueryProgress(int processed, int total, int? matched) => matched is { } m
        ? new("Progress.QueryMatched", $"{N(processed)} of {N(total)} texts, {N(m)} matched", N(processed), N(total), N(m))
        : new("Progress.QueryLabelled", $"{N(processed)} of {N(total)} texts", N(processed), N(total));

    public static JobNote QueryDone(int processed, int? matched) => matched is { } m
        ? new("Progress.QueryDoneMatched", $"Done: {N(m)} of {N(processed)} texts matched.", N(m), N(processed))
        : new("Progress.QueryDoneLabelled", $"Done: {N(processed)} texts labelled.", N(processed));

    /// <param name="table">The funnel as the CLI prints it (counts per clause and step), data.</param>
    public static JobNote QueryFunnel(string table) => new("Log.QueryFunnel", table, table);

    /// <param name="distribution">Texts per predicted label as data ("billing 120, refund 80").</param>
    public static JobNote QueryDistribution(string distribution) => new("Log.QueryDistribution", distribution, distribution);

    // Exports of the review queue.

    public static JobNote ExportResuming(int page, int written) => new("Log.ExportResuming", $"Resuming at page {page} ({N(written)} rows written).", page, N(written));

    public static JobNote ExportWritten(int written, int total) => new("Progress.ExportWritten", $"{N(written)} of {N(total)} rows written", N(written), N(total));

    public static JobNote ExportFinished(int written) => new("Log.ExportFinished", $"Export finished: {N(written)} rows.", N(written));

    // Training's job-level lines (the trainer's own are TrainingNotes).

    public static JobNote GoldLeftOut(int rows) => new("Log.GoldLeftOut", $"{rows} gold rows have labels without training data and are left out of the gold evaluation.", rows);

    public static JobNote TrainingStarted(string family, int seed, int train, int validation, string? goldFile, int gold) => goldFile is null
        ? new("Log.TrainingStarted", $"Training {family} (seed {seed}) on dataset rows: {train} train, {validation} validation; no gold set.", family, seed, train, validation)
        : new("Log.TrainingStartedGold", $"Training {family} (seed {seed}) on dataset rows: {train} train, {validation} validation; gold set {goldFile} ({gold} rows).",
            family, seed, train, validation, goldFile, gold);

    /// <summary>A trainer's line (progress and log): "stage: sentence" in English, the trainer's note for the portal
    /// (the page names the stage itself).</summary>
    public static JobNote TrainingStage(string stage, JobNote? note) => note is null
        ? new("Progress.TrainingStage", stage, stage)
        : new(note.Code, $"{stage}: {note.Message}", note.Args, note.Cause);

    public static JobNote TrainingDone(string family, double accuracy) => new("Progress.TrainingDone",
        $"Done: {family}, accuracy {accuracy.ToString("0.000", CultureInfo.InvariantCulture)}", family, accuracy.ToString("0.000", CultureInfo.InvariantCulture));

    public static JobNote TrainingChosen(string family, double accuracy, double macroF1, double? goldAccuracy, double? goldMacroF1, long bytes, string sha)
    {
        string F(double v) => v.ToString("0.000", CultureInfo.InvariantCulture);
        return goldAccuracy is { } ga && goldMacroF1 is { } gf
            ? new("Log.TrainingChosenGold", $"Chose {family}: validation accuracy {F(accuracy)}, macro-F1 {F(macroF1)}; gold accuracy {F(ga)}, macro-F1 {F(gf)}; bundle {N(bytes)} bytes, SHA-256 {sha}.",
                family, F(accuracy), F(macroF1), F(ga), F(gf), N(bytes), sha)
            : new("Log.TrainingChosen", $"Chose {family}: validation accuracy {F(accuracy)}, macro-F1 {F(macroF1)}; bundle {N(bytes)} bytes, SHA-256 {sha}.",
                family, F(accuracy), F(macroF1), N(bytes), sha);
    }
}
