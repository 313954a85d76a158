using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Datasets;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace Incubator.Tests.TextFiles;

/// <summary>Files that are not text are refused on every path that takes files — corpus uploads and gold sets over
/// the HTTP API — with the problem and where it is, and nothing of them is stored; text in UTF-16 with a byte-order mark
/// and Latin-1 still imports.</summary>
public sealed class NotTextRefusalTests : IClassFixture<NotTextRefusalTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private readonly Portal _portal;

    public NotTextRefusalTests(Portal portal) => _portal = portal;

    private async Task<(AuthenticatedClient Owner, Guid ProjectId, Guid TaskId)> ArrangeAsync()
    {
        var email = PortalExtensions.UniqueEmail("nottext-owner");
        var (projectId, taskId, _) = await _portal.CreateProjectWithTaskAsync(email);
        return (await AuthenticatedClient.SignInAsync(_portal, email), projectId, taskId);
    }

    private static ByteArrayContent Body(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    private static MultipartFormDataContent Form(string name, byte[] bytes)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "file", name);
        return form;
    }

    /// <summary>400 with the problem's code and the words that say what the file is and where.</summary>
    private static async Task AssertRefusedAsync(Task<HttpResponseMessage> request, string code, string says)
    {
        using var response = await request;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains(code, body);
        Assert.Contains(says, body);
    }

    [Theory]
    [MemberData(nameof(BinaryFiles.Kinds), MemberType = typeof(BinaryFiles))]
    public async Task A_corpus_upload_that_is_not_text_is_refused_and_nothing_is_stored(string kind, string code, string says)
    {
        var (owner, projectId, _) = await ArrangeAsync();
        await AssertRefusedAsync(owner.Http.PostAsync($"/api/projects/{projectId}/corpora?fileName=texts.txt", Body(BinaryFiles.Of(kind))), code, says);

        Assert.Equal(0, await _portal.QueryAsync(db => db.Corpora.CountAsync(c => c.ProjectId == projectId)));
        Assert.Equal(0, await _portal.QueryAsync(db => db.CorpusTexts.CountAsync(t => db.Corpora.Any(c => c.Id == t.CorpusId && c.ProjectId == projectId))));
        Assert.Equal(0, await _portal.QueryAsync(db => db.Activity.CountAsync(a => a.ProjectId == projectId && a.Kind == ActivityKinds.CorpusUploaded)));
        Assert.Equal(0, await _portal.QueryAsync(db => db.Jobs.CountAsync(j => j.ProjectId == projectId)));
        var uploads = Path.Combine(_portal.DataDirectory, "uploads", projectId.ToString("N"));
        Assert.Empty(Directory.Exists(uploads) ? Directory.EnumerateFiles(uploads) : []);
    }

    [Theory]
    [MemberData(nameof(BinaryFiles.Kinds), MemberType = typeof(BinaryFiles))]
    public async Task A_gold_set_that_is_not_text_is_refused_and_nothing_is_stored(string kind, string code, string says)
    {
        var (owner, _, taskId) = await ArrangeAsync();
        await AssertRefusedAsync(owner.Http.PostAsync($"/api/tasks/{taskId}/gold", Form("gold.tsv", BinaryFiles.Of(kind))), code, says);
        Assert.Equal(0, await _portal.QueryAsync(db => db.GoldSets.CountAsync(g => g.TaskId == taskId)));
        Assert.Equal(0, await _portal.QueryAsync(db => db.GoldItems.CountAsync(i => db.GoldSets.Any(g => g.Id == i.GoldSetId && g.TaskId == taskId))));
    }

    [Fact]
    public async Task Shift_jis_and_windows_1252_uploads_import_and_the_answers_name_the_encoding()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var (owner, projectId, taskId) = await ArrangeAsync();

        using var corpus = await owner.Http.PostAsync($"/api/projects/{projectId}/corpora?fileName=tickets.csv",
            Body(Encoding.GetEncoding(932).GetBytes(LegacyEncodingTests.JapaneseCsv)));
        Assert.Equal(HttpStatusCode.Created, corpus.StatusCode);
        using var doc = JsonDocument.Parse(await corpus.Content.ReadAsStringAsync());
        Assert.Equal("shift_jis", doc.RootElement.GetProperty("report").GetProperty("encoding").GetString());
        var corpusId = doc.RootElement.GetProperty("corpus").GetProperty("id").GetGuid();
        var texts = await _portal.QueryAsync(db => db.CorpusTexts.Where(t => t.CorpusId == corpusId).OrderBy(t => t.Ordinal).Select(t => t.Text).ToListAsync());
        Assert.Equal("荷物がまだ届きません。至急、返金してください！", texts[0]);
        Assert.Equal(5, texts.Count);

        using var gold = await owner.Http.PostAsync($"/api/tasks/{taskId}/gold",
            Form("gold.csv", Encoding.GetEncoding(1252).GetBytes("label,text\nbilling,\"The invoice says 45 € – that’s wrong.\"\nshipping,“Where is my parcel?”\n")));
        Assert.Equal(HttpStatusCode.OK, gold.StatusCode);
        var view = await gold.ReadJsonAsync<GoldSetView>();
        Assert.Equal("windows-1252", view.Encoding);
        Assert.True(await _portal.QueryAsync(db => db.GoldItems.AnyAsync(i => i.GoldSetId == view.Id && i.Text == "The invoice says 45 € – that’s wrong.")));
    }

    [Fact]
    public async Task Utf16_with_a_byte_order_mark_and_latin1_still_import()
    {
        var (owner, projectId, taskId) = await ArrangeAsync();

        using var corpus = await owner.Http.PostAsync($"/api/projects/{projectId}/corpora?fileName=texts.txt",
            Body(BinaryFiles.Utf16WithBom("My parcel never arrived.\n荷物が届きません。\nThe invoice is wrong.\n")));
        Assert.Equal(HttpStatusCode.Created, corpus.StatusCode);
        using var doc = JsonDocument.Parse(await corpus.Content.ReadAsStringAsync());
        Assert.Equal("utf-16le", doc.RootElement.GetProperty("report").GetProperty("encoding").GetString());
        var corpusId = doc.RootElement.GetProperty("corpus").GetProperty("id").GetGuid();
        Assert.Equal(["My parcel never arrived.", "荷物が届きません。", "The invoice is wrong."],
            await _portal.QueryAsync(db => db.CorpusTexts.Where(t => t.CorpusId == corpusId).OrderBy(t => t.Ordinal).Select(t => t.Text).ToListAsync()));

        using var utf16Gold = await owner.Http.PostAsync($"/api/tasks/{taskId}/gold",
            Form("gold.tsv", BinaryFiles.Utf16WithBom("label\ttext\nbilling\tMy invoice is wrong.\nshipping\tWhere is my parcel?\n")));
        Assert.Equal(HttpStatusCode.OK, utf16Gold.StatusCode);
        Assert.Equal(2, (await utf16Gold.ReadJsonAsync<GoldSetView>()).Count);

        using var latin1Gold = await owner.Http.PostAsync($"/api/tasks/{taskId}/gold",
            Form("gold.csv", Encoding.Latin1.GetBytes("billing,Facture erron\u00e9e\nshipping,Colis arriv\u00e9 ab\u00eem\u00e9\n")));
        Assert.Equal(HttpStatusCode.OK, latin1Gold.StatusCode);
        var gold = await latin1Gold.ReadJsonAsync<GoldSetView>();
        Assert.True(await _portal.QueryAsync(db => db.GoldItems.AnyAsync(i => i.GoldSetId == gold.Id && i.Text == "Colis arrivé abîmé")));
    }
}
