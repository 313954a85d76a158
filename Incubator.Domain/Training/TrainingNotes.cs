using System.Globalization;
using Incubator.Domain.Jobs;
using Incubator.Domain.Common;

namespace Incubator.Domain.Training;

/// <summary>What a training says while it runs ("JobNote.Train.{Code}" in the portal's resources): the English sentence
/// goes to the model's log and the CLI, the code and its arguments (numbers, family and encoder names) let the training
/// page say it in the reader's language (docs/decisions/0035-keyboard-review-and-server-messages.md).</summary>
public static class TrainingNotes
{
    private static string F(double v, string format) => v.ToString(format, CultureInfo.InvariantCulture);

    public static JobNote Prepare(int train, int validation, int gold, string labels) => new("Train.Prepare",
        $"{train} training rows, {validation} validation rows, {gold} gold rows, labels: {labels}", train, validation, gold, labels);

    public static JobNote SparseOnly(double share, string encoder) => new("Train.SparseOnly",
        $"Auto: only {F(share, "P0")} of the text's letters are in word pieces the encoder ({encoder}) knows, " +
        "so the dense and hybrid families cannot read it and are not trained; sparse only", F(share, "P0"), encoder);

    public static JobNote CoverageWarning(double share, string family) => new("Train.CoverageWarning",
        $"Warning: only {F(share, "P0")} of the text's letters are in word pieces the encoder knows; the {family} family was asked for and is trained anyway",
        F(share, "P0"), family);

    public static JobNote Evaluated(string family, double seconds, double accuracy, double macroF1, double? goldAccuracy, double? goldMacroF1)
    {
        var english = $"{family}: trained in {F(seconds, "0.0")} s; validation accuracy {F(accuracy, "0.000")}, macro-F1 {F(macroF1, "0.000")}";
        return goldAccuracy is { } ga && goldMacroF1 is { } gf
            ? new("Train.EvaluatedGold", english + $"; gold accuracy {F(ga, "0.000")}, macro-F1 {F(gf, "0.000")}",
                family, F(seconds, "0.0"), F(accuracy, "0.000"), F(macroF1, "0.000"), F(ga, "0.000"), F(gf, "0.000"))
            : new("Train.Evaluated", english, family, F(seconds, "0.0"), F(accuracy, "0.000"), F(macroF1, "0.000"));
    }

    /// <param name="weighting">"sublinear TF-IDF" or "TF-IDF" (a technical name).</param>
    public static JobNote SparseWords(int longest, string weighting) => new("Train.SparseWords",
        $"Sparse: word 1-{longest}-grams, {weighting}", longest, weighting);

    public static JobNote SparseCharacters(int longest, string weighting, bool chosenForScript) => chosenForScript
        ? new("Train.SparseCharactersScript", $"Sparse: character 1-{longest}-grams (text mostly in a script without spaces), {weighting}", longest, weighting)
        : new("Train.SparseCharacters", $"Sparse: character 1-{longest}-grams, {weighting}", longest, weighting);

    public static JobNote Conjunctions(int count, string examples) => new("Train.Conjunctions",
        $"Sparse: conjunctions of the {count} most decisive n-grams ({examples}…)", count, examples);

    public static JobNote Embedding(int texts, bool withGold, string encoder) => withGold
        ? new("Train.EmbeddingGold", $"Dense: embedding {texts} texts (training, validation, gold) with {encoder} (English only)", texts, encoder)
        : new("Train.Embedding", $"Dense: embedding {texts} texts (training, validation) with {encoder} (English only)", texts, encoder);

    public static JobNote Embedded(int done, int texts) => new("Train.Embedded", $"Dense: embedded {done} of {texts} texts", done, texts);

    public static JobNote FitSparse(int features) => new("Train.FitSparse", $"Sparse: {features} features; fitting the maximum-entropy head (L-BFGS)", features);

    public static JobNote FitDense() => new("Train.FitDense", "Dense: fitting the maximum-entropy head (L-BFGS)");

    public static JobNote FitHybrid(int sparse, int dense) => new("Train.FitHybrid",
        $"Hybrid: {sparse} sparse features + {dense} embedding dimensions; fitting the maximum-entropy head (L-BFGS)", sparse, dense);

    public static JobNote L2Tried(string family, float l2, double macroF1) => new("Train.L2Tried",
        $"{family}: L2 {F(l2, "0.###")}: validation macro-F1 {F(macroF1, "0.000")}", family, F(l2, "0.###"), F(macroF1, "0.000"));

    public static JobNote L2Stop(string family, float l2) => new("Train.L2Stop", $"{family}: no better than L2 {F(l2, "0.###")}; the sweep stops", family, F(l2, "0.###"));

    public static JobNote L2Kept(string family, float l2) => new("Train.L2Kept", $"{family}: kept L2 {F(l2, "0.###")}", family, F(l2, "0.###"));

    public static JobNote OnlyFamily(string family) => new("Train.OnlyFamily", $"{family} (the only family trained)", family);

    /// <param name="english">The whole reason in English, with its remarks on language and few validation rows (the log
    /// keeps them; the translated sentence says the choice and the scores).</param>
    public static JobNote Chosen(string family, bool onGold, string scores, string english) =>
        new(onGold ? "Train.ChosenGold" : "Train.ChosenValidation", english, family, scores);

    /// <param name="english">As for <see cref="Chosen"/>.</param>
    public static JobNote ChosenCrossValidation(string family, int folds, string scores, string english) =>
        new("Train.ChosenCrossValidation", english, family, folds, scores);

    /// <param name="english">As for <see cref="Chosen"/>.</param>
    public static JobNote ChosenNearTie(string family, int folds, double standardError, int validationRows, string scores, string validationScores, string english) =>
        new("Train.ChosenNearTie", english, family, folds, F(standardError, "0.0000"), validationRows, scores, validationScores);

    /// <param name="english">As for <see cref="Chosen"/>.</param>
    public static JobNote ChosenTieRule(string family, int folds, int shuffles, double standardError, int rows, string scores, string band, string english) =>
        new("Train.ChosenTieRule", english, family, folds, shuffles, F(standardError, "0.0000"), rows, scores, band);

    public static JobNote ChosenPool(int rowsPerLabel, int below, int folds, string scores) => new("Train.ChosenPool",
        $"pooled: the log-linear average of sparse, dense and hybrid (rows of the smallest label: {rowsPerLabel}, fewer than {below}: too few for {folds}-fold cross-validation to tell the families apart; each family's cross-validated macro-F1: {scores})",
        rowsPerLabel, below, folds, scores);

    public static JobNote Refitting(string family, int rows, float l2) => new("Train.Refitting",
        $"{family}: fitting the chosen model again on training + validation ({rows} rows, L2 {F(l2, "0.###")}); the validation figures above stay those of the fit on the training part",
        family, rows, F(l2, "0.###"));

    public static JobNote Refitted(string family, double seconds, double? goldAccuracy, double? goldMacroF1) => goldAccuracy is { } ga && goldMacroF1 is { } gf
        ? new("Train.RefittedGold", $"{family}: refit in {F(seconds, "0.0")} s; gold accuracy {F(ga, "0.000")}, macro-F1 {F(gf, "0.000")}",
            family, F(seconds, "0.0"), F(ga, "0.000"), F(gf, "0.000"))
        : new("Train.Refitted", $"{family}: refit in {F(seconds, "0.0")} s", family, F(seconds, "0.0"));

    public static JobNote Exporting() => new("Train.Exporting", "Exporting the model and measuring its speed.");

    public static JobNote Writing() => new("Train.Writing", "Writing the bundle and the in-app model.");

    // Training data the portal can hand over and the trainer refuses (the job fails with these).

    public static JobNote TooFewLabels(int labels) => new("Train.Data.TooFewLabels", $"Training needs at least 2 labels; got {labels}.", labels);

    public static JobNote TooFewLabelsCovered(int present) => new("Train.Data.TooFewLabelsCovered",
        $"The training rows cover {EnglishCount.Of(present, "label", "labels")}; at least 2 labels need examples.", present);

    public static JobNote NoValidation() => new("Train.Data.NoValidation", "The validation part is empty; at least one validation row is needed.");

    public static JobNote NoWords() => new("Train.Data.NoWords", "The training texts contain no words to learn from.");
}
