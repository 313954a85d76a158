using Incubator.Domain.Benchmarks;
using Incubator.Domain.Mining.Query;
using Incubator.Domain.Training;

namespace Incubator.Tests.Mining;

/// <summary>The evaluator over real trained sparse models: its verdicts are exactly the boolean combination of each
/// model's own predictions, and on texts whose aspects are known the matches are the right ones.</summary>
public sealed class QueryRealModelTests(QueryModelsFixture fixture) : IClassFixture<QueryModelsFixture>
{
    [Fact]
    public void A_three_model_query_agrees_with_each_models_own_predictions_and_finds_the_right_texts()
    {
        var rng = new Random(99);
        var samples = Enumerable.Range(0, 400).Select(_ => SyntheticTickets.Make(rng)).ToList();
        var texts = samples.Select(s => s.Text).ToList();
        var models = fixture.Models.ToDictionary(m => m.Key, m => (ITextClassifier)m.Value);
        var query = CompiledQuery.Compile("urgency:urgent AND topic:shipping>=0.5 AND NOT sentiment:positive", QueryEvaluator.SchemaOf(models));

        var result = QueryEvaluator.Evaluate(query, models, texts);

        var urgency = models["urgency"].Predict(texts);
        var topic = models["topic"].Predict(texts);
        var sentiment = models["sentiment"].Predict(texts);
        var shippingIndex = models["topic"].Labels.ToList().IndexOf("shipping");
        for (var i = 0; i < texts.Count; i++)
        {
            var expected = urgency[i].Label == "urgent" && topic[i].Probabilities[shippingIndex] >= 0.5f && sentiment[i].Label != "positive";
            Assert.Equal(expected, result.Rows[i].Matched);
            Assert.Equal(topic[i].Probabilities[shippingIndex], result.Rows[i].Probabilities[1]);
        }

        // Truth: urgent (aspect 0 label 0), shipping (aspect 1 label 0), not positive (aspect 2 label 1): one text in eight.
        var truth = samples.Select(s => s.Labels[0] == 0 && s.Labels[1] == 0 && s.Labels[2] == 1).ToList();
        var matched = result.Rows.Where(r => r.Matched).Select(r => r.Index).ToList();
        var truePositives = matched.Count(i => truth[i]);
        Assert.True(truth.Count(t => t) >= 30, "fixture should hold enough matching texts");
        Assert.True(truePositives >= 0.9 * matched.Count, $"precision {truePositives}/{matched.Count}");
        Assert.True(truePositives >= 0.9 * truth.Count(t => t), $"recall {truePositives}/{truth.Count(t => t)}");

        // The funnel's cumulative counts shrink along the AND chain and end at the number of matches.
        var f = result.Funnel;
        Assert.True(f.Cumulative[0] >= f.Cumulative[1] && f.Cumulative[1] >= f.Cumulative[2]);
        Assert.Equal(matched.Count, f.Cumulative[2]);
        Assert.Equal(urgency.Count(p => p.Label == "urgent"), f.ClausePassed[0]);
    }
}
