using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Incubator.Domain.Common.Events;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Training;
using Incubator.Web;
using Incubator.Web.Api;
using Incubator.Web.Components.Pages.Review;
using Microsoft.Extensions.Localization;
using Microsoft.Extensions.Options;

namespace Incubator.Tests.Unit;

/// <summary>Issue 18: every message the server can put in front of a user is said from a resource key in both
/// languages. The catalogue below enumerates what the server can emit — notes (run ends, rejected samples, spending
/// caps) by calling every factory with sample arguments, activity kinds, training stages and problem titles by
/// reflection, enum values, and validation codes by reading the domain's source — and each must have an English and a
/// Japanese value, the Japanese one translated, with no placeholder its arguments cannot fill.</summary>
public sealed partial class ServerMessageCatalogueTests
{
    private static readonly string Root = Incubator.Tests.Infrastructure.Repo.Root;

    private static Dictionary<string, string> En => LocalizationTests.En;
    private static Dictionary<string, string> Ja => LocalizationTests.Ja;

    /// <summary>Keys whose Japanese value may equal the English one although it has letters: proper nouns.</summary>
    private static readonly HashSet<string> SameInBothLanguages = ["LlmProvider.OpenAI", "LlmProvider.AzureOpenAI"];

    private static readonly Type[] Simple =
        [typeof(bool), typeof(int), typeof(int?), typeof(long), typeof(long?), typeof(float), typeof(double), typeof(double?), typeof(decimal), typeof(decimal?),
            typeof(string), typeof(TimeSpan)];

    /// <summary>Sample arguments for a factory's parameters; a bool parameter is called both ways. Factories taking
    /// richer arguments (a run's end, a connection test) are called below with every case.</summary>
    private static IEnumerable<object[]> ArgumentSets(MethodInfo m)
    {
        var sets = new List<object[]> { Array.Empty<object>() };
        foreach (var p in m.GetParameters())
        {
            object[] values = p.ParameterType switch
            {
                var t when t == typeof(bool) => [true, false],
                var t when t == typeof(int) => [7],
                var t when t == typeof(long) => [1234L],
                var t when t == typeof(double) => [0.9876],
                var t when t == typeof(float) => [0.1f],
                var t when t == typeof(double?) => [0.75, null!],
                var t when t == typeof(int?) => [1234, null!],
                var t when t == typeof(long?) => [12345L, null!],
                var t when t == typeof(decimal) => [1.5m],
                var t when t == typeof(decimal?) => [2.5m, null!],
                var t when t == typeof(string) => ["sample"],
                var t when t == typeof(TimeSpan) => [TimeSpan.FromMinutes(10)],
                var t => throw new InvalidOperationException($"{m.Name}: no sample value for {t}"),
            };
            sets = sets.SelectMany(s => values.Select(v => s.Append(v).ToArray())).ToList();
        }
        return sets;
    }

    /// <summary>Every note the server writes: each factory of the note catalogues with every bool both ways, and every
    /// way a run can end.</summary>
    internal static List<JobNote> AllNotes()
    {
        var notes = new List<JobNote>();
        foreach (var type in new[] { typeof(SampleNotes), typeof(SpendingNotes), typeof(RunNotes), typeof(TrainingNotes), typeof(Incubator.Domain.Labelling.LabelNotes), typeof(ProgressNotes), typeof(JobTitles), typeof(Incubator.Domain.Mining.SelfTrainingNotes), typeof(Incubator.Domain.Mining.MiningNotes) })
            foreach (var m in type.GetMethods(BindingFlags.Public | BindingFlags.Static).Where(m => m.ReturnType == typeof(JobNote) && m.GetParameters().All(p => Simple.Contains(p.ParameterType))))
                notes.AddRange(ArgumentSets(m).Select(args => (JobNote)m.Invoke(null, args)!));
        notes.Add(RunNotes.UnreachableTested("boom", new ConnectionTestSummary(false, "no", "0.1")));
        notes.Add(RunNotes.UnreachableTested("boom", new ConnectionTestSummary(true, null, "0.1")));
        notes.Add(Incubator.Domain.Labelling.LabelNotes.SpendingCap(1, 2, "cap text", SpendingNotes.UserTokens(9, 9, "t")));
        notes.Add(Incubator.Domain.Mining.MiningRunJob.CorpusGone());
        notes.Add(Incubator.Domain.Mining.CorpusEmbeddingJob.Error("x"));

        var shortfalls = new[] { new LabelShortfall("a", 1, 2, ShortReason.Repeats) };
        foreach (var reason in Enum.GetValues<ShortReason>().Where(r => r != ShortReason.Failure))
            notes.Add(new RunEnd(RunOutcome.StoppedShort, shortfalls, reason, CallCap: 9, FailureDetail: "cap text").Note!);
        foreach (var cap in new[] { SpendingNotes.UserTokens(9, 9, "t"), SpendingNotes.UserCost(1, 1, "t"), SpendingNotes.ProjectTokens(9, 9, "t"), SpendingNotes.ProjectCost(1, 1, "t") })
            notes.Add(new RunEnd(RunOutcome.StoppedShort, shortfalls, ShortReason.SpendingCap) { Cap = cap }.Note!);
        var failed = new RunEnd(RunOutcome.Failed, [], ShortReason.Failure, RunFailure.Unreachable, "boom", Calls: 3);
        foreach (var failure in Enum.GetValues<RunFailure>())
            notes.Add((failed with { Failure = failure }).Note!);
        notes.Add((failed with { WaitedFor = TimeSpan.FromMinutes(10) }).Note!);

        // Job progress and log lines whose factories take richer arguments: every way the worker ends a job, a training
        // line with and without its trainer's note, a training without a gold set.
        notes.Add(ProgressNotes.Failed("boom"));
        notes.Add(ProgressNotes.Failed("boom", RunNotes.Waiting("boom", TimeSpan.FromMinutes(10))));
        notes.Add(ProgressNotes.StoppedShort(notes.First(n => n.Code == "Run.Short.Repeats")));
        notes.Add(ProgressNotes.Ended(JobState.Paused));
        notes.Add(ProgressNotes.TrainingStage(TrainingStages.Fit, null));
        notes.Add(ProgressNotes.TrainingStage(TrainingStages.Fit, TrainingNotes.FitDense()));
        notes.Add(ProgressNotes.TrainingStarted("auto", 1, 80, 20, null, 0));
        // Round 0 is the seed model, said with codes of its own (decision 0039, amendment words22).
        notes.Add(Incubator.Domain.Mining.SelfTrainingNotes.Round(0, 3, 0.8, true));
        notes.Add(Incubator.Domain.Mining.SelfTrainingNotes.Ready(0, 1));
        notes.Add(Incubator.Domain.Mining.SelfTrainingNotes.KeptAgreement(0, 3, 40, 120, 6, "hybrid", 0.9, 25));
        notes.Add(Incubator.Domain.Mining.SelfTrainingNotes.KeptGold(0, 3, 40, 120, 6, "hybrid", 0.9, 25, "gold.tsv"));
        notes.Add(Incubator.Domain.Mining.SelfTrainingNotes.KeptHeldOut(0, 3, 40, 120, 6, "hybrid", 0.9, 25));
        return notes;
    }

    [GeneratedRegex("""DomainValidationException\("[^"]+", "([A-Za-z.]+)"|new\("[a-zA-Z]+", "([A-Za-z.]+)",""")]
    private static partial Regex ErrorCode();

    [GeneratedRegex("""new(?: JobNote)?\("((?:Run|Sample|Spending|Train|SelfTrain|Mining|Label|Progress|Log|Title)\.[A-Za-z.]+)",""")]
    private static partial Regex NoteCode();

    private static IEnumerable<string> DomainSources() =>
        Directory.EnumerateFiles(Path.Combine(Root, "Incubator.Domain"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains("/obj/") && !f.Contains("/bin/") && !f.Contains("/Migrations/"))
            .Select(File.ReadAllText);

    /// <summary>Every key a message the server makes can be shown with, with how many arguments it comes with.</summary>
    internal static List<(string Key, int Args)> Catalogue()
    {
        var keys = AllNotes().Select(n => ("JobNote." + n.Code, n.Args.Count)).ToList();
        string[] Constants(Type t) => t.GetFields(BindingFlags.Public | BindingFlags.Static).Where(f => f.IsLiteral).Select(f => (string)f.GetValue(null)!).ToArray();
        keys.AddRange(Constants(typeof(ActivityKinds)).Concat(Constants(typeof(LlmActivityKinds))).Select(k => ("Activity." + k, 1)));
        keys.Add(("Activity.Other", 2));
        keys.AddRange(TrainingStages.All.Select(s => ("TrainingStage." + s, 0)));
        keys.AddRange(Constants(typeof(ProblemTitles)).Select(c => ("Problem." + c, 0)));
        keys.AddRange(Enum.GetNames<JobState>().Select(s => ("JobState." + s, 0)));
        keys.AddRange(Enum.GetNames<RejectReason>().Select(s => ("Reject." + s, 0)));
        keys.AddRange(Enum.GetNames<RejectionReason>().Select(s => ("RejectionReason." + s, 0)));
        keys.AddRange(Enum.GetNames<ShortReason>().Select(s => ("ShortReason." + s, 0)));
        keys.AddRange(Enum.GetNames<Incubator.Domain.Labelling.LabelRejectReason>().Select(s => ("LabelReject." + s, 0)));
        keys.AddRange(Enum.GetNames<CandidateSource>().Select(s => ("CandidateSource." + s, 0)));
        keys.AddRange(Enum.GetNames<CandidateStatus>().Select(s => ("CandidateStatus." + s, 0)));
        keys.AddRange(Enum.GetNames<DecisionKind>().Select(s => ("DecisionKind." + s, 0)));
        keys.AddRange(FocusKeys.All.Select(k => (k.Description, 0)));
        // Validation errors: their arguments vary per code, so only presence and translation are checked for them.
        keys.AddRange(DomainSources().SelectMany(s => ErrorCode().Matches(s))
            .Select(m => ("Error." + (m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value), int.MaxValue)).Distinct());
        return keys;
    }

    [Fact]
    public void Every_message_the_server_can_emit_has_a_translated_key_in_both_languages_that_its_arguments_fill()
    {
        var catalogue = Catalogue();
        Assert.True(catalogue.Count > 200, $"{catalogue.Count} keys");
        var problems = new List<string>();
        foreach (var (key, args) in catalogue.Distinct())
        {
            if (!En.TryGetValue(key, out var en)) { problems.Add($"{key}: no English"); continue; }
            if (!Ja.TryGetValue(key, out var ja)) { problems.Add($"{key}: no Japanese"); continue; }
            if (ja == en && en.Any(char.IsLetter) && !SameInBothLanguages.Contains(key)) problems.Add($"{key}: Japanese equals English");
            if (args == int.MaxValue) continue;
            foreach (var (language, value) in new[] { ("en", en), ("ja", ja) })
            {
                var highest = Placeholder().Matches(value).Select(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).DefaultIfEmpty(-1).Max();
                if (highest >= args) problems.Add($"{key} ({language}): placeholder {{{highest}}} but {args} arguments");
            }
        }
        Assert.True(problems.Count == 0, string.Join(Environment.NewLine, problems));
    }

    [GeneratedRegex(@"\{(\d+)")]
    private static partial Regex Placeholder();

    [Fact]
    public void The_catalogue_holds_every_note_code_the_domain_writes()
    {
        var written = DomainSources().SelectMany(s => NoteCode().Matches(s)).Select(m => m.Groups[1].Value)
            .Where(c => !c.EndsWith('.')).Distinct().ToList();
        Assert.Contains("Sample.Similar", written);
        Assert.Contains("Spending.UserTokens", written);
        Assert.Contains("Run.Waiting", written);
        Assert.Contains("Progress.MiningScored", written);
        Assert.Contains("Log.TrainingStartedGold", written);
        Assert.Contains("Title.Train", written);
        var catalogued = AllNotes().Select(n => n.Code).ToHashSet();
        Assert.DoesNotContain(written, c => !catalogued.Contains(c));
    }

    /// <summary>Through the portal's own localiser: a Japanese reader gets the run's notes, a rejected sample's detail,
    /// a training stage, an activity line (even of a kind this version does not know) and a problem title in Japanese.</summary>
    [Fact]
    public void The_portals_localiser_says_the_servers_messages_in_japanese_and_never_shows_a_raw_key()
    {
        var l = CountingLocalizer.Standalone();
        var previous = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentUICulture = new CultureInfo("ja");
            foreach (var note in AllNotes())
            {
                var said = l.JobNote(note);
                Assert.NotEqual(note.Message, said);
                Assert.Matches(@"[\p{IsHiragana}\p{IsKatakana}\p{IsCJKUnifiedIdeographs}]", said);
            }
            Assert.Equal("「x」(billing)との類似度 0.988", l.JobNote(SampleNotes.Similar(0.98765, "x", "billing")));
            Assert.Equal("学習", l.TrainingStage(TrainingStages.Fit));
            // The family is named as the Japanese pages name it (card21), the id kept in brackets.
            Assert.Equal("n-gram 特徴（sparse）: L2 0.1 を採用", l.JobNote(TrainingNotes.L2Kept("Sparse", 0.1f)));
            // A run's rejections per reason are said with each reason's Japanese name, not the enum's.
            var summary = l.JobNote(ProgressNotes.GenerationSummary(5, 4, 1, 0, "Unparseable 3, Duplicate 1", 100, 50, 0.01m, 2, 0));
            Assert.Contains("却下: 解析不能 3、重複 1。", summary);
            Assert.DoesNotContain("Unparseable", summary);
            // A self-trained model scored on held-out approved samples names them in Japanese too.
            var kept = l.JobNote(Incubator.Domain.Mining.SelfTrainingNotes.KeptHeldOut(2, 3, 40, 120, 6, "hybrid", 0.9, 25));
            Assert.Contains("学習から除いた承認済みサンプルでの正解率 0.900", kept);
            Assert.DoesNotContain("approved", kept);
            Assert.Equal("その他の操作: detail", l.Activity("something.new", "detail"));
            Assert.DoesNotContain("Activity.", l.Activity(LlmActivityKinds.ConnectionCreated, "c1"), StringComparison.Ordinal);
            Assert.Equal("競合", l["Problem." + ProblemTitles.Conflict]);
            // The spending cap that stopped a run is said in Japanese inside the run's note.
            var capped = new RunEnd(RunOutcome.StoppedShort, [new LabelShortfall("請求", 1, 3, ShortReason.SpendingCap)], ShortReason.SpendingCap,
                FailureDetail: "English cap sentence") { Cap = SpendingNotes.ProjectCost(2m, 2m, "2026-01-01 00:00 UTC") }.Note!;
            Assert.Equal("Run.Short.SpendingCap", capped.Code);
            Assert.Equal("目標に届かず終了: サイト共通接続のプロジェクトごとの1日の利用上限に達しました: 本日 2 のうち 2 を使用済みです。2026-01-01 00:00 UTC にリセットされます。 不足: 請求 1/3（2 件不足）。",
                l.JobNote(capped));
            var error = new Incubator.Domain.Common.DomainError("connection", "SpendingCapReached", "English", [SpendingNotes.UserTokens(5, 5, "2026-01-01 00:00 UTC")]);
            Assert.StartsWith("サイト共通接続のユーザーごとの1日の利用上限に達しました", l.Error(error));
            CultureInfo.CurrentUICulture = new CultureInfo("en");
            Assert.Equal("Other activity: detail", l.Activity("something.new", "detail"));
            Assert.Equal(SampleNotes.Similar(0.98765, "x", "billing").Message, l.JobNote(SampleNotes.Similar(0.98765, "x", "billing")));
        }
        finally
        {
            CultureInfo.CurrentUICulture = previous;
        }
    }
}
