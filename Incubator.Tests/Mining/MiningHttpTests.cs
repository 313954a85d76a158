using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Incubator.Tests.Integration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Mining;

/// <summary>The corpus upload endpoint over real HTTP: the raw file as the body, streamed to a temporary file and
/// imported; roles checked on the server.</summary>
public sealed class MiningHttpTests(TeamPortal team) : IClassFixture<TeamPortal>
{
    private string Corpora => $"/api/projects/{team.ProjectId}/corpora";

    private static ByteArrayContent Body(byte[] bytes)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return content;
    }

    [Fact]
    public async Task An_author_uploads_a_latin1_csv_and_gets_the_import_report()
    {
        var csv = Encoding.Latin1.GetBytes("id,text\n1,Caf\u00e9 au lait was cold\n2,\"unclosed\n3,Caf\u00e9 au lait was cold\n4,The cr\u00e8me br\u00fbl\u00e9e was lovely\n");
        using var response = await team.Author.Http.PostAsync($"{Corpora}?fileName=menu.csv&column=text", Body(csv));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var report = doc.RootElement.GetProperty("report");
        Assert.Equal("latin-1", report.GetProperty("encoding").GetString());
        Assert.Equal(4, report.GetProperty("rowsRead").GetInt64());
        Assert.Equal(2, report.GetProperty("kept").GetInt64());
        Assert.Equal(1, report.GetProperty("duplicatesCollapsed").GetInt64());
        Assert.Equal(3, report.GetProperty("badRows")[0].GetProperty("line").GetInt64());
        var id = doc.RootElement.GetProperty("corpus").GetProperty("id").GetGuid();
        using var texts = await team.Reviewer.Http.GetAsync($"/api/corpora/{id}/texts");
        Assert.Contains("crème brûlée", await texts.Content.ReadAsStringAsync());
        // The spooled upload is gone.
        var uploads = Path.Combine(team.DataDirectory, "uploads");
        Assert.Empty(Directory.Exists(uploads) ? Directory.EnumerateFiles(uploads, "*.upload", SearchOption.AllDirectories) : []);
    }

    [Fact]
    public async Task Below_author_uploads_are_refused_and_outsiders_get_403_everywhere()
    {
        var before = await team.QueryAsync(db => db.Corpora.CountAsync());
        using var reviewer = await team.Reviewer.Http.PostAsync($"{Corpora}?fileName=a.txt", Body("a text\n"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Forbidden, reviewer.StatusCode);
        using var spool = await team.Reviewer.Http.PostAsync($"{Corpora}/uploads", Body("a text\n"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Forbidden, spool.StatusCode);
        using var outsiderList = await team.Outsider.Http.GetAsync(Corpora);
        Assert.Equal(HttpStatusCode.Forbidden, outsiderList.StatusCode);
        using var outsiderUpload = await team.Outsider.Http.PostAsync($"{Corpora}?fileName=a.txt", Body("a text\n"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Forbidden, outsiderUpload.StatusCode);
        Assert.Equal(before, await team.QueryAsync(db => db.Corpora.CountAsync()));

        using var ok = await team.Author.Http.PostAsync($"{Corpora}?fileName=b.txt", Body("a text for the outsider test\n"u8.ToArray()));
        var id = JsonDocument.Parse(await ok.Content.ReadAsStringAsync()).RootElement.GetProperty("corpus").GetProperty("id").GetGuid();
        using var outsiderRead = await team.Outsider.Http.GetAsync($"/api/corpora/{id}/texts");
        Assert.Equal(HttpStatusCode.Forbidden, outsiderRead.StatusCode);
        using var reviewerDelete = await team.Reviewer.Http.DeleteAsync($"/api/corpora/{id}");
        Assert.Equal(HttpStatusCode.Forbidden, reviewerDelete.StatusCode);
    }

    [Fact]
    public async Task A_file_with_no_readable_text_is_a_validation_problem_with_a_code()
    {
        using var response = await team.Author.Http.PostAsync($"{Corpora}?fileName=empty.jsonl", Body("{\"x\":1}\nnot json\n"u8.ToArray()));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("CorpusEmpty", await response.Content.ReadAsStringAsync());
    }
}
