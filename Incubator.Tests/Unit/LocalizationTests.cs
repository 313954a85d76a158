using System.Text.RegularExpressions;
using System.Xml.Linq;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Projects;

namespace Incubator.Tests.Unit;

/// <summary>Every UI string goes through the resource files and both languages are complete. These tests read the
/// sources, so a new string without a translation fails here rather than showing a raw key to a Japanese user.</summary>
public sealed partial class LocalizationTests
{
    private static readonly string Root = Incubator.Tests.Infrastructure.Repo.Root;

    private static Dictionary<string, string> Load(string file) =>
        XDocument.Load(Path.Combine(Root, "Incubator.Web", "Resources", file)).Root!
            .Elements("data").ToDictionary(d => (string)d.Attribute("name")!, d => (string)d.Element("value")!);

    internal static readonly Dictionary<string, string> En = Load("SharedResource.resx");
    internal static readonly Dictionary<string, string> Ja = Load("SharedResource.ja.resx");

    [GeneratedRegex("""L\["([^"]+)"[\],]""")]
    private static partial Regex KeyUse();

    [GeneratedRegex("""DomainValidationException\("[^"]+", "([A-Za-z.]+)"|new\("[a-zA-Z]+", "([A-Za-z.]+)",""")]
    private static partial Regex ErrorCode();

    [Fact]
    public void English_and_Japanese_have_the_same_keys_and_no_empty_values()
    {
        Assert.Empty(En.Keys.Except(Ja.Keys));
        Assert.Empty(Ja.Keys.Except(En.Keys));
        Assert.Empty(En.Where(kv => string.IsNullOrWhiteSpace(kv.Value)).Select(kv => kv.Key));
        Assert.Empty(Ja.Where(kv => string.IsNullOrWhiteSpace(kv.Value)).Select(kv => kv.Key));
    }

    /// <summary>Family names (decision 0012, amendment card21): in Japanese a Japanese name with the technical id in
    /// parentheses, the same name the Japanese model card uses, on every page (FamilyName) and in the form's longer
    /// choice (Family); in English the id as it is. Job notes that name a family say it so too.</summary>
    [Theory]
    [InlineData("sparse")]
    [InlineData("dense")]
    [InlineData("hybrid")]
    [InlineData("auto")]
    [InlineData("pooled")]
    public void Family_names_are_japanese_with_the_id_kept_and_match_the_model_card(string id)
    {
        Assert.Equal(id, En["FamilyName." + id]);
        var ja = Ja["FamilyName." + id];
        Assert.Equal(Incubator.Domain.Training.CardLanguages.Family(id, Incubator.Domain.Training.CardLanguage.Ja), ja);
        Assert.Contains("（" + id + "）", ja);
        Assert.StartsWith(ja[..ja.IndexOf('（')] + "（" + id, Ja["Family." + id]);
        var note = Incubator.Domain.Training.TrainingNotes.Evaluated(id, 1.5, 0.9, 0.8, null, null);
        Assert.StartsWith(ja + ":", Incubator.Tests.Infrastructure.Localized.In("ja", () => Incubator.Web.LocalizerExtensions.JobNote(Incubator.Tests.Infrastructure.Localized.L, note)));
        Assert.StartsWith(id + ":", Incubator.Tests.Infrastructure.Localized.In("en", () => Incubator.Web.LocalizerExtensions.JobNote(Incubator.Tests.Infrastructure.Localized.L, note)));
    }

    [GeneratedRegex("(?<![A-Za-z0-9_.-])(sparse|dense|hybrid|auto|pooled)(?![A-Za-z0-9_-])", RegexOptions.IgnoreCase)]
    private static partial Regex FamilyId();

    /// <summary>A Japanese sentence names a family as the rest of the Japanese UI does (decision 0012, amendment card21;
    /// 0039, amendment words22): by its Japanese name with the id in parentheses (「n-gram 特徴（sparse）」), never by the
    /// bare id ("sparse ファミリーには…"). An id is left bare only as a value to type, quoted: 「sparse」.</summary>
    [Fact]
    public void Japanese_sentences_name_families_by_their_japanese_names()
    {
        var stems = new[] { "sparse", "dense", "hybrid", "auto", "pooled" }
            .ToDictionary(id => id, id => Ja["FamilyName." + id][..Ja["FamilyName." + id].IndexOf('（')]);
        var bare = new List<string>();
        foreach (var (key, value) in Ja)
        {
            if (key.StartsWith("Family.", StringComparison.Ordinal) || key.StartsWith("FamilyName.", StringComparison.Ordinal)) continue;
            foreach (Match m in FamilyId().Matches(value))
            {
                var before = value[..m.Index];
                var named = m.Value == m.Value.ToLowerInvariant() && before.EndsWith(stems[m.Value] + "（", StringComparison.Ordinal);
                var typed = before.EndsWith('「') && value[(m.Index + m.Length)..].StartsWith('」');
                if (!named && !typed) bare.Add($"{key}: …{value[Math.Max(0, m.Index - 12)..Math.Min(value.Length, m.Index + m.Length + 12)]}…");
            }
        }
        Assert.True(bare.Count == 0, "Bare family ids in Japanese sentences:\n" + string.Join("\n", bare));
        // The names the test looks for are there: the sentences that named families bare now use them.
        Assert.Contains("n-gram 特徴（sparse）には文エンコーダーがありません", Ja["Error.TrainingEncoderSparse"]);
        Assert.StartsWith("文埋め込み（dense）には", Ja["Play.NoTermsDense"], StringComparison.Ordinal);
        Assert.StartsWith("n-gram 特徴（sparse）: 特徴量", Ja["JobNote.Train.FitSparse"], StringComparison.Ordinal);
    }

    /// <summary>The placeholders of Japanese sentences set off by a half-width space that are not names: numbers the
    /// file writes without a counter after them (a score, a seed, a version, a step), dates and times, sizes and
    /// amounts, a folder or an address, an error text or a status, a field or a JSON kind. Each entry was read by hand
    /// (0039, amendment fix22); a new sentence with a spaced placeholder fails below until it is either written as a
    /// name (「{0}」, or no space) or listed here.</summary>
    private static readonly Dictionary<string, int[]> SpacedNotNames = new()
    {
        ["Admin.Site.KeyRingUnencrypted"] = [0], ["Admin.Users.LockedUntil"] = [0],
        ["Admin.Users.ResetRequested"] = [0], ["Agreement.Cohen"] = [0], ["Agreement.Fleiss"] = [0],
        ["Corpora.Latin1"] = [0], ["Corpora.Uploading"] = [0], ["Corpora.UploadingProgress"] = [1, 2],
        ["Datasets.Lineage"] = [0, 1, 2], ["Datasets.Seed"] = [0], ["Datasets.TaskVersion"] = [0],
        ["Datasets.Version"] = [2, 3], ["DiffPath.LabelName"] = [0], ["Error.FilterControlCharacters"] = [0],
        ["Error.FilterTooLong"] = [0], ["Error.LabelBatchRange"] = [0], ["Error.LengthRangeInvalid"] = [0, 1],
        ["Error.MiningPerLabelRange"] = [0], ["Error.NotTextLatin1Controls"] = [2],
        ["Error.OverlapOutOfRange"] = [0, 1], ["Error.PageOutOfRange"] = [0], ["Error.PageSizeOutOfRange"] = [0],
        ["Error.PredictTextMissing"] = [0], ["Error.PredictTextTooLong"] = [0],
        ["Error.QueryThresholdOutOfRange"] = [0], ["Error.SelfTrainingRoundsRange"] = [0],
        ["Error.SelfTrainingUncertainRange"] = [0], ["Export.Expires"] = [0], ["Gen.ConfirmFailing.Body"] = [1],
        ["Gen.EstimateCost"] = [0], ["Gen.For"] = [1], ["Gen.WorstCaseValue"] = [2], ["Gold.Current"] = [2],
        ["Invite.Expires"] = [0], ["JobNote.Log.DiagnosticsStepDone"] = [0], ["JobNote.Log.EmbeddingResuming"] = [0],
        ["JobNote.Log.ExportResuming"] = [0], ["JobNote.Log.GenerationStarted"] = [5],
        ["JobNote.Log.GenerationStartedBudget"] = [5], ["JobNote.Log.GenerationSummary"] = [1, 2, 3, 6, 7],
        ["JobNote.Log.GenerationSummaryClean"] = [1, 2, 3, 6, 7], ["JobNote.Log.LabellingResuming"] = [1],
        ["JobNote.Log.QueryResuming"] = [0], ["JobNote.Log.TrainingChosen"] = [1],
        ["JobNote.Log.TrainingChosenGold"] = [1, 3], ["JobNote.Log.TrainingStarted"] = [1],
        ["JobNote.Log.TrainingStartedGold"] = [1], ["JobNote.Mining.Failed.AllQueued"] = [2],
        ["JobNote.Mining.Failed.NothingChosen"] = [1], ["JobNote.Mining.Failed.NothingChosenOther"] = [1],
        ["JobNote.Mining.Short.NoneFor"] = [3], ["JobNote.Progress.TrainingDone"] = [1],
        ["JobNote.Run.Failed.UnreachableTest"] = [0], ["JobNote.Run.Failed.UnreachableTestOk"] = [0],
        ["JobNote.Run.Short.SpendingCap"] = [2], ["JobNote.Run.Waiting"] = [0], ["JobNote.Sample.NotText"] = [0],
        ["JobNote.Sample.Similar"] = [0], ["JobNote.SelfTrain.Log.EvenView"] = [1],
        ["JobNote.SelfTrain.Log.EvenViewCurriculum"] = [1, 2], ["JobNote.SelfTrain.Log.KeptAgreement"] = [6],
        ["JobNote.SelfTrain.Log.KeptGold"] = [6], ["JobNote.SelfTrain.Log.KeptSeedAgreement"] = [6],
        ["JobNote.SelfTrain.Log.KeptSeedGold"] = [6], ["JobNote.SelfTrain.Log.RawView"] = [1, 2],
        ["JobNote.SelfTrain.Progress.Ready"] = [0], ["JobNote.SelfTrain.Round"] = [2],
        ["JobNote.SelfTrain.RoundNoBetter"] = [2], ["JobNote.SelfTrain.Seed"] = [0],
        ["JobNote.Spending.ProjectCost"] = [0, 1, 2], ["JobNote.Spending.ProjectTokens"] = [2],
        ["JobNote.Spending.UserCost"] = [0, 1, 2], ["JobNote.Spending.UserTokens"] = [2],
        ["JobNote.Train.CoverageWarning"] = [0], ["JobNote.Train.Evaluated"] = [2],
        ["JobNote.Train.EvaluatedGold"] = [2, 4], ["JobNote.Train.L2Kept"] = [1], ["JobNote.Train.L2Stop"] = [1],
        ["JobNote.Train.RefittedGold"] = [2], ["JobNote.Train.SparseOnly"] = [0], ["Llm.KeyInClear"] = [0],
        ["Llm.KeyInClearChip"] = [0], ["Llm.LimitsValue"] = [0, 1], ["Llm.TestFailed"] = [0],
        ["Login.LockedOut"] = [0], ["Mining.RunSettings"] = [1], ["Model.Facts"] = [2], ["Play.ModelOption"] = [1],
        ["Play.Probability"] = [0], ["Query.FunnelClause"] = [0], ["Query.FunnelStep"] = [0],
        ["Review.DefinitionAmbiguous"] = [1], ["Review.RunFilter"] = [0], ["Review.Uncertainty"] = [0],
        ["Run.Counts"] = [2, 3, 4], ["Run.CountsAll"] = [0, 1, 2, 3, 4], ["Run.WaitingSince"] = [0],
        ["Spot.AcceptConfirm"] = [1], ["Spot.Accepted"] = [1], ["Spot.Estimate"] = [2, 3],
        ["Stepper.Count.Define"] = [1], ["Tasks.ChangedElsewhere"] = [0], ["Tasks.SavedVersion"] = [0],
        ["Tasks.VersionOf"] = [0],
    };

    [GeneratedRegex(@"\{(\d+)(:[^}]*)?\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]")]
    private static partial Regex JapaneseChar();

    [GeneratedRegex("^ ?(件|個|人|行|列|文字|回|秒|分|日|時間|バイト|トークン|MB|%|％|ミリ秒|次元|つ|サンプル|レビュー|ラウンド|ラベル分|nat|語|番目|/)")]
    private static partial Regex CounterAfter();

    /// <summary>Japanese sentences (0039, amendments words22 and fix22): a name put into a Japanese sentence (an e-mail
    /// address, a label, task, corpus, file, project or gold set; an encoder, family, encoding or format) is in 「」 or
    /// written against the Japanese text, never set off by half-width spaces as English does ("{0} を追加しました").
    /// Numbers keep their spaces as the file writes them: a placeholder counted in English ({0#one|other}), formatted
    /// ({0:0.000}), followed by a counter (件, 個, 行, 秒, トークン…) or written after "v" or "/" is a number; any other
    /// spaced one must be listed in <see cref="SpacedNotNames"/>.</summary>
    [Fact]
    public void Japanese_sentences_set_off_names_with_brackets_not_half_width_spaces()
    {
        var spacedNames = new List<string>();
        var listed = new HashSet<(string, int)>();
        foreach (var (key, value) in Ja)
        {
            foreach (Match m in Placeholder().Matches(value))
            {
                var n = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
                var before = value[..m.Index];
                var after = value[(m.Index + m.Length)..];
                var spaced = (before.Length > 1 && before[^1] == ' ' && JapaneseChar().IsMatch(before[^2].ToString()))
                    || (after.Length > 1 && after[0] == ' ' && JapaneseChar().IsMatch(after[1].ToString()));
                if (!spaced) continue;
                var number = m.Groups[2].Success || En[key].Contains("{" + n + "#", StringComparison.Ordinal)
                    || CounterAfter().IsMatch(after) || before.EndsWith('v') || before.TrimEnd().EndsWith('/');
                if (number) continue;
                if (SpacedNotNames.TryGetValue(key, out var slots) && slots.Contains(n))
                {
                    listed.Add((key, n));
                    continue;
                }
                spacedNames.Add($"{key}: {{{n}}} in “{value[Math.Max(0, m.Index - 12)..Math.Min(value.Length, m.Index + m.Length + 12)]}”");
            }
        }
        Assert.True(spacedNames.Count == 0, "Names set off by half-width spaces in Japanese sentences (write 「{0}」):\n" + string.Join("\n", spacedNames));
        // The list stays honest: each entry is a spaced placeholder of its value (a stale one would let the list grow unread).
        var stale = SpacedNotNames.SelectMany(kv => kv.Value.Select(n => (kv.Key, n))).Where(e => !listed.Contains(e)).ToList();
        Assert.True(stale.Count == 0, "Entries of SpacedNotNames that are no spaced placeholder: " + string.Join(", ", stale));
        // The sentences the rule was written for.
        Assert.Equal("「{0}」を追加しました", Ja["Activity.member.added"]);
        Assert.StartsWith("ファミリー: {0}（指定: {1}）", Ja["Model.Facts"], StringComparison.Ordinal);
        Assert.Contains("「{0}」のサンプルがありません", Ja["Error.PairsNoneFor"], StringComparison.Ordinal);
    }


    [Fact]
    public void Japanese_values_are_translated_not_copied()
    {
        // Identical entries are allowed only for language names, product names and metric names, and for values that
        // are pure formatting ("{0} / {1}").
        string[] properNouns = ["LlmProvider.OpenAI", "LlmProvider.AzureOpenAI"];
        var copied = En.Where(kv => Ja[kv.Key] == kv.Value && !kv.Key.StartsWith("Language.", StringComparison.Ordinal)
                && !properNouns.Contains(kv.Key) && kv.Value.Any(char.IsLetter))
            .Select(kv => kv.Key).ToList();
        Assert.True(copied.Count == 0, "Untranslated: " + string.Join(", ", copied));
    }

    [Fact]
    public void Placeholders_match_between_languages()
    {
        var placeholder = new Regex(@"\{\d+\}");
        foreach (var (key, en) in En)
        {
            var a = placeholder.Matches(en).Select(m => m.Value).Order();
            var b = placeholder.Matches(Ja[key]).Select(m => m.Value).Order();
            Assert.True(a.SequenceEqual(b), $"Placeholders differ for {key}: '{en}' vs '{Ja[key]}'");
        }
    }

    [Fact]
    public void Every_key_used_in_the_portal_exists()
    {
        var files = Directory.EnumerateFiles(Path.Combine(Root, "Incubator.Web"), "*.*", SearchOption.AllDirectories)
            .Where(f => (f.EndsWith(".razor") || f.EndsWith(".cs")) && !f.Contains("/obj/") && !f.Contains("/bin/"));
        var used = files.SelectMany(f => KeyUse().Matches(File.ReadAllText(f)).Select(m => (File: Path.GetFileName(f), Key: m.Groups[1].Value)))
            .Where(u => !u.Key.EndsWith('.'))
            .ToList();
        Assert.NotEmpty(used);
        var missing = used.Where(u => !En.ContainsKey(u.Key)).Select(u => $"{u.File}: {u.Key}").ToList();
        Assert.True(missing.Count == 0, "Missing resource keys: " + string.Join(", ", missing));
    }

    [GeneratedRegex("""new JobNote\("([A-Za-z.]+)",""")]
    private static partial Regex NoteCode();

    [Fact]
    public void Every_job_note_code_has_a_translation_with_no_more_placeholders_than_arguments()
    {
        var notes = Directory.EnumerateFiles(Path.Combine(Root, "Incubator.Domain"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/"))
            .SelectMany(f => NoteCode().Matches(File.ReadAllText(f)))
            .Select(m => "JobNote." + m.Groups[1].Value)
            .Distinct().ToList();
        Assert.Contains("JobNote.Run.Short.Repeats", notes);
        Assert.Contains("JobNote.Run.Waiting", notes);
        Assert.True(notes.Count >= 12, string.Join(", ", notes));
        var missing = notes.Where(k => !En.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, "Missing resource keys: " + string.Join(", ", missing));
        // The notes runs write, rendered through their resource with their own arguments, leave no placeholder unfilled.
        var end = new RunEnd(RunOutcome.StoppedShort, [new LabelShortfall("a", 1, 2, ShortReason.Repeats)], ShortReason.Cap, CallCap: 9);
        var failed = new RunEnd(RunOutcome.Failed, [], ShortReason.Failure, RunFailure.Unreachable, "boom", Calls: 3);
        JobNote[] samples =
        [
            end.Note!, (end with { Reason = ShortReason.Budget }).Note!, (end with { Reason = ShortReason.Repeats }).Note!,
            (end with { Reason = ShortReason.Unusable }).Note!, (end with { Reason = ShortReason.SpendingCap, FailureDetail = "The daily spending cap per user is reached." }).Note!, failed.Note!, (failed with { WaitedFor = TimeSpan.FromMinutes(10) }).Note!,
            (failed with { Failure = RunFailure.AuthRefused }).Note!, (failed with { Failure = RunFailure.Refused }).Note!,
            (failed with { Failure = RunFailure.NoUsableOutput }).Note!, RunNotes.Waiting("boom", TimeSpan.FromMinutes(10)),
            RunNotes.UnreachableTested("boom", new ConnectionTestSummary(false, "no", "0.1")), RunNotes.UnreachableTested("boom", new ConnectionTestSummary(true, null, "0.1")),
        ];
        Assert.Equal(notes.Order(), samples.Select(n => "JobNote." + n.Code).Distinct().Order());
        foreach (var note in samples)
        {
            foreach (var language in new[] { En, Ja })
            {
                var used = new Regex(@"\{(\d+)\}").Matches(language["JobNote." + note.Code]).Select(m => int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
                Assert.True(used.Count > 0 && used.Max() < note.Args.Count, $"{note.Code}: placeholders up to {{{used.DefaultIfEmpty(-1).Max()}}}, {note.Args.Count} arguments");
            }
        }
    }

    [Fact]
    public void Every_enum_value_activity_kind_and_domain_error_code_has_a_translation()
    {
        var keys = Enum.GetNames<ProjectRole>().Select(r => "Role." + r)
            .Concat(Enum.GetNames<JobState>().Select(s => "JobState." + s))
            .Concat(Enum.GetNames<ShortReason>().Select(s => "ShortReason." + s))
            .Concat(typeof(ActivityKinds).GetFields().Where(f => f.IsLiteral).Select(f => "Activity." + (string)f.GetValue(null)!))
            .Concat(typeof(Incubator.Domain.Llm.LlmActivityKinds).GetFields().Select(f => "Activity." + (string)f.GetValue(null)!))
            .Concat(Incubator.Web.Extensions.UiLocalizationExtensions.SupportedCultures.Select(c => "Language." + c));
        var codes = Directory.EnumerateFiles(Root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/") && !f.Contains("Incubator.Tests"))
            .SelectMany(f => ErrorCode().Matches(File.ReadAllText(f)))
            .Select(m => "Error." + (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value))
            .Distinct().ToList();
        Assert.Contains("Error.ProjectNameRequired", codes);
        Assert.Contains("Error.InvitationInvalid", codes);
        var missing = keys.Concat(codes).Where(k => !En.ContainsKey(k)).ToList();
        Assert.True(missing.Count == 0, "Missing resource keys: " + string.Join(", ", missing));
    }

    private static string MarkupOnly(string razor)
    {
        var code = razor.IndexOf("@code", StringComparison.Ordinal);
        var markup = code < 0 ? razor : razor[..code];
        markup = Regex.Replace(markup, @"@\*.*?\*@", "", RegexOptions.Singleline);
        return Regex.Replace(markup, @"^@(inject|using|page|attribute|inherits|implements|layout)\b.*$", "", RegexOptions.Multiline);
    }

    [Fact]
    public void Razor_markup_has_no_hard_coded_sentences()
    {
        // Text between tags must come from @L[...] (or be code). Brand name and symbols are allowed.
        var allowed = new HashSet<string> { "Incubator", "·", "Incubator.Web" };
        var text = new Regex(@">([^<>@{}]*[A-Za-z]{3,}[^<>@{}]*)<");
        var offenders = Directory.EnumerateFiles(Path.Combine(Root, "Incubator.Web", "Components"), "*.razor", SearchOption.AllDirectories)
            .SelectMany(f => text.Matches(MarkupOnly(File.ReadAllText(f))).Select(m => (File: Path.GetFileName(f), Text: m.Groups[1].Value.Trim())))
            .Where(o => o.Text.Length > 0 && !allowed.Contains(o.Text) && !o.Text.StartsWith("//") && !o.Text.Contains("=>"))
            .ToList();
        Assert.True(offenders.Count == 0, "Hard-coded text: " + string.Join(" | ", offenders.Select(o => $"{o.File}: {o.Text}")));
    }
}
