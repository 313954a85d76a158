using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Mining;

/// <summary>Corpus uploads through real Kestrel (not the in-memory test server, which enforces no body limit):
/// Kestrel refuses bodies over 30 MB by default, and the upload endpoint lifts that to
/// <see cref="CorpusService.MaxUploadBytes"/> for itself only.</summary>
[Collection(HeavyCollection.Name)]
public sealed class LargeUploadTests : IAsyncLifetime
{
    private readonly PortalFactory _portal = new(realServer: true);
    private AuthenticatedClient _author = null!;
    private Guid _projectId;

    public async Task InitializeAsync()
    {
        var email = PortalExtensions.UniqueEmail("big-upload");
        var user = await _portal.RegisterAsync(email);
        _projectId = (await _portal.Services.GetRequiredService<ProjectService>().CreateProjectAsync(user.Id, "Big corpora", "")).Id;
        _author = await AuthenticatedClient.SignInAsync(_portal, email);
    }

    public async Task DisposeAsync()
    {
        _author.Dispose();
        await _portal.DisposeAsync();
    }

    /// <summary>A streamed body of <paramref name="lines"/> distinct lines of about 3,000 characters each, never held
    /// in memory as a whole.</summary>
    private sealed class GeneratedCorpus(int lines) : HttpContent
    {
        public static string Line(int i) => $"text {i:D6} " + string.Concat(Enumerable.Repeat($"word{i % 97} sample{i % 13} ", 150));

        public long Bytes { get; private set; }

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var i = 0; i < lines; i++)
            {
                var bytes = Encoding.UTF8.GetBytes(Line(i) + "\n");
                Bytes += bytes.Length;
                await stream.WriteAsync(bytes);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = -1;
            return false;
        }
    }

    [Fact]
    public async Task A_40_MB_corpus_streams_through_kestrel_and_is_imported_whole()
    {
        const int lines = 19_000;
        var content = new GeneratedCorpus(lines);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await _author.Http.PostAsync($"/api/projects/{_projectId}/corpora?fileName=big.txt&name=big", content);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{(int)response.StatusCode}: {body}");
        Assert.True(content.Bytes > 40L * 1024 * 1024, $"sent only {content.Bytes} bytes");

        using var doc = JsonDocument.Parse(body);
        var report = doc.RootElement.GetProperty("report");
        Assert.Equal(lines, report.GetProperty("rowsRead").GetInt64());
        Assert.Equal(lines, report.GetProperty("kept").GetInt64());
        var corpusId = doc.RootElement.GetProperty("corpus").GetProperty("id").GetGuid();
        Assert.Equal(lines, await _portal.QueryAsync(db => db.CorpusTexts.CountAsync(t => t.CorpusId == corpusId)));
        var last = GeneratedCorpus.Line(lines - 1).Trim();
        Assert.True(await _portal.QueryAsync(db => db.CorpusTexts.AnyAsync(t => t.CorpusId == corpusId && t.Text == last)), "the last line is missing");
        // The spooled file is gone.
        var uploads = Path.Combine(_portal.DataDirectory, "uploads");
        Assert.Empty(Directory.Exists(uploads) ? Directory.EnumerateFiles(uploads, "*.upload", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task A_body_announced_over_the_limit_is_refused_before_it_is_read_and_nothing_is_stored()
    {
        // Raw HTTP/1.1 so the request can announce 300 MB and send almost nothing: the answer must come from the
        // Content-Length check, not from reading (or spooling) the body.
        var address = new Uri(_author.BaseAddress, "/");
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(address.Host, address.Port);
        await using var net = tcp.GetStream();
        var request =
            $"POST /api/projects/{_projectId}/corpora?fileName=huge.txt HTTP/1.1\r\n" +
            $"Host: {address.Authority}\r\n" +
            $"Cookie: {AuthenticatedClient.AuthCookieName}={_author.AuthCookie}\r\n" +
            "Content-Type: application/octet-stream\r\n" +
            $"Content-Length: {300L * 1024 * 1024}\r\n" +
            "Connection: close\r\n\r\n" +
            "only the first line\n";
        await net.WriteAsync(Encoding.ASCII.GetBytes(request));
        using var reader = new StreamReader(net, Encoding.UTF8);
        var readAll = reader.ReadToEndAsync();
        var answer = await readAll.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 413", answer);
        Assert.Contains("CorpusTooLarge", answer);
        Assert.Contains("256 MB", answer);
        Assert.Equal(0, await _portal.QueryAsync(db => db.Corpora.CountAsync(c => c.ProjectId == _projectId)));
        var uploads = Path.Combine(_portal.DataDirectory, "uploads");
        Assert.Empty(Directory.Exists(uploads) ? Directory.EnumerateFiles(uploads, "*.upload", SearchOption.AllDirectories) : []);
    }
}
