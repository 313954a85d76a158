using System.Net;
using Incubator.Domain.Llm;
using Incubator.Tests.Fakes;
using Incubator.Tests.Jobs;

namespace Incubator.Tests.Llm;

/// <summary>Retries, Retry-After, per-attempt timeouts, cancellation and the per-profile concurrency cap, through the
/// real connector and the fake server. Waits go through <see cref="RecordingDelay"/>: the tests check which delays
/// were chosen, not how long anything took.</summary>
public sealed class LlmResilienceTests : IAsyncLifetime
{
    private LlmClientHost _host = null!;

    public async Task InitializeAsync() => _host = await StartAsync(attemptTimeout: "00:00:30");

    /// <param name="attemptTimeout">Generous by default: a cold first call (JIT, connection) on a busy two-core
    /// machine can take a second, and only the timeout tests want attempts to time out.</param>
    private static Task<LlmClientHost> StartAsync(string attemptTimeout) => LlmClientHost.StartAsync(new Dictionary<string, string?>
    {
        ["Llm:MaxAttempts"] = "3",
        ["Llm:AttemptTimeout"] = attemptTimeout,
        ["Llm:RetryBaseDelay"] = "00:00:01",
        ["Llm:RetryMaxDelay"] = "00:00:30",
    });

    public async Task DisposeAsync() => await _host.DisposeAsync();

    private static readonly LlmRequest Request = new("", "Say something.", JsonMode: false);

    [Fact]
    public async Task Status_429_with_Retry_After_seconds_waits_that_long_then_succeeds()
    {
        _host.Server.Enqueue(FakeReply.Error(429, "Rate limit reached.", retryAfter: "1", type: "rate_limit_error"), FakeReply.Completion("after the wait"));

        var response = await _host.Client().CompleteAsync(Request, CancellationToken.None);

        Assert.Equal("after the wait", response.Text);
        Assert.Equal(2, _host.Server.ChatRequests.Count);
        Assert.Equal([TimeSpan.FromSeconds(1)], _host.Delays.Waits);
        // Both attempts carried the same body: the retry re-sent a faithful copy.
        Assert.Equal(_host.Server.ChatRequests[0].Body, _host.Server.ChatRequests[1].Body);
    }

    [Fact]
    public async Task Retry_After_as_an_http_date_is_honoured()
    {
        _host.Server.Enqueue(FakeReply.Error(503, "Busy.", retryAfter: FakeOpenAiServer.HttpDate(TimeSpan.FromSeconds(5))), FakeReply.Completion("ok"));

        await _host.Client().CompleteAsync(Request, CancellationToken.None);

        var wait = Assert.Single(_host.Delays.Waits);
        // HTTP dates have whole seconds: about five seconds from when the answer was read.
        Assert.InRange(wait, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task Status_500_twice_then_success_backs_off_exponentially_with_jitter()
    {
        _host.Server.Enqueue(FakeReply.Error(500, "Oops."), FakeReply.Error(502, "Bad gateway."), FakeReply.Completion("third time"));

        var response = await _host.Client().CompleteAsync(Request, CancellationToken.None);

        Assert.Equal("third time", response.Text);
        Assert.Equal(3, _host.Server.ChatRequests.Count);
        var waits = _host.Delays.Waits.ToArray();
        Assert.Equal(2, waits.Length);
        Assert.InRange(waits[0], TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1));
        Assert.InRange(waits[1], TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
        Assert.Contains(_host.Logs.Lines, l => l.Contains("500 (Internal Server Error) (attempt 1 of 3)", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Persistent_500_gives_up_after_max_attempts_with_status_and_provider_message()
    {
        _host.Server.DefaultResponder = _ => FakeReply.Error(500, "The server had an error while processing your request.");

        var ex = await Assert.ThrowsAsync<LlmException>(() => _host.Client().CompleteAsync(Request, CancellationToken.None));

        Assert.Equal(3, _host.Server.ChatRequests.Count);
        Assert.Equal(500, ex.StatusCode);
        Assert.Equal(3, ex.Attempts);
        Assert.Equal("The LLM endpoint answered 500 (InternalServerError) after 3 attempts: The server had an error while processing your request.", ex.Message);
    }

    [Fact]
    public async Task Client_errors_are_not_retried()
    {
        _host.Server.Enqueue(FakeReply.Error(400, "Invalid 'messages'.", type: "invalid_request_error"));

        var ex = await Assert.ThrowsAsync<LlmException>(() => _host.Client().CompleteAsync(Request, CancellationToken.None));

        Assert.Single(_host.Server.ChatRequests);
        Assert.Empty(_host.Delays.Waits);
        Assert.Equal(400, ex.StatusCode);
        Assert.Equal("Invalid 'messages'.", ex.ProviderMessage);
    }

    [Fact]
    public async Task An_attempt_that_takes_longer_than_the_timeout_is_retried()
    {
        await using var host = await StartAsync(attemptTimeout: "00:00:01");
        host.Server.Enqueue(FakeReply.Slow(TimeSpan.FromSeconds(20)));
        host.Server.DefaultResponder = _ => FakeReply.Completion("in time");

        var response = await host.Client().CompleteAsync(Request, CancellationToken.None);

        Assert.Equal("in time", response.Text);
        // Two requests, unless the machine was so busy that the quick answer also missed the second.
        Assert.InRange(host.Server.ChatRequests.Count, 2, 3);
        Assert.Equal(host.Server.ChatRequests.Count - 1, host.Delays.Waits.Count);
    }

    [Fact]
    public async Task Attempts_that_all_time_out_end_in_a_clear_exception()
    {
        await using var host = await StartAsync(attemptTimeout: "00:00:01");
        host.Server.DefaultResponder = _ => FakeReply.Slow(TimeSpan.FromSeconds(20));

        var ex = await Assert.ThrowsAsync<LlmException>(() => host.Client().CompleteAsync(Request, CancellationToken.None));

        Assert.Equal(3, host.Server.ChatRequests.Count);
        Assert.Null(ex.StatusCode);
        Assert.Equal("The LLM endpoint gave no answer within 1 s, 3 times.", ex.Message);
    }

    [Fact]
    public async Task Connection_refused_is_retried_then_reported()
    {
        var closed = ClosedPort();
        var profile = _host.Profile(endpoint: $"http://127.0.0.1:{closed}/v1");

        var ex = await Assert.ThrowsAsync<LlmException>(() => _host.Client(profile).CompleteAsync(Request, CancellationToken.None));

        Assert.Equal(2, _host.Delays.Waits.Count);
        Assert.StartsWith("Could not reach the LLM endpoint after 3 attempts:", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_during_a_retry_wait_stops_at_once()
    {
        var waiting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _host.Delays.Behaviour = async (_, ct) =>
        {
            waiting.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        };
        _host.Server.DefaultResponder = _ => FakeReply.Error(429, "Slow down.", retryAfter: "20");
        using var cts = new CancellationTokenSource();

        var call = _host.Client().CompleteAsync(Request, cts.Token);
        await waiting.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Single(_host.Server.ChatRequests);
    }

    [Fact]
    public async Task Cancellation_during_a_slow_answer_is_not_retried()
    {
        _host.Server.Enqueue(FakeReply.Slow(TimeSpan.FromSeconds(30)));
        using var cts = new CancellationTokenSource();

        var call = _host.Client().CompleteAsync(Request, cts.Token);
        // Cancel once the server holds the request, so the cancel lands during the slow answer however loaded the
        // machine is (a fixed 100 ms could pass before the request was even sent).
        for (var i = 0; i < 400 && _host.Server.ChatRequests.Count == 0; i++) await Task.Delay(25);
        Assert.Single(_host.Server.ChatRequests);
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call.WaitAsync(TimeSpan.FromSeconds(10)));

        Assert.Single(_host.Server.ChatRequests);
        Assert.Empty(_host.Delays.Waits);
    }

    [Fact]
    public async Task No_more_than_max_concurrency_requests_are_in_flight_per_profile()
    {
        _host.Server.DefaultResponder = _ => FakeReply.Completion("slow", delay: TimeSpan.FromMilliseconds(150));
        var profile = _host.Profile(maxConcurrency: 2);

        // Separate clients for the same profile share its limiter.
        var calls = Enumerable.Range(0, 6)
            .Select(_ => _host.Factory.Create(profile).CompleteAsync(Request, CancellationToken.None))
            .ToArray();
        var responses = await Task.WhenAll(calls);

        Assert.All(responses, r => Assert.Equal("slow", r.Text));
        Assert.Equal(6, _host.Server.ChatRequests.Count);
        Assert.Equal(2, _host.Server.MaxInFlight);
    }

    [Fact]
    public void Request_window_allows_the_limit_per_minute_then_says_how_long_to_wait()
    {
        var window = new RequestWindow(2, TimeSpan.FromMinutes(1));
        var t0 = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

        Assert.Null(window.TryAcquire(t0));
        Assert.Null(window.TryAcquire(t0.AddSeconds(10)));
        Assert.Equal(TimeSpan.FromSeconds(40), window.TryAcquire(t0.AddSeconds(20)));
        Assert.Null(window.TryAcquire(t0.AddSeconds(60)));
        Assert.Equal(TimeSpan.FromSeconds(10), window.TryAcquire(t0.AddSeconds(60)));
    }

    [Fact]
    public async Task Requests_per_minute_cap_waits_for_the_window()
    {
        var profile = _host.Profile() with { RequestsPerMinute = 2 };
        var client = _host.Client(profile);
        // The recording delay returns at once, so the third request's wait is recorded and then the window is
        // asked again; it stays full (real time barely moves), so let the third wait be the real one, briefly.
        _host.Delays.Behaviour = (_, ct) => Task.Delay(TimeSpan.FromMilliseconds(5), ct);
        using var cts = new CancellationTokenSource();

        await client.CompleteAsync(Request, CancellationToken.None);
        await client.CompleteAsync(Request, CancellationToken.None);
        var third = client.CompleteAsync(Request, cts.Token);
        await Poll.UntilAsync(() => Task.FromResult(!_host.Delays.Waits.IsEmpty), TimeSpan.FromSeconds(10), () => Task.FromResult("no rate wait"));
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
        Assert.Equal(2, _host.Server.ChatRequests.Count);
        Assert.InRange(_host.Delays.Waits.First(), TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(60));
    }

    [Fact]
    public void Retry_after_parsing_reads_seconds_dates_and_milliseconds()
    {
        var now = new DateTimeOffset(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
        using var seconds = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        seconds.Headers.TryAddWithoutValidation("Retry-After", "7");
        using var date = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable);
        date.Headers.TryAddWithoutValidation("Retry-After", now.AddSeconds(30).ToString("r", System.Globalization.CultureInfo.InvariantCulture));
        using var ms = new HttpResponseMessage(HttpStatusCode.TooManyRequests);
        ms.Headers.TryAddWithoutValidation("retry-after-ms", "1500");
        using var none = new HttpResponseMessage(HttpStatusCode.InternalServerError);

        Assert.Equal(TimeSpan.FromSeconds(7), LlmRetryHandler.RetryAfter(seconds, now));
        Assert.Equal(TimeSpan.FromSeconds(30), LlmRetryHandler.RetryAfter(date, now));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), LlmRetryHandler.RetryAfter(ms, now));
        Assert.Null(LlmRetryHandler.RetryAfter(none, now));
    }

    internal static int ClosedPort()
    {
        var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
