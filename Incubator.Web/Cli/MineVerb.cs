using System.Diagnostics;
using System.Globalization;
using Incubator.Domain.Common;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;

namespace Incubator.Web.Cli;

/// <summary>`mine`: candidate mining without the portal and without an LLM — a task JSON and a file of unlabelled texts
/// in, `label&lt;TAB&gt;text` rows out. The pool is read with the portal's one text-file reader (TXT/CSV/TSV/JSONL by extension,
/// encoding detected, a file that is not text refused, bad rows and duplicates skipped) and scored with the same
/// <see cref="MiningScorer"/>.</summary>
internal static class MineVerb
{
    public const string Usage = "mine --task task.json --pool texts.txt --per-label N [--margin M] [--column NAME|N] [--field NAME] --out candidates.tsv [--self-train --model-out model.zip [--rounds R] [--seed S] [--lang en|ja]]";

    /// <summary>Exit codes are `generate`'s where they apply: 0 written (a warning on stderr names the labels that got no
    /// candidate), 1 self-training could not make a model, 2 bad arguments, 3 nothing mined (nothing written).</summary>
    public const int Failed = GenerateVerb.Failed;

    private sealed record Options(string Task, string Pool, int PerLabel, double Margin, string? Column, string? Field, string Out, SelfTrain? SelfTrain);

    /// <summary>--self-train: go on from the mined candidates to a model with no human label (docs/decisions/0032-self-training.md).</summary>
    /// <param name="Lang">--lang: the model card's language; null: the task's language.</param>
    private sealed record SelfTrain(string ModelOut, int Rounds, int Seed, string? Lang = null);

    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var o = Parse(args);
        if (await CliTaskFile.ReadAsync(o.Task, stderr, ct) is not { } spec) return 2;
        if (spec.Labels.All(l => l.IsOther)) throw new CliUsageException("The task has no label to mine for besides the other label.");

        var clock = Stopwatch.StartNew();
        var format = TextFileFormats.FromFileName(o.Pool) ?? TextFileFormat.Txt;
        var (texts, report) = CliInputFile.ReadTexts(o.Pool, new TextFileOptions(format, o.Column, null, o.Field), ct);
        var language = LanguageGuess.Guess(texts.Take(2000));
        using var miniLm = new MiniLmEmbedder();
        var embedders = new CorpusEmbedders(miniLm, new CharNgramEmbedder());
        var embedder = embedders.ForLanguage(language);
        var scorer = new MiningScorer(spec, embedder);
        // Self-training's rounds run on these same vectors (English), so they are kept rather than computed again.
        var poolVectors = o.SelfTrain is null ? null : new List<float[]>(texts.Count);
        for (var start = 0; start < texts.Count; start += CorpusStore.EmbeddingBatchSize)
        {
            ct.ThrowIfCancellationRequested();
            var batch = texts.GetRange(start, Math.Min(CorpusStore.EmbeddingBatchSize, texts.Count - start));
            var vectors = embedder.Embed(batch);
            for (var i = 0; i < batch.Count; i++) scorer.Add(start + i, vectors[i]);
            poolVectors?.AddRange(vectors);
        }
        var mined = await scorer.SelectAsync(o.PerLabel, o.Margin,
            ordinals => Task.FromResult<IReadOnlyDictionary<int, string>>(ordinals.ToDictionary(i => i, i => texts[i])), _ => false);
        var order = spec.Labels.Select(l => l.Name).ToList();
        var without = order.Where(l => !mined.Any(m => m.Label == l)).ToList();
        if (without.Count == order.Count)
        {
            // Nothing mined: an empty file is not what was asked for, and an earlier --out is not overwritten with one.
            CliInputFile.DescribeRead(stdout, o.Pool, report, texts.Count);
            stderr.WriteLine($"error: no candidates from {texts.Count} texts: none was closer to one label than to every other by --margin {Margin(o.Margin)}"
                + (spec.OtherLabel is { } none ? $", nor far from every label yet on the task's topic ({none.Name}, the other label)" : "")
                + $". Lower --margin or add texts of the task's labels to the pool; nothing written to {o.Out}.");
            return Failed;
        }
        await CliOutput.WriteTextAsync(o.Out, async writer =>
        {
            foreach (var m in mined.OrderBy(m => order.IndexOf(m.Label)))
                await writer.WriteLineAsync($"{m.Label}\t{TsvCell.Of(m.Text)}");
        });
        CliInputFile.DescribeRead(stdout, o.Pool, report, texts.Count);
        stdout.WriteLine($"language {language}; embedder {embedder.Name}{(embedder.Name == CharNgramEmbedder.RepresentationName ? " (character n-grams: MiniLM knows English only)" : "")}");
        stdout.WriteLine($"wrote {mined.Count} candidates to {o.Out}: {string.Join(", ", order.Select(l => $"{l} {mined.Count(m => m.Label == l)}"))}");
        if (without.Count > 0)
            foreach (var line in NoneFor(spec, without, mined.Count, texts.Count, o.Margin)) stderr.WriteLine(line);
        if (o.SelfTrain is { } st)
        {
            if (TooFewSeeds(spec, mined, o.PerLabel, o.Margin) is { } reasons)
            {
                foreach (var line in reasons) stderr.WriteLine(line);
                return 1;
            }
            var code = SelfTrainAndWrite(spec, o.Pool, texts, poolVectors!, mined, scorer, embedder.Name == CharNgramEmbedder.RepresentationName, st, stdout, stderr, ct);
            if (code != 0) return code;
        }
        stdout.WriteLine($"seconds {clock.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)}");
        return 0;
    }

    private static string Margin(double margin) => margin.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>Some labels got no candidate: which, and what to change for each (the other label's rule is not the margin).</summary>
    private static List<string> NoneFor(TaskSpec spec, List<string> without, int mined, int texts, double margin)
    {
        var other = spec.OtherLabel?.Name;
        var lines = new List<string> { $"warning: no candidates for {string.Join(", ", without)} ({mined} for the other labels from {texts} texts)." };
        var specific = without.Where(l => l != other).ToList();
        if (specific.Count > 0)
            lines.Add($"  {string.Join(", ", specific)}: no text was closer to {(specific.Count == 1 ? "that label" : "those labels")} than to every other by --margin {Margin(margin)}; "
                + $"lower --margin or add texts of {(specific.Count == 1 ? "that label" : "those labels")} to the pool.");
        if (other is not null && without.Contains(other))
            lines.Add($"  {other} is the task's other label: it takes texts far from every specific label yet on the task's topic, and none was left for it. Add texts that belong to none of the labels to the pool.");
        return lines;
    }

    /// <summary>Null when every label has the 2 mined seeds self-training needs; else what to change, label by label. The
    /// other label's seeds are pool texts close to the task yet below the pool's average for every specific label
    /// (<see cref="MiningScorer"/>): --margin does not apply to them, so the advice differs.</summary>
    private static List<string>? TooFewSeeds(TaskSpec spec, IReadOnlyList<MinedCandidate> mined, int perLabel, double margin)
    {
        var few = spec.Labels.Select(l => l.Name).Where(l => mined.Count(m => m.Label == l) < 2).ToList();
        if (few.Count == 0) return null;
        var other = spec.OtherLabel?.Name;
        var lines = new List<string> { $"error: self-training needs at least 2 mined seeds for every label; too few for {string.Join(", ", few.Select(l => $"{l} ({mined.Count(m => m.Label == l)})"))}." };
        var specific = few.Where(l => l != other).ToList();
        if (specific.Count > 0)
            lines.Add($"  {string.Join(", ", specific)}: {(perLabel < 2 ? "raise --per-label (now 1), " : "")}lower --margin (now {margin.ToString("0.###", CultureInfo.InvariantCulture)}) or add texts of {(specific.Count == 1 ? "that label" : "those labels")} to the pool.");
        if (other is not null && few.Contains(other))
            lines.Add($"  {other} is the task's other label: its seeds are pool texts close to the task yet below the pool's average similarity for every other label, and --margin does not apply to them. Add texts that belong to none of the labels to the pool.");
        return lines;
    }

    private static int SelfTrainAndWrite(TaskSpec spec, string poolPath, IReadOnlyList<string> texts, IReadOnlyList<float[]> poolVectors, IReadOnlyList<MinedCandidate> mined,
        MiningScorer scorer, bool charNgrams, SelfTrain st, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var labels = spec.Labels.Select(l => l.Name).ToList();
        var options = SelfTrainingOptions.For(english: !charNgrams) with { MaxRounds = st.Rounds, Seed = st.Seed };
        SelfTrainingResult result;
        try
        {
            // English: rounds on the pool's MiniLM vectors with the miner's view; character n-grams: sparse rounds with
            // the model alone (the miner's view is below chance there). Decision 0032 and its amendments.
            result = charNgrams
                ? SelfTrainer.Run(labels, texts, mined, options, null, new SyncLog(stderr), ct: ct)
                : SelfTrainer.Run(labels, texts, mined, options, scorer.Probabilities(labels), new SyncLog(stderr), ct: ct, poolVectors: poolVectors,
                    rawPrior: options.RawViewIfUsed(scorer, labels));
        }
        catch (TrainingDataException ex)
        {
            stderr.WriteLine($"error: {ex.Message}");
            return 1;
        }
        var best = result.Best;
        var onnx = result.Training.Model.ExportOnnx();
        var speed = ModelBundle.MeasureSpeed(onnx, result.Training.Model, result.ValidationRows.Select(r => r.Text).ToList());
        // The card's language: --lang, else the task's own language.
        var language = TrainVerbs.CliLang(st.Lang, CardLanguages.Parse(spec.Preferences.Language));
        // Round 0 is the seed model, not a round: the rounds after it read "Round 1 of 3" … "Round 3 of 3".
        List<string> Rounds(CardLanguage lang) => result.Rounds.Select(r => lang == CardLanguage.Ja
            ? string.Create(CultureInfo.GetCultureInfo("ja-JP"),
                $"{(r.Round == 0 ? "シードモデル" : $"ラウンド {r.Round}/{options.MaxRounds}")}: シード {r.SeedRows} 件 + 疑似ラベル {r.PseudoLabels} 件。取り分けたシードとの一致 {r.Agreement:0.000}{(r.Round == result.BestRound ? "（採用）" : r.Improved ? "" : "（改善なし: 停止）")}。")
            : string.Create(CultureInfo.InvariantCulture,
                $"{(r.Round == 0 ? "Seed model" : $"Round {r.Round} of {options.MaxRounds}")}: {EnglishCount.Of(r.SeedRows, "seed", "seeds")} + {EnglishCount.Of(r.PseudoLabels, "pseudo-label", "pseudo-labels")}; held-out agreement {r.Agreement:0.000}{(r.Round == result.BestRound ? " (kept)" : r.Improved ? "" : " (no better: stopped)")}.")).ToList();
        // Both languages (decision 0012, amendment card22): --lang's (or the task's) is model-card.md, the other beside it.
        var notes = Extensions.ResourceCardNotes.Standalone();
        var cards = ModelCards.Write(language, lang => ModelCardBuilder.Write(ModelCardInput.For(CardLanguages.CliSelfTrainedTitle(spec.Name, lang), result.Training, result.Options, null, DateTimeOffset.UtcNow,
            new SelfTrainingCardSource(spec, Path.GetFileName(poolPath), texts.Count, best.SeedRows, result.HeldOutSeeds, result.PseudoLabels, result.RowsPerLabel,
                result.TrainRows.Count, result.ValidationRows.Count, Rounds(lang), MinersView: !charNgrams) { EmbeddingRounds = result.EmbeddingRounds, ProportionalShares = result.CountedShares, RawView = result.RawView,
                RawLean = result.RawLean, FinalShare = result.FinalShare, CurriculumRounds = result.Curriculum ? options.MaxRounds : 0 }) with { Speed = speed },
            lang, lang == CardLanguage.En ? null : n => notes.Say(n, lang)));
        CliOutput.Write(st.ModelOut, stream => ModelBundle.Write(stream, result.Training.Model,
            BundleInfo.For(Path.GetFileNameWithoutExtension(st.ModelOut), "1", cards), onnx));
        // After embedding rounds the final model trains on the last view's labelling of the pool, not on the kept round's rows.
        stdout.WriteLine($"self-training: kept {(result.BestRound == 0 ? "the seed model" : $"round {result.BestRound} of {options.MaxRounds}")} ({best.SeedRows} seeds + {EnglishCount.Of(best.PseudoLabels, "pseudo-label", "pseudo-labels")}, "
            + $"held-out agreement {best.Agreement.ToString("0.000", CultureInfo.InvariantCulture)})"
            + (result.PseudoLabels != best.PseudoLabels ? $"; the final model: {best.SeedRows} seeds + {EnglishCount.Of(result.PseudoLabels, "pseudo-label", "pseudo-labels")} from the kept round's labelling of the pool" : "")
            + "; no human labels");
        stdout.WriteLine($"wrote {st.ModelOut}: {ModelFamilies.Name(result.Training.Model.Family)} model, {speed.Describe()}");
        return 0;
    }

    /// <summary>Writes each round's line as it happens.</summary>
    private sealed class SyncLog(TextWriter w) : IProgress<string>
    {
        public void Report(string value) => w.WriteLine($"[self-train] {value}");
    }

    private static Options Parse(string[] args)
    {
        var o = CliArgs.Parse(args, Usage, ["task", "pool", "per-label", "margin", "column", "field", "out", "model-out", "rounds", "seed", "lang"], ["self-train"]);
        var task = o.Required("task");
        var poolPath = o.Required("pool");
        if (!File.Exists(poolPath)) throw new CliUsageException($"--pool '{poolPath}' does not exist.");
        var perLabel = o.Int("per-label", 1, MiningService.MaxPerLabel);
        var margin = MiningService.DefaultMargin;
        if (o["margin"] is { } m && (!double.TryParse(m, NumberStyles.Float, CultureInfo.InvariantCulture, out margin) || margin is < 0 or > 1))
            throw new CliUsageException($"--margin must be a number from 0 to 1 (got '{m}').");
        var output = o.Output("out", "task", "pool");
        SelfTrain? selfTrain = null;
        if (o.Flag("self-train"))
        {
            if (!o.Has("model-out")) throw new CliUsageException("--self-train needs --model-out model.zip (where to write the model bundle).");
            var modelOut = o.Output("model-out", "task", "pool");
            if (Path.GetFullPath(modelOut) == Path.GetFullPath(output)) throw new CliUsageException("--model-out must be another file than --out.");
            var seed = 1;
            if (o["seed"] is { } s && !int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out seed))
                throw new CliUsageException($"--seed must be a whole number (got '{s}').");
            var lang = o["lang"];
            if (lang is not null) TrainVerbs.CliLang(lang, CardLanguage.En);
            selfTrain = new SelfTrain(modelOut, o.Int("rounds", 0, 10, new SelfTrainingOptions().MaxRounds), seed, lang);
        }
        else if (o.Has("model-out") || o.Has("rounds") || o.Has("seed") || o.Has("lang"))
        {
            throw new CliUsageException("--model-out, --rounds, --seed and --lang go with --self-train.");
        }
        return new Options(task, poolPath, perLabel, margin, o["column"], o["field"], output, selfTrain);
    }
}
