using Incubator.Domain.Embeddings;
using Incubator.Domain.Mining;
using Incubator.Domain.Tasks;
using Incubator.Domain.Training;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Training;

namespace Incubator.Tests.Mining;

/// <summary>The miner's view as a linear head (<see cref="MiningScorer.ViewHead"/>) and folding it into a final model's
/// weights (<see cref="SelfTrainingOptions.TeacherFold"/>): the same probabilities as the view, the folded model's logits
/// are its own plus the teacher's, and the exported graph still matches the in-app model.</summary>
public sealed class SelfTrainingTeacherTests(HybridFixture fixture) : IClassFixture<HybridFixture>
{
    [Fact]
    public void The_view_head_gives_the_same_probabilities_as_the_z_scored_view()
    {
        var spec = new TaskSpec
        {
            Name = "mail",
            Instruction = "Route each customer e-mail.",
            Labels =
            [
                new LabelSpec { Name = "billing", Description = "invoices, charges, refunds and payment problems" },
                new LabelSpec { Name = "shipping", Description = "deliveries, parcels, tracking and late orders" },
            ],
        };
        var embedder = new CharNgramEmbedder();
        var texts = TrainingSeed.MailSamples(20).Select(r => r.Text).ToList();
        var vectors = embedder.Embed(texts);
        foreach (var ensemble in new[] { false, true })
        {
            var scorer = new MiningScorer(spec, embedder, promptEnsemble: ensemble);
            for (var i = 0; i < vectors.Length; i++) scorer.Add(i, vectors[i]);
            string[] labels = ["shipping", "billing"];
            var view = scorer.Probabilities(labels);
            var (w, b) = scorer.ViewHead(labels);
            for (var i = 0; i < vectors.Length; i++)
            {
                var logits = labels.Select((_, j) => w[j].Zip(vectors[i], (p, q) => (double)p * q).Sum() + b[j]).ToArray();
                var max = logits.Max();
                var sum = logits.Sum(l => Math.Exp(l - max));
                for (var j = 0; j < labels.Length; j++) Assert.True(Math.Abs(view[i][j] - Math.Exp(logits[j] - max) / sum) < 1e-5, $"text {i}, label {labels[j]}");
            }
        }
    }

    [Fact]
    public void A_teacher_folded_into_a_hybrid_head_adds_its_logits_and_the_onnx_export_stays_exact()
    {
        // A copy of the fixture's model: the fold changes the head in place.
        using var ms = new MemoryStream();
        fixture.Result.Model.Save(ms);
        ms.Position = 0;
        var model = TrainedClassifier.Load(ms);
        var labels = model.Labels;
        var dense = model.Dense!;
        var texts = fixture.Validation.Select(x => x.Text).Concat(TrainingFixtures.TrickyTexts()).ToList();
        var before = model.Predict(texts);
        // Any linear head over the embedding: each label's direction is the mean embedding of its training rows.
        var teacherW = labels.Select(l => MiningScorer.Mean(dense.Embed(fixture.Train.Where(r => r.Label == l).Select(r => r.Text).ToList()))).ToArray();
        var teacherB = labels.Select((_, i) => 0.1f * i).ToArray();
        const double alpha = 2.0;
        SelfTrainer.FoldInto(model, labels, (teacherW, teacherB), alpha);

        var after = model.Predict(texts);
        var e = dense.Embed(texts);
        for (var i = 0; i < texts.Count; i++)
        {
            double Teacher(int c) => teacherW[c].Zip(e[i], (p, q) => (double)p * q).Sum() + teacherB[c];
            for (var c = 1; c < labels.Count; c++)
            {
                var shift = Math.Log(after[i].Probabilities[c] / after[i].Probabilities[0]) - Math.Log(before[i].Probabilities[c] / before[i].Probabilities[0]);
                Assert.Equal(alpha * (Teacher(c) - Teacher(0)), shift, 2);
            }
        }
        Assert.Contains(Enumerable.Range(0, texts.Count), i => Math.Abs(after[i].Probabilities[0] - before[i].Probabilities[0]) > 1e-3);

        using var onnx = new OnnxClassifier(model.ExportOnnx(), model.Labels, ModelFamily.Hybrid, needsExtensions: true);
        ParityAssert.SameAsOnnx(model, onnx, texts);
        ParityAssert.SameAsOnnx(model, onnx, [""]);
    }
}
