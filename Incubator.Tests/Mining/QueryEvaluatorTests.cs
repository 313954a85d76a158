using System.Globalization;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;

namespace Incubator.Tests.Mining;

/// <summary>The evaluator's boolean logic, thresholds and funnel over hand-written classifiers whose outputs are
/// spelled out in the texts themselves ("u=0.9 t=0.2" → urgency gives "urgent" 0.9, topic gives "shipping" 0.2).</summary>
public sealed class QueryEvaluatorTests
{
    /// <summary>Two labels; the first label's probability is the number after "{key}=" in the text (0 when absent).</summary>
    private sealed class KeyedClassifier(string key, string first, string second) : ITextClassifier
    {
        public int Calls { get; private set; }

        public int TextsSeen { get; private set; }

        public IReadOnlyList<string> Labels { get; } = [first, second];

        public ModelFamily Family => ModelFamily.Sparse;

        public IReadOnlyList<Prediction> Predict(IReadOnlyList<string> texts)
        {
            Calls++;
            TextsSeen += texts.Count;
            return texts.Select(t =>
            {
                var part = t.Split(' ').FirstOrDefault(p => p.StartsWith(key + "=", StringComparison.Ordinal));
                var p = part is null ? 0f : float.Parse(part[(key.Length + 1)..], CultureInfo.InvariantCulture);
                float[] probabilities = [p, 1 - p];
                return new Prediction(p >= 0.5f ? first : second, Math.Max(p, 1 - p), probabilities);
            }).ToList();
        }
    }

    private readonly KeyedClassifier _urgency = new("u", "urgent", "normal");
    private readonly KeyedClassifier _topic = new("t", "shipping", "billing");
    private readonly KeyedClassifier _sentiment = new("s", "positive", "negative");

    private Dictionary<string, ITextClassifier> Models => new()
    {
        ["urgency"] = _urgency,
        ["topic"] = _topic,
        ["sentiment"] = _sentiment,
    };

    private QueryBatchResult Run(string query, params string[] texts) =>
        QueryEvaluator.Evaluate(CompiledQuery.Compile(query, QueryEvaluator.SchemaOf(Models)), Models, texts);

    private bool[] Matches(string query, params string[] texts) => Run(query, texts).Rows.Select(r => r.Matched).ToArray();

    [Fact]
    public void Without_a_threshold_a_clause_holds_when_the_predicted_label_is_its_label()
    {
        Assert.Equal([true, false, false], Matches("urgency:urgent", "u=0.7", "u=0.3", "t=1"));
        Assert.Equal([false, true, true], Matches("urgency:normal", "u=0.7", "u=0.3", "t=1"));
    }

    [Fact]
    public void Thresholds_compare_the_labels_probability()
    {
        string[] texts = ["u=0.9", "u=0.8", "u=0.75", "u=0.2"];
        Assert.Equal([true, true, false, false], Matches("urgency:urgent>=0.8", texts));
        Assert.Equal([true, false, false, false], Matches("urgency:urgent>0.8", texts));
        Assert.Equal([false, true, true, true], Matches("urgency:urgent<=0.8", texts));
        Assert.Equal([false, false, true, true], Matches("urgency:urgent<0.8", texts));
        // A threshold on the second label reads that label's probability (1 - p here).
        Assert.Equal([false, false, false, true], Matches("urgency:normal>=0.5", texts));
    }

    [Fact]
    public void And_or_not_and_parentheses_follow_boolean_logic()
    {
        // All eight combinations of (urgent, shipping, positive).
        var texts = (from u in new[] { 0, 1 } from t in new[] { 0, 1 } from s in new[] { 0, 1 } select $"u={u} t={t} s={s}").ToArray();
        bool U(string x) => x.Contains("u=1");
        bool T(string x) => x.Contains("t=1");
        bool S(string x) => x.Contains("s=1");
        Assert.Equal(texts.Select(x => U(x) && T(x) && !S(x)), Matches("urgency:urgent AND topic:shipping AND NOT sentiment:positive", texts));
        Assert.Equal(texts.Select(x => U(x) || T(x) && !S(x)), Matches("urgency:urgent OR topic:shipping AND NOT sentiment:positive", texts));
        Assert.Equal(texts.Select(x => (U(x) || T(x)) && !S(x)), Matches("(urgency:urgent OR topic:shipping) AND NOT sentiment:positive", texts));
        Assert.Equal(texts.Select(x => !(U(x) && T(x)) || S(x)), Matches("NOT (urgency:urgent AND topic:shipping) OR sentiment:positive", texts));
        Assert.Equal(texts.Select(U), Matches("NOT NOT urgency:urgent", texts));
    }

    [Fact]
    public void Each_model_predicts_the_batch_once_however_many_clauses_use_it()
    {
        string[] texts = ["u=0.9 t=0.9", "u=0.6 t=0.1", "u=0.1"];
        var result = Run("urgency:urgent>=0.8 OR urgency:urgent AND NOT urgency:normal>0.5 AND topic:shipping", texts);
        Assert.Equal((1, 3), (_urgency.Calls, _urgency.TextsSeen));
        Assert.Equal((1, 3), (_topic.Calls, _topic.TextsSeen));
        Assert.Equal(0, _sentiment.Calls);
        Assert.Equal([true, false, false], result.Rows.Select(r => r.Matched));
    }

    [Fact]
    public void Rows_carry_every_clauses_probability_in_clause_order_even_for_repeated_clauses()
    {
        var result = Run("topic:billing AND urgency:urgent>=0.5 AND topic:billing", "u=0.25 t=0.125", "u=0.75 t=1");
        Assert.Equal([0.875f, 0.25f, 0.875f], result.Rows[0].Probabilities);
        Assert.Equal([true, false, true], result.Rows[0].Passed);
        Assert.Equal([0f, 0.75f, 0f], result.Rows[1].Probabilities);
        Assert.Equal([false, true, false], result.Rows[1].Passed);
    }

    [Fact]
    public void The_funnel_counts_each_clause_alone_and_the_and_chain_cumulatively()
    {
        // urgent:    texts 0,1,2,3      (4)
        // shipping:  texts 0,1,4,5      (4)   chain: 0,1        (2)
        // positive:  texts 1,4          (2)   NOT positive → chain: 0 (1)
        string[] texts = ["u=1 t=1", "u=1 t=1 s=1", "u=1", "u=1", "t=1 s=1", "t=1", "", "s=0.4"];
        var q = "urgency:urgent AND topic:shipping AND NOT sentiment:positive";
        var result = Run(q, texts);
        var f = result.Funnel;
        Assert.Equal(8, f.Total);
        Assert.Equal([4L, 4L, 2L], f.ClausePassed);
        Assert.Equal([4L, 2L, 1L], f.Cumulative);
        Assert.Equal(1, f.Matched);
        Assert.Equal(result.Rows.Count(r => r.Matched), f.Matched);

        // An OR at the top is one step; its clauses still count on their own.
        var or = Run("urgency:urgent OR sentiment:positive", texts).Funnel;
        Assert.Equal([4L, 2L], or.ClausePassed);
        Assert.Equal([5L], or.Cumulative);
        Assert.Equal(5, or.Matched);
    }

    [Fact]
    public void Funnels_of_batches_add_up_to_the_funnel_of_the_whole()
    {
        var texts = Enumerable.Range(0, 50).Select(i => $"u={(i % 10) / 10.0:0.0} t={(i % 7) / 7.0:0.00} s={(i % 3) / 3.0:0.00}").ToArray();
        var query = "(urgency:urgent>=0.3 OR sentiment:positive) AND NOT topic:shipping<0.2 AND urgency:normal";
        var whole = Run(query, texts).Funnel;
        var compiled = CompiledQuery.Compile(query, QueryEvaluator.SchemaOf(Models));
        var sum = new QueryFunnel(compiled.Clauses.Count, compiled.Conjuncts.Count);
        foreach (var chunk in texts.Chunk(7)) sum.Add(QueryEvaluator.Evaluate(compiled, Models, chunk).Funnel);
        Assert.Equal(whole.Total, sum.Total);
        Assert.Equal(whole.Matched, sum.Matched);
        Assert.Equal(whole.ClausePassed, sum.ClausePassed);
        Assert.Equal(whole.Cumulative, sum.Cumulative);
        Assert.True(whole.Matched > 0 && whole.Matched < 50, $"fixture should split the texts, matched {whole.Matched}");
    }

    [Fact]
    public void The_printed_funnel_lists_clauses_steps_and_matches()
    {
        string[] texts = ["u=1 t=1", "u=1", "t=1"];
        var compiled = CompiledQuery.Compile("urgency:urgent AND (topic:shipping OR sentiment:positive)", QueryEvaluator.SchemaOf(Models));
        var lines = QueryEvaluator.Evaluate(compiled, Models, texts).Funnel.Describe(compiled);
        Assert.Equal(
        [
            "texts        3",
            "clause 1     2  urgency:urgent",
            "clause 2     2  topic:shipping",
            "clause 3     0  sentiment:positive",
            "step 1       2  urgency:urgent",
            "step 2       1  AND (topic:shipping OR sentiment:positive)",
            "matched      1",
        ], lines);
    }

    [Fact]
    public void An_empty_batch_yields_no_rows_and_calls_no_model()
    {
        var result = Run("urgency:urgent");
        Assert.Empty(result.Rows);
        Assert.Equal(0, result.Funnel.Total);
        Assert.Equal(0, _urgency.Calls);
    }

    [Fact]
    public void A_model_missing_at_run_time_is_a_clear_error()
    {
        var compiled = CompiledQuery.Compile("urgency:urgent AND topic:shipping", QueryEvaluator.SchemaOf(Models));
        var partial = new Dictionary<string, ITextClassifier> { ["urgency"] = _urgency };
        var ex = Assert.Throws<ArgumentException>(() => QueryEvaluator.Evaluate(compiled, partial, ["u=1"]));
        Assert.Contains("'topic'", ex.Message);
    }
}
