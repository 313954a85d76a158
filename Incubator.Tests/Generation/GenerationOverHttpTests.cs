using Incubator.Domain.Review;
using System.Text.Json.Nodes;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Jobs;
using Incubator.Tests.Llm;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Incubator.Tests.Generation;

/// <summary>The generation engine with the real Semantic Kernel client over real HTTP against the fake
/// OpenAI-compatible server: every parsing case, transport failures that are retried, and the usage totals.
/// Concurrency 1, so the scripted replies are consumed in order.</summary>
public sealed class GenerationOverHttpTests
{
    private const string Billing = "billing issue";
    private const string Delivery = "delivery";
    private static readonly string[] Labels = [Billing, Delivery];

    [Fact]
    public void Fake_samples_are_distinct_and_below_the_near_duplicate_threshold()
    {
        var texts = Enumerable.Range(1, 60).SelectMany(n => Enumerable.Range(0, 3).Select(l => FakeSamples.Sentence(n, l))).ToList();
        Assert.Equal(texts.Count, texts.Select(TextNormalizer.Normalize).Distinct().Count());
        var vectors = new CharNgramEmbedder().Embed(texts);
        var index = new DedupIndex(DedupIndex.CharNgramNearThreshold);
        for (var i = 0; i < texts.Count; i++)
        {
            // One label for all: a near-duplicate of any earlier sentence would be rejected.
            var verdict = index.Check("x", texts[i], vectors[i]);
            Assert.True(verdict.Reject is null, $"'{texts[i]}' is {verdict.Similarity:0.000} similar to '{verdict.MatchedText}'");
            index.Add("x", texts[i], vectors[i]);
        }
    }

    private static string A(int n) => FakeSamples.Sentence(n, 0);

    private static string B(int n) => FakeSamples.Sentence(n, 1);

    private static string Obj(params (string Key, string Value)[] pairs) =>
        "{" + string.Join(", ", pairs.Select(p => $"\"{p.Key}\": \"{p.Value}\"")) + "}";

    private static string Pair(int n) => Obj((Billing, A(n)), (Delivery, B(n)));

    [Fact]
    public async Task Every_parsing_case_and_retried_failure_gives_exact_counts_texts_and_usage()
    {
        await using var host = await LlmClientHost.StartAsync(new Dictionary<string, string?>
        {
            ["Llm:MaxAttempts"] = "3",
            // Real time (the attempt limit is a real timer); the slow reply below waits far longer than this, and
            // every other reply starts at once. The waits between attempts are recorded, not slept.
            ["Llm:AttemptTimeout"] = "00:00:05",
            ["Llm:RetryBaseDelay"] = "00:00:01",
            ["Llm:RetryMaxDelay"] = "00:00:30",
        });
        var server = host.Server;
        var usage = new List<(int Prompt, int Completion)>();
        var replyNumber = 0;
        // A successful stream with distinct, known usage numbers.
        FakeReply Streamed(string text, int chunkSize = 1000)
        {
            replyNumber++;
            usage.Add((100 + replyNumber, 20 + replyNumber));
            return FakeReply.Stream(FakeSamples.Split(text, chunkSize), promptTokens: 100 + replyNumber, completionTokens: 20 + replyNumber);
        }

        // The awkwardly split stream: a unicode escape (\u3002 is 。) cut in half, the key cut, the colon alone.
        var escaped = Obj((Billing, A(13).Replace("。", "\\u3002")), (Delivery, B(13)));
        var cutKey = escaped.IndexOf("ling", StringComparison.Ordinal);
        var cutEscape = escaped.IndexOf("\\u30", StringComparison.Ordinal) + 4;
        var colon = escaped.IndexOf(':', cutKey);
        var awkward = new List<string> { escaped[..cutKey], escaped[cutKey..colon], ":", escaped[(colon + 1)..cutEscape] };
        awkward.AddRange(FakeSamples.Split(escaped[cutEscape..], 3));
        // The cut stream: the first pair is complete, the second is cut inside its text and the connection breaks.
        var cutFirst = "{\"" + Billing + "\": \"" + A(14) + "\", ";
        var cutSecond = "\"" + Delivery + "\": \"" + B(14)[..10];

        server.Enqueue(
            // 1 plain object
            Streamed(Pair(1)),
            // 2 fenced, with prose around it
            Streamed("以下が生成結果です。\n```json\n{\n  \"" + Billing + "\": \"" + A(2) + "\",\n  \"" + Delivery + "\": \"" + B(2) + "\"\n}\n```\nご確認ください。", 5),
            // 3 trailing comma
            Streamed("{\n  \"" + Billing + "\": \"" + A(3) + "\",\n  \"" + Delivery + "\": \"" + B(3) + "\",\n}"),
            // 4 two objects in one answer
            Streamed(Pair(4) + "\n" + Pair(5)),
            // 5 an array of objects
            Streamed("[" + Pair(6) + ",\n" + Pair(7) + "]"),
            // 6 keys that differ from the label names in case, underscores, width and spacing
            Streamed(Obj(("Billing_Issue", A(8)), ("ＤＥＬＩＶＥＲＹ ", B(8)))),
            // 7 an unknown key beside both labels
            Streamed(Obj((Billing, A(9)), (Delivery, B(9)), ("refund", "返金の相談をしたいです。"))),
            // 8 a missing label (not a rejection: nothing was written for it)
            Streamed(Obj((Billing, A(10)))),
            // 9 an empty value
            Streamed(Obj((Billing, A(11)), (Delivery, "   "))),
            // 10 a duplicate of reply 1's billing sample
            Streamed(Obj((Billing, A(1)), (Delivery, B(12)))),
            // 11 no JSON at all
            Streamed("申し訳ありませんが、その依頼にはお応えできません。"),
            // 12 streamed in awkward pieces
            Streamed("") with { Chunks = awkward },
            // 13 a stream cut mid-object (no usage arrives: the client estimates it)
            FakeReply.Stream([cutFirst, cutSecond], abortAfterChunks: 2),
            // 14 rate limited with Retry-After, then an answer
            FakeReply.Error(429, "Rate limit reached for requests.", retryAfter: "7", type: "rate_limit_exceeded"),
            Streamed(Pair(15)),
            // 15 a server error, then an answer
            FakeReply.Error(500, "The server had an error while processing your request."),
            Streamed(Pair(16)),
            // 16 silence beyond the attempt timeout, then an answer
            FakeReply.Slow(TimeSpan.FromMinutes(2)),
            Streamed(Pair(17)));
        // Anything beyond the script would be an extra call: answer validly but recognisably, and count below.
        server.DefaultResponder = r => FakeSamples.Reply(r, Obj((Billing, "余分な呼び出しです。"), (Delivery, "余分な呼び出しです。")));

        var profile = new LlmProfile(Guid.NewGuid(), "fake", LlmProvider.OpenAICompatible, server.OpenAIEndpoint, "fake-model", null,
            Temperature: 0.9, MaxOutputTokens: 256, MaxConcurrency: 1, RequestsPerMinute: null, InputPricePerMillion: 3m, OutputPricePerMillion: 15m);
        var client = host.Factory.Create(profile);
        var selector = new EmbedderSelector(new CharNgramEmbedder(), new CharNgramEmbedder());
        var engine = new GenerationEngine(new DemonstrationBank(selector), selector, NullLogger<GenerationEngine>.Instance);
        var store = new MemoryGenerationStore();
        var summary = await engine.RunAsync(FakeSamples.Spec(Labels), client, profile,
            new GenerationSettings(PerLabel: 7, Oversample: 2, Concurrency: 1), store, NullGenerationObserver.Instance, CancellationToken.None);

        var requests = server.ChatRequests;
        var log = host.Logs.AllText;
        Assert.True(summary.StopReason is null, summary.StopReason + "\n" + log);
        // 16 answered calls; three of them needed a second attempt (429, 500, timeout).
        Assert.Equal(16, summary.Calls);
        Assert.Equal(0, summary.FailedCalls);
        Assert.Equal(19, requests.Count);
        Assert.All(requests, r =>
        {
            Assert.Equal("json_object", r.Json?["response_format"]?["type"]?.GetValue<string>());
            Assert.True(r.Json?["stream"]?.GetValue<bool>());
        });
        Assert.Equal(3, host.Delays.Waits.Count);
        Assert.Contains(TimeSpan.FromSeconds(7), host.Delays.Waits);

        // Accepted: billing fills its pool of 14 with reply 14 (reply 10's is a duplicate); replies 15 and 16 then ask
        // for delivery alone, and their billing samples are not kept. Delivery: 14 (missing, empty, cut in 13).
        var billing = store.Candidates.Where(c => c.Label == Billing).ToList();
        var delivery = store.Candidates.Where(c => c.Label == Delivery).ToList();
        int[] billingNumbers = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15];
        int[] deliveryNumbers = [1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 17];
        Assert.Equal(billingNumbers.Select(A).Order(), billing.Select(c => c.Text).Order());
        Assert.Equal(deliveryNumbers.Select(B).Order(), delivery.Select(c => c.Text).Order());
        Assert.Equal(28, summary.Accepted);
        Assert.Equal(2, summary.Surplus);
        Assert.DoesNotContain(store.Candidates, c => c.Ambiguous);
        Assert.Equal(7, billing.Count(c => c.Stage == CandidateStage.Selected));
        Assert.Equal(7, billing.Count(c => c.Stage == CandidateStage.Reserve));
        Assert.Equal(7, delivery.Count(c => c.Stage == CandidateStage.Selected));
        Assert.Equal(7, delivery.Count(c => c.Stage == CandidateStage.Reserve));
        Assert.DoesNotContain(store.Candidates, c => c.Stage == CandidateStage.Pool);
        Assert.Equal(14, summary.Selected);
        Assert.Equal(14, summary.Reserve);
        // The last two calls asked for delivery alone.
        Assert.All(requests.TakeLast(2), r => Assert.Contains("ONE label only: \"delivery\"", r.Json!["messages"]![0]!["content"]!.ToString()));

        // Rejected, by reason, exactly.
        var rejected = store.Rejected.Select(r => r.Piece).ToList();
        var byReason = rejected.GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new Dictionary<RejectReason, int>
        {
            [RejectReason.UnknownLabel] = 1,
            [RejectReason.Empty] = 1,
            [RejectReason.Duplicate] = 1,
            [RejectReason.Unparseable] = 2,
        }, byReason);
        Assert.Equal(byReason, summary.RejectedByReason);
        var unknown = Assert.Single(rejected, r => r.Reason == RejectReason.UnknownLabel);
        Assert.Equal("refund", unknown.Detail);
        Assert.Null(unknown.Label);
        Assert.Equal(Delivery, Assert.Single(rejected, r => r.Reason == RejectReason.Empty).Label);
        var duplicate = Assert.Single(rejected, r => r.Reason == RejectReason.Duplicate);
        Assert.Equal((Billing, A(1)), (duplicate.Label!, duplicate.Text));
        var noJson = Assert.Single(rejected, r => r.Reason == RejectReason.Unparseable && r.Label is null);
        Assert.Equal("申し訳ありませんが、その依頼にはお応えできません。", noJson.Text);
        var cut = Assert.Single(rejected, r => r.Reason == RejectReason.Unparseable && r.Label is not null);
        Assert.Equal((Delivery, B(14)[..10]), (cut.Label!, cut.Text));

        // Usage: the provider's numbers for every answer that carried them; the cut stream's is estimated from the
        // prompt it was sent and the text that arrived (four characters per token).
        var cutRequest = requests[12];
        var messages = cutRequest.Json!["messages"]!.AsArray();
        var estimatedIn = messages.Sum(m => LlmCost.EstimateTokenCount(Content(m!)));
        var estimatedOut = LlmCost.EstimateTokenCount(cutFirst + cutSecond);
        var input = usage.Sum(u => u.Prompt) + estimatedIn;
        var output = usage.Sum(u => u.Completion) + estimatedOut;
        Assert.Equal(15, usage.Count);
        Assert.Equal(input, summary.InputTokens);
        Assert.Equal(output, summary.OutputTokens);
        Assert.Equal(input * 3m / 1_000_000m + output * 15m / 1_000_000m, summary.Cost);
    }

    [Fact]
    public async Task The_portal_job_writes_candidates_rejections_and_usage_to_the_database()
    {
        await using var server = await FakeOpenAiServer.StartAsync();
        using var portal = new PortalFactory()
            .With("Llm:Provider", "OpenAICompatible")
            .With("Llm:Endpoint", server.OpenAIEndpoint)
            .With("Llm:Model", "fake")
            .With("Llm:MaxConcurrency", "1")
            .With("Llm:InputPricePerMillion", "3")
            .With("Llm:OutputPricePerMillion", "15")
            .With("Llm:MaxAttempts", "3")
            // Real waits here (the portal's own delay), kept tiny; Retry-After 0 below asks for none.
            .With("Llm:RetryBaseDelay", "00:00:00.010");
        var usage = new List<(int Prompt, int Completion)>();
        FakeReply Streamed(string text)
        {
            var n = usage.Count + 1;
            usage.Add((200 + n, 40 + n));
            return FakeReply.Stream(FakeSamples.Split(text, 9), promptTokens: 200 + n, completionTokens: 40 + n);
        }
        var cutFirst = "{\"" + Billing + "\": \"" + A(5) + "\", ";
        var cutSecond = "\"" + Delivery + "\": \"" + B(5)[..8];
        server.Enqueue(
            Streamed(Pair(1)),
            Streamed(Obj((Billing, A(2)), (Delivery, B(2)), ("refund", "返金の相談をしたいです。"))),
            Streamed(Obj((Billing, A(3)), (Delivery, ""))),
            Streamed(Obj((Billing, A(1)), (Delivery, B(4)))),
            Streamed("JSONではない答えです。"),
            FakeReply.Stream([cutFirst, cutSecond], abortAfterChunks: 2),
            FakeReply.Error(500, "Internal error."),
            Streamed(Pair(6)),
            FakeReply.Error(429, "Too many requests.", retryAfter: "0"),
            Streamed(Pair(7)));
        server.DefaultResponder = r => FakeSamples.Reply(r, Obj((Billing, "余分な呼び出しです。"), (Delivery, "余分な呼び出しです。")));

        var user = await portal.RegisterAsync(PortalExtensions.UniqueEmail("gen"));
        var (projectId, taskId) = await portal.InScopeAsync(async sp =>
        {
            var project = await sp.GetRequiredService<ProjectService>().CreateProjectAsync(user.Id, "generation over http", null);
            var task = await sp.GetRequiredService<TaskService>().CreateTaskAsync(user.Id, project.Id, FakeSamples.Spec(Labels), null);
            return (project.Id, task.Id);
        });
        var started = await portal.InScopeAsync(sp => sp.GetRequiredService<GenerationService>().StartAsync(user.Id, projectId,
            new StartRunRequest(taskId, LlmConnectionService.ConfiguredConnectionId, PerLabel: 5, Oversample: 1, Concurrency: 1)));

        Job? job = null;
        await Poll.UntilAsync(async () =>
        {
            job = await portal.QueryAsync(db => db.Jobs.AsNoTracking().SingleAsync(j => j.Id == db.GenerationRuns.Single(r => r.Id == started.Id).JobId));
            return job.IsFinished;
        }, TimeSpan.FromSeconds(120), () => Task.FromResult($"job not finished: {JobTestHost.Describe(job)}"));
        Assert.True(job!.State == JobState.Succeeded, JobTestHost.Describe(job));

        var run = await portal.QueryAsync(db => db.GenerationRuns.AsNoTracking().SingleAsync(r => r.Id == started.Id));
        var candidates = await portal.QueryAsync(db => db.Candidates.AsNoTracking().Where(c => c.RunId == run.Id).ToListAsync());
        var rejected = await portal.QueryAsync(db => db.RejectedSamples.AsNoTracking().Where(r => r.RunId == run.Id).ToListAsync());
        var requests = server.ChatRequests;

        // 8 answered calls, two of them after a retry; billing reaches the pool goal (5) at call 7 — call 8 asks for
        // delivery alone and its billing sample is not kept — delivery at call 8.
        Assert.Equal(10, requests.Count);
        Assert.All(requests, r => Assert.Equal("json_object", r.Json?["response_format"]?["type"]?.GetValue<string>()));
        Assert.Equal(8, run.Calls);
        Assert.Equal(0, run.FailedCalls);
        Assert.Null(run.StopReason);
        Assert.Equal((RunOutcome.Completed, 1), (run.Outcome, run.Surplus));
        Assert.Equal(new[] { 1, 2, 3, 5, 6 }.Select(A).Order(), candidates.Where(c => c.Label == Billing).Select(c => c.Text).Order());
        Assert.Equal(new[] { 1, 2, 4, 6, 7 }.Select(B).Order(), candidates.Where(c => c.Label == Delivery).Select(c => c.Text).Order());
        Assert.Equal(5, candidates.Count(c => c.Label == Billing && c.Stage == CandidateStage.Selected));
        Assert.Equal(0, candidates.Count(c => c.Label == Billing && c.Stage == CandidateStage.Reserve));
        Assert.Equal(5, candidates.Count(c => c.Label == Delivery && c.Stage == CandidateStage.Selected));
        Assert.Equal(0, candidates.Count(c => c.Label == Delivery && c.Stage == CandidateStage.Reserve));
        Assert.DoesNotContain(candidates, c => c.Stage == CandidateStage.Pool);
        Assert.All(candidates, c => Assert.Equal((projectId, taskId, CandidateSource.Generation, CandidateStatus.Pending), (c.ProjectId, c.TaskId, c.Source, c.Status)));

        Assert.Equal(new Dictionary<RejectReason, int>
        {
            [RejectReason.UnknownLabel] = 1,
            [RejectReason.Empty] = 1,
            [RejectReason.Duplicate] = 1,
            [RejectReason.Unparseable] = 2,
        }, rejected.GroupBy(r => r.Reason).ToDictionary(g => g.Key, g => g.Count()));
        Assert.Equal("refund", rejected.Single(r => r.Reason == RejectReason.UnknownLabel).Detail);
        Assert.Equal((Delivery, B(5)[..8]), rejected.Where(r => r.Reason == RejectReason.Unparseable && r.Label != null).Select(r => (r.Label!, r.Text)).Single());

        // Tokens: the provider's numbers, plus the estimate for the cut stream (prompt and received text at 4 chars a token).
        var cutMessages = requests[5].Json!["messages"]!.AsArray();
        var input = usage.Sum(u => u.Prompt) + cutMessages.Sum(m => LlmCost.EstimateTokenCount(Content(m!)));
        var output = usage.Sum(u => u.Completion) + LlmCost.EstimateTokenCount(cutFirst + cutSecond);
        Assert.Equal(7, usage.Count);
        Assert.Equal(input, run.InputTokens);
        Assert.Equal(output, run.OutputTokens);
        Assert.True(run.TokensEstimated);
        Assert.Equal(input * 3m / 1_000_000m + output * 15m / 1_000_000m, run.Cost);

        var view = await portal.InScopeAsync(sp => sp.GetRequiredService<GenerationService>().GetRunAsync(user.Id, run.Id));
        Assert.Equal(5, view.RejectedByReason.Values.Sum());
        Assert.Equal([(Billing, 5, 0, 0), (Delivery, 5, 0, 0)], view.Labels.Select(l => (l.Label, l.Selected, l.Pool, l.Reserve)));
    }

    /// <summary>A message's text whether the SDK sent it as a string or as content parts.</summary>
    private static string Content(JsonNode message) => message["content"] switch
    {
        JsonValue v => v.GetValue<string>(),
        JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
        _ => "",
    };
}
