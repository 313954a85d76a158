using System.Globalization;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Labelling;
using Incubator.Domain.Llm;
using Incubator.Domain.Mining;

namespace Incubator.Web.Cli;

/// <summary>`label`: the portal's LLM labelling of a corpus without the portal (docs/decisions/0037-llm-labels-a-corpus.md)
/// — a task JSON and a file of unlabelled texts in, `label&lt;TAB&gt;text` rows (ready for `train`) out. The texts are
/// read with the one text-file reader, scored with the miner (for the stratified sample and the agreement counts),
/// labelled in batches with the same prompt and tolerant reading as the portal's job.</summary>
internal static class LabelVerb
{
    public const string Usage =
        "label --task task.json --corpus texts.txt [--column NAME|N] [--field NAME] --endpoint URL --model NAME [--provider openai|azure|compatible] [--api-key KEY] [--limit N] "
        + "[--batch-size B] [--budget-tokens T] [--endpoint-wait SECONDS] [--max-attempts N] --out labelled.tsv";

    /// <summary>Exit codes are `generate`'s: 0 completed, 1 stopped short (budget), 2 bad arguments, 3 failed (also when every
    /// text was answered and none labelled: nothing to write).</summary>
    public const int Completed = GenerateVerb.Completed, StoppedShort = GenerateVerb.StoppedShort, Failed = GenerateVerb.Failed;

    private sealed record Options(string Task, string Corpus, string? Column, string? Field, string Endpoint, string Model, LlmProvider Provider, string? ApiKey, int? Limit, int BatchSize,
        long? BudgetTokens, TimeSpan EndpointWait, int? MaxAttempts, string Out);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var o = Parse(args);
        if (await CliTaskFile.ReadAsync(o.Task, stderr, ct) is not { } spec) return 2;
        if (spec.Labels.All(l => l.IsOther)) throw new CliUsageException("The task has no label besides the other label.");
        CliEndpointArgs.WarnIfKeySentInClear(o.Endpoint, o.ApiKey, stderr);

        var (texts, report) = CliInputFile.ReadTexts(o.Corpus, new TextFileOptions(TextFileFormats.FromFileName(o.Corpus) ?? TextFileFormat.Txt, o.Column, null, o.Field), ct);

        var labels = spec.Labels.Select(l => l.Name).ToList();
        using var miniLm = new MiniLmEmbedder();
        var embedder = new CorpusEmbedders(miniLm, new CharNgramEmbedder()).ForLanguage(LanguageGuess.Guess(texts.Take(2000)));
        var scorer = new MiningScorer(spec, embedder);
        for (var start = 0; start < texts.Count; start += CorpusStore.EmbeddingBatchSize)
        {
            var batch = texts.GetRange(start, Math.Min(CorpusStore.EmbeddingBatchSize, texts.Count - start));
            var vectors = embedder.Embed(batch);
            for (var i = 0; i < batch.Count; i++) scorer.Add(start + i, vectors[i]);
        }
        var sample = CorpusLabeller.Choose(Enumerable.Range(0, texts.Count).ToList(), scorer.Probabilities(labels), labels, o.Limit);

        var builder = CliApp.HeadlessBuilder([]);
        builder.Services.AddIncubatorLlm(builder.Configuration);
        using var host = builder.Build();
        var profile = new LlmProfile(null, "command line", o.Provider, o.Endpoint, o.Model, o.ApiKey, 0, 1024, 1, null, 0, 0);
        var client = host.Services.GetRequiredService<LlmClientFactory>().Create(profile, o.MaxAttempts);
        var budget = o.BudgetTokens ?? CorpusLabeller.Estimate(spec, sample.Count, sample.Average(s => (double)texts[s.Ordinal].Length), o.BatchSize, profile).DefaultBudgetTokens;
        var waiter = new EndpointWaiter(note =>
        {
            if (note is not null) stderr.WriteLine($"waiting: {note.Message}");
            return Task.CompletedTask;
        }, o.EndpointWait, TimeProvider.System, answered: false, ct);

        var rows = new List<(string Label, string Text)>();
        var rejected = new Dictionary<LabelRejectReason, int>();
        int done = 0, none = 0, disagreed = 0, calls = 0;
        long tokens = 0;
        JobNote? stop = null, failure = null;
        try
        {
            foreach (var batch in sample.Chunk(o.BatchSize))
            {
                if (tokens >= budget)
                {
                    stop = LabelNotes.Budget(done, sample.Count);
                    break;
                }
                var ordinals = batch.Select(s => s.Ordinal).ToList();
                var request = CorpusLabeller.Request(spec, ordinals.Select(i => texts[i]).ToList(), profile);
                var response = await waiter.CallAsync(client, request);
                calls++;
                tokens += response.Usage.InputTokens + response.Usage.OutputTokens;
                var result = CorpusLabeller.Parse(response.Text, ordinals, labels);
                var miner = batch.ToDictionary(s => s.Ordinal, s => s.MinerLabel);
                foreach (var v in result.Texts.Where(v => v.Label is not null))
                {
                    rows.Add((v.Label!, texts[v.Ordinal]));
                    if (miner[v.Ordinal] != v.Label) disagreed++;
                }
                none += result.Texts.Count(v => v.NoneOfThese);
                foreach (var r in result.Rejections) rejected[r] = rejected.GetValueOrDefault(r) + 1;
                done += batch.Length;
            }
        }
        catch (JobFailedException ex)
        {
            // The batches answered before the failure were paid for: their rows are written (exit code 3 says the run
            // failed), as `generate` writes the samples it has.
            stderr.WriteLine($"failed: {ex.Note.Message}");
            failure = ex.Note;
            if (rows.Count == 0)
            {
                stdout.WriteLine($"labelled 0 of {sample.Count} texts before the failure; nothing written");
                return Failed;
            }
        }

        // Every batch answered and no text labelled: the portal's run fails so (LabelNotes.NoneLabelled); an empty file is
        // not written over an earlier --out.
        var noneLabelled = failure is null && stop is null && rows.Count == 0;
        var tsv = new System.Text.StringBuilder();
        foreach (var (label, text) in rows) tsv.Append(label).Append('\t').Append(TsvCell.Of(text)).Append('\n');
        if (!noneLabelled) CliOutput.Write(o.Out, stream => stream.Write(new System.Text.UTF8Encoding(false).GetBytes(tsv.ToString())));
        CliInputFile.DescribeRead(stdout, o.Corpus, report, texts.Count);
        stdout.WriteLine($"chose {sample.Count} of {texts.Count} texts{(o.Limit is null ? "" : " (stratified by the miner's labels)")}; {done} sent in {calls} calls");
        stdout.WriteLine($"labelled {rows.Count} ({rows.Count - disagreed} as the miner, {disagreed} unlike it){(noneLabelled ? "; nothing written" : $" written to {o.Out}")}");
        stdout.WriteLine($"none of these {none}");
        stdout.WriteLine(rejected.Count == 0 ? "rejected 0" : $"rejected {rejected.Values.Sum()}: {string.Join(", ", rejected.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value}"))}");
        stdout.WriteLine($"tokens {tokens.ToString("N0", CultureInfo.InvariantCulture)} (budget {budget.ToString("N0", CultureInfo.InvariantCulture)})");
        if (failure is not null)
        {
            stdout.WriteLine($"failed after {done} of {sample.Count} texts: {failure.Message}");
            return Failed;
        }
        if (noneLabelled)
        {
            stderr.WriteLine($"failed: the model labelled none of the {done} texts sent: {none} none of these, {rejected.Values.Sum()} rejected; nothing written to {o.Out}.");
            return Failed;
        }
        if (stop is not null)
        {
            stdout.WriteLine(stop.Message); // "Stopped short: the budget was reached after …"
            return StoppedShort;
        }
        return Completed;
    }

    private static Options Parse(string[] args)
    {
        var o = CliArgs.Parse(args, Usage, ["task", "corpus", "column", "field", .. CliEndpointArgs.Names, "limit", "batch-size", "out"]);
        var task = o.Required("task");
        var corpus = o.Required("corpus");
        if (!File.Exists(corpus)) throw new CliUsageException($"--corpus '{corpus}' does not exist.");
        var llm = CliEndpointArgs.Read(o);
        int? limit = o.Has("limit") ? o.Int("limit", 1, LabellingService.MaxLimit) : null;
        var output = o.Output("out", "task", "corpus");
        return new Options(task, corpus, o["column"], o["field"], llm.Endpoint, llm.Model, llm.Provider, llm.ApiKey, limit,
            o.Int("batch-size", 1, CorpusLabeller.MaxBatchSize, CorpusLabeller.DefaultBatchSize), llm.BudgetTokens, llm.EndpointWait, llm.MaxAttempts, output);
    }
}
