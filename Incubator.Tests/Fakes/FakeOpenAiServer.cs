using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Incubator.Tests.Fakes;

/// <summary>One scripted answer. Made with the static helpers; <see cref="Delay"/> is waited before anything is sent.</summary>
public sealed record FakeReply
{
    public enum ReplyKind { Completion, Stream, Error }

    public ReplyKind Kind { get; init; }
    public string Text { get; init; } = "";
    public IReadOnlyList<string> Chunks { get; init; } = [];
    public int PromptTokens { get; init; } = 11;
    public int CompletionTokens { get; init; } = 7;
    /// <summary>False: the answer carries no usage object (as some OpenAI-compatible servers do).</summary>
    public bool IncludeUsage { get; init; } = true;
    public string FinishReason { get; init; } = "stop";
    public TimeSpan Delay { get; init; }
    public TimeSpan ChunkDelay { get; init; }
    /// <summary>Stream only: abort the connection after this many content chunks (0 = before any).</summary>
    public int? AbortAfterChunks { get; init; }
    /// <summary>Stream only: after the first chunk, wait for this before sending the rest (proves the client sees
    /// deltas while the stream is still open).</summary>
    public Task? GateAfterFirstChunk { get; init; }
    public int Status { get; init; } = 200;
    public string? RetryAfter { get; init; }
    public string ErrorMessage { get; init; } = "";
    public string ErrorType { get; init; } = "server_error";

    public static FakeReply Completion(string text, int promptTokens = 11, int completionTokens = 7, string finishReason = "stop", bool includeUsage = true, TimeSpan delay = default) =>
        new() { Kind = ReplyKind.Completion, Text = text, PromptTokens = promptTokens, CompletionTokens = completionTokens, FinishReason = finishReason, IncludeUsage = includeUsage, Delay = delay };

    public static FakeReply Stream(IReadOnlyList<string> chunks, TimeSpan chunkDelay = default, bool includeUsage = true, string finishReason = "stop", int? abortAfterChunks = null, Task? gateAfterFirstChunk = null, int promptTokens = 11, int completionTokens = 7) =>
        new() { Kind = ReplyKind.Stream, Chunks = chunks, ChunkDelay = chunkDelay, IncludeUsage = includeUsage, FinishReason = finishReason, AbortAfterChunks = abortAfterChunks, GateAfterFirstChunk = gateAfterFirstChunk, PromptTokens = promptTokens, CompletionTokens = completionTokens };

    public static FakeReply Error(int status, string message, string? retryAfter = null, string type = "server_error") =>
        new() { Kind = ReplyKind.Error, Status = status, ErrorMessage = message, RetryAfter = retryAfter, ErrorType = type };

    /// <summary>Says nothing for <paramref name="delay"/> (longer than the client's attempt timeout), then answers.</summary>
    public static FakeReply Slow(TimeSpan delay, string text = "late") => Completion(text) with { Delay = delay };
}

/// <summary>What the fake received.</summary>
public sealed record RecordedRequest(string Method, string Path, string Query, IReadOnlyDictionary<string, string> Headers, string Body)
{
    public JsonNode? Json => string.IsNullOrEmpty(Body) ? null : JsonNode.Parse(Body);

    public string? Header(string name) => Headers.TryGetValue(name, out var v) ? v : null;
}

/// <summary>A small OpenAI-compatible server on 127.0.0.1 (a free port), started by the tests themselves: POST
/// /v1/chat/completions (and Azure's /openai/deployments/{d}/chat/completions), answered from a FIFO script, then by
/// <see cref="DefaultResponder"/>; GET /api/tags for the Ollama detector. Records every request and counts how many
/// are in flight at once.</summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeReply> _script = new();
    private readonly ConcurrentQueue<RecordedRequest> _requests = new();
    private int _inFlight;
    private int _maxInFlight;

    private FakeOpenAiServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>What an OpenAI-compatible connection's Endpoint would be: {BaseUrl}/v1.</summary>
    public string OpenAIEndpoint => new Uri(BaseUrl, "/v1").ToString().TrimEnd('/');

    public Func<RecordedRequest, FakeReply> DefaultResponder { get; set; } = _ => FakeReply.Completion("ok");

    /// <summary>Models listed by GET /api/tags; null answers 404.</summary>
    public IReadOnlyList<string>? OllamaModels { get; set; } = ["llama3.2:latest", "qwen2.5:7b"];

    public IReadOnlyList<RecordedRequest> Requests => [.. _requests];

    public IReadOnlyList<RecordedRequest> ChatRequests => [.. _requests.Where(r => r.Path.EndsWith("/chat/completions", StringComparison.Ordinal))];

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public void Enqueue(params FakeReply[] replies)
    {
        foreach (var r in replies) _script.Enqueue(r);
    }

    /// <param name="port">0: a free port. A port the test used before (<see cref="BaseUrl"/>'s) brings an endpoint that
    /// was stopped back at the same address, as a restarted local model server would be.</param>
    public static async Task<FakeOpenAiServer> StartAsync(int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        var app = builder.Build();
        var server = new FakeOpenAiServer(app);
        app.MapPost("/{**path}", server.HandleChatAsync);
        app.MapGet("/api/tags", server.HandleTags);
        await app.StartAsync();
        server.BaseUrl = new Uri(app.Urls.Single(u => u.StartsWith("http://127.0.0.1:", StringComparison.Ordinal)));
        return server;
    }

    private IResult HandleTags(HttpContext context)
    {
        Record(context, "");
        if (OllamaModels is null) return Results.NotFound();
        return Results.Json(new { models = OllamaModels.Select(m => new { name = m, model = m, size = 1234 }) });
    }

    private async Task HandleChatAsync(HttpContext context)
    {
        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
            body = await reader.ReadToEndAsync();
        var request = Record(context, body);
        if (!context.Request.Path.Value!.EndsWith("/chat/completions", StringComparison.Ordinal))
        {
            context.Response.StatusCode = 404;
            return;
        }

        var now = Interlocked.Increment(ref _inFlight);
        for (var seen = Volatile.Read(ref _maxInFlight); now > seen; seen = Volatile.Read(ref _maxInFlight))
            if (Interlocked.CompareExchange(ref _maxInFlight, now, seen) == seen) break;
        try
        {
            var reply = _script.TryDequeue(out var scripted) ? scripted : DefaultResponder(request);
            var aborted = context.RequestAborted;
            if (reply.Delay > TimeSpan.Zero) await Task.Delay(reply.Delay, aborted);
            var model = request.Json?["model"]?.GetValue<string>() ?? "fake-model";
            switch (reply.Kind)
            {
                case FakeReply.ReplyKind.Error:
                    context.Response.StatusCode = reply.Status;
                    if (reply.RetryAfter is not null) context.Response.Headers.RetryAfter = reply.RetryAfter;
                    await context.Response.WriteAsJsonAsync(new { error = new { message = reply.ErrorMessage, type = reply.ErrorType, param = (string?)null, code = (string?)null } }, aborted);
                    break;
                case FakeReply.ReplyKind.Completion:
                    await context.Response.WriteAsJsonAsync(CompletionJson(reply, model), aborted);
                    break;
                case FakeReply.ReplyKind.Stream:
                    await StreamAsync(context, reply, model, aborted);
                    break;
            }
        }
        catch (OperationCanceledException)
        {
            // The client gave up (timeout, cancellation): nothing to answer.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private static async Task StreamAsync(HttpContext context, FakeReply reply, string model, CancellationToken aborted)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.StartAsync(aborted);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (var i = 0; i < reply.Chunks.Count; i++)
        {
            if (reply.AbortAfterChunks == i)
            {
                await AbortAsync(context);
                return;
            }
            var delta = i == 0 ? new JsonObject { ["role"] = "assistant", ["content"] = reply.Chunks[i] } : new JsonObject { ["content"] = reply.Chunks[i] };
            await SendAsync(context, Chunk(model, created, delta, finishReason: null), aborted);
            if (i == 0 && reply.GateAfterFirstChunk is { } gate) await gate.WaitAsync(TimeSpan.FromSeconds(10), aborted);
            if (reply.ChunkDelay > TimeSpan.Zero) await Task.Delay(reply.ChunkDelay, aborted);
        }
        if (reply.AbortAfterChunks == reply.Chunks.Count)
        {
            await AbortAsync(context);
            return;
        }
        await SendAsync(context, Chunk(model, created, new JsonObject(), reply.FinishReason), aborted);
        if (reply.IncludeUsage)
        {
            var usage = Chunk(model, created, null, null);
            usage["choices"] = new JsonArray();
            usage["usage"] = Usage(reply);
            await SendAsync(context, usage, aborted);
        }
        await context.Response.WriteAsync("data: [DONE]\n\n", aborted);
        await context.Response.Body.FlushAsync(aborted);
    }

    /// <summary>Breaks the connection (a reset, not a clean end). Waits a moment first: a reset can make the client's
    /// kernel drop bytes it has received but not yet read, and the test is about a cut after those bytes.</summary>
    private static async Task AbortAsync(HttpContext context)
    {
        await Task.Delay(200);
        context.Abort();
    }

    private static async Task SendAsync(HttpContext context, JsonObject chunk, CancellationToken aborted)
    {
        await context.Response.WriteAsync($"data: {chunk.ToJsonString()}\n\n", aborted);
        await context.Response.Body.FlushAsync(aborted);
    }

    private static JsonObject Chunk(string model, long created, JsonObject? delta, string? finishReason) => new()
    {
        ["id"] = "chatcmpl-fake",
        ["object"] = "chat.completion.chunk",
        ["created"] = created,
        ["model"] = model,
        ["choices"] = delta is null ? new JsonArray() : new JsonArray(new JsonObject
        {
            ["index"] = 0,
            ["delta"] = delta,
            ["finish_reason"] = finishReason,
        }),
    };

    private static JsonObject CompletionJson(FakeReply reply, string model)
    {
        var json = new JsonObject
        {
            ["id"] = "chatcmpl-fake",
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new JsonArray(new JsonObject
            {
                ["index"] = 0,
                ["message"] = new JsonObject { ["role"] = "assistant", ["content"] = reply.Text },
                ["finish_reason"] = reply.FinishReason,
            }),
        };
        if (reply.IncludeUsage) json["usage"] = Usage(reply);
        return json;
    }

    private static JsonObject Usage(FakeReply reply) => new()
    {
        ["prompt_tokens"] = reply.PromptTokens,
        ["completion_tokens"] = reply.CompletionTokens,
        ["total_tokens"] = reply.PromptTokens + reply.CompletionTokens,
    };

    private RecordedRequest Record(HttpContext context, string body)
    {
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(context.Request.Method, context.Request.Path.Value ?? "", context.Request.QueryString.Value ?? "", headers, body);
        _requests.Enqueue(recorded);
        return recorded;
    }

    /// <summary>The labels a generation request asks for, read from its system message the way a model follows it: the
    /// keys of "Its keys are exactly these … label names" or the single key of "… ONE label only". Empty when the
    /// request is not a generation prompt.</summary>
    public static IReadOnlyList<string> AskedLabels(RecordedRequest request, IReadOnlyList<string> labels)
    {
        var system = request.Json?["messages"]?[0]?["content"] switch
        {
            JsonValue v => v.GetValue<string>(),
            JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>() ?? "")),
            _ => "",
        };
        return AskedLabels(system, labels);
    }

    /// <summary><see cref="AskedLabels(RecordedRequest, IReadOnlyList{string})"/> from the system message itself.</summary>
    public static IReadOnlyList<string> AskedLabels(string system, IReadOnlyList<string> labels) =>
        Incubator.Domain.Generation.PromptBuilder.AskedLabels(system, labels);

    /// <summary>A responder that behaves like a model following the generation prompt: it answers with one JSON object
    /// holding exactly the labels asked for, <paramref name="sentence"/>(n, label index) for answer n — except that
    /// <paramref name="scarce"/> is only ever written in <paramref name="scarceWays"/> ways (the label a model has few
    /// ideas for). Streams when the request asks for a stream.</summary>
    /// <param name="firstAnswer">The number of the first answer: a writer for a restarted server continues where the
    /// old one stopped, as a model does not start over.</param>
    public static Func<RecordedRequest, FakeReply> LabelWriter(IReadOnlyList<string> labels, Func<int, int, string> sentence, string? scarce = null,
        int scarceWays = 0, TimeSpan delay = default, int promptTokens = 11, int completionTokens = 7, int firstAnswer = 1)
    {
        var answers = firstAnswer - 1;
        return request =>
        {
            var n = Interlocked.Increment(ref answers);
            var o = new JsonObject();
            foreach (var label in AskedLabels(request, labels))
            {
                var i = labels.ToList().IndexOf(label);
                o[label] = label == scarce && scarceWays > 0 ? sentence(n % scarceWays + 1, i) : sentence(n, i);
            }
            var text = o.ToJsonString(Relaxed);
            var stream = request.Json?["stream"]?.GetValue<bool>() == true;
            var reply = stream
                ? Stream([text], promptTokens: promptTokens, completionTokens: completionTokens)
                : FakeReply.Completion(text, promptTokens, completionTokens);
            return reply with { Delay = delay };
        };
    }

    private static FakeReply Stream(IReadOnlyList<string> chunks, int promptTokens, int completionTokens) =>
        FakeReply.Stream(chunks, promptTokens: promptTokens, completionTokens: completionTokens);

    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>An HTTP date <paramref name="fromNow"/> ahead, for Retry-After's date form.</summary>
    public static string HttpDate(TimeSpan fromNow) => (DateTimeOffset.UtcNow + fromNow).ToString("r", CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
