using Incubator.Domain.Datasets;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Projects;
using Incubator.Domain.Training;
using Incubator.Web;

using static Incubator.Tests.Infrastructure.Localized;

namespace Incubator.Tests.Unit;

/// <summary>Names the portal shows for stored words, as a reader writes them in either language: a model's state
/// ("Draft", 下書き — not the stored "draft"), how texts are compared ("character n-grams …", not "char-ngram"), and a
/// frozen dataset in the activity feed (「… · データセット v2（自己学習）」 on a Japanese page, not the English name it
/// was once stored under).</summary>
public sealed class DisplayNamesTests
{
    [Theory]
    [InlineData(ModelVersionState.Draft, "Draft", "下書き")]
    [InlineData(ModelVersionState.Published, "Published", "公開中")]
    [InlineData(ModelVersionState.Failed, "Failed", "失敗")]
    public void A_model_state_is_written_as_a_reader_writes_it(ModelVersionState state, string english, string japanese)
    {
        Assert.Equal(english, In("en", () => L.ModelState(state)));
        Assert.Equal(japanese, In("ja", () => L.ModelState(state)));
    }

    [Fact]
    public void Every_model_state_has_a_capitalised_english_name_and_a_japanese_one()
    {
        foreach (var state in Enum.GetValues<ModelVersionState>())
        {
            var en = In("en", () => L.ModelState(state));
            Assert.Matches("^[A-Z][a-z]+$", en);
            Assert.NotEqual(state.ToString().ToLowerInvariant(), en);
            Assert.Matches(@"^[\p{IsCJKUnifiedIdeographs}\p{IsKatakana}\p{IsHiragana}ー]+$", In("ja", () => L.ModelState(state)));
        }
    }

    [Fact]
    public void How_texts_are_compared_is_named_in_the_readers_words()
    {
        foreach (var name in new[] { CharNgramEmbedder.RepresentationName, MiniLmEmbedder.ModelName })
        {
            var en = In("en", () => L.Representation(name));
            var ja = In("ja", () => L.Representation(name));
            Assert.NotEqual(name, en);
            Assert.NotEqual(en, ja);
            Assert.DoesNotContain(name, en, StringComparison.Ordinal);
        }
        Assert.StartsWith("character n-grams", In("en", () => L.Representation(CharNgramEmbedder.RepresentationName)), StringComparison.Ordinal);
        Assert.StartsWith("文字 n-gram", In("ja", () => L.Representation(CharNgramEmbedder.RepresentationName)), StringComparison.Ordinal);
        // A name a newer version may store is shown as stored, never as a missing resource key.
        Assert.Equal("some-new-encoder", In("en", () => L.Representation("some-new-encoder")));
    }

    [Fact]
    public void A_corpus_embedding_job_names_its_embedder_in_words_in_every_line_it_writes()
    {
        var notes = new[]
        {
            Incubator.Domain.Jobs.ProgressNotes.EmbeddingStarted(5000, CharNgramEmbedder.RepresentationName),
            Incubator.Domain.Jobs.ProgressNotes.Embedded(1200, 5000, CharNgramEmbedder.RepresentationName),
            Incubator.Domain.Jobs.ProgressNotes.EmbeddingDone(5000, CharNgramEmbedder.RepresentationName),
        };
        foreach (var note in notes)
        {
            var en = In("en", () => L.JobNote(note));
            var ja = In("ja", () => L.JobNote(note));
            Assert.Contains("character n-grams", en, StringComparison.Ordinal);
            Assert.Contains("文字 n-gram", ja, StringComparison.Ordinal);
            Assert.DoesNotContain("char-ngram", en + ja, StringComparison.Ordinal);
        }
        Assert.Contains("(MiniLM sentence embeddings)", In("en", () => L.JobNote(Incubator.Domain.Jobs.ProgressNotes.EmbeddingDone(10, MiniLmEmbedder.ModelName))), StringComparison.Ordinal);
    }

    [Fact]
    public void A_frozen_dataset_in_the_activity_feed_is_named_in_the_readers_language()
    {
        static string Line(Incubator.Domain.Jobs.JobNote note)
        {
            // As the feed reads it back from the stored detail and the overview says it.
            var view = ActivityView.From(1, DateTimeOffset.UnixEpoch, ActivityKinds.DatasetFrozen, DatasetNotes.Detail(note), null);
            return L.Activity(view.Kind, view.DetailNote is { } n ? L.JobNote(n) : view.Detail);
        }

        Assert.Equal("froze the dataset “Support · dataset v2 (self-training)”", In("en", () => Line(DatasetNotes.SelfTrained("Support", 2))));
        Assert.Equal("データセット「Support · データセット v2（自己学習）」を固定しました", In("ja", () => Line(DatasetNotes.SelfTrained("Support", 2))));
        Assert.Equal("データセット「問い合わせ · データセット v3」を固定しました", In("ja", () => Line(DatasetNotes.Frozen("問い合わせ", 3))));
        // The API and the command line keep the English sentence.
        var stored = ActivityView.From(1, DateTimeOffset.UnixEpoch, ActivityKinds.DatasetFrozen, DatasetNotes.Detail(DatasetNotes.SelfTrained("Support", 2)), null);
        Assert.Equal("Support · dataset v2 (self-training)", stored.Detail);
    }

    /// <summary>The task history's diff says what changed with the task editor's field names, in the reader's language:
    /// not "preferences.minChars" or "label \"billing\" · description" on a Japanese page.</summary>
    [Theory]
    [InlineData("preferences.minChars", "Min. characters", "最小文字数")]
    [InlineData("instruction", "Instruction", "指示文")]
    [InlineData("label \"請求\" · description", "label “請求” · Definition", "ラベル「請求」· 定義")]
    [InlineData("label \"a · b\" · examples", "label “a · b” · Texts that belong", null)]
    [InlineData("label \"請求\"", "label “請求”", "ラベル「請求」")]
    [InlineData("labels[1].name", "name of label 2", "ラベル 2 の名前")]
    [InlineData("label order", "order of the labels", "ラベルの順序")]
    [InlineData("preferences.somethingNew", "preferences.somethingNew", "preferences.somethingNew")]
    public void A_task_diff_line_says_what_changed_in_the_readers_words(string path, string english, string? japanese)
    {
        Assert.Equal(english, In("en", () => L.DiffWhat(path)));
        if (japanese is not null) Assert.Equal(japanese, In("ja", () => L.DiffWhat(path)));
    }

    [Fact]
    public void Every_field_a_task_diff_names_has_a_name_in_both_languages()
    {
        var before = new Incubator.Domain.Tasks.TaskSpec
        {
            Name = "a", Instruction = "b",
            Labels = [new() { Name = "x", Description = "d" }, new() { Name = "y" }],
            Preferences = new() { Language = "en", MinWords = 1, MaxWords = 2, MinChars = 3, MaxChars = 4, Tone = "t", Domain = "d", Include = ["i"], Avoid = ["v"], Notes = "n" },
        };
        var after = new Incubator.Domain.Tasks.TaskSpec
        {
            Name = "a2", Instruction = "b2",
            Labels = [new() { Name = "y", Examples = ["e"], CounterExamples = ["c"], IsOther = true }, new() { Name = "x", Description = "d2" }],
            Preferences = new() { Language = "ja", TextType = Incubator.Domain.Tasks.TextType.Review, MinWords = 5, MaxWords = 6, MinChars = 7, MaxChars = 8, Tone = "t2", Domain = "d2", Include = ["i2"], Avoid = ["v2"], Notes = "n2" },
        };
        var lines = Incubator.Domain.Tasks.TaskDiff.Compare(before, after);
        Assert.True(lines.Count >= 15, string.Join(", ", lines.Select(l => l.Path)));
        foreach (var line in lines)
        {
            var en = In("en", () => L.DiffWhat(line.Path));
            var ja = In("ja", () => L.DiffWhat(line.Path));
            Assert.DoesNotMatch("preferences|isOther|counterExamples|description|labels\\[", en);
            Assert.DoesNotMatch("preferences|isOther|counterExamples|description|labels\\[|label", ja);
        }
    }
}
