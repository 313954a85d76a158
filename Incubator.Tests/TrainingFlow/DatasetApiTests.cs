using Incubator.Domain.Review;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Incubator.Domain.Datasets;
using Incubator.Domain.Generation;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.TrainingFlow;

/// <summary>Dataset versions and gold sets over HTTP: freezing approved samples (hash, counts, lineage, immutability,
/// deterministic split), bad input with clear messages, and gold uploads that are all-or-nothing.</summary>
public sealed class DatasetApiTests : IClassFixture<DatasetApiTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private readonly Portal _portal;

    public DatasetApiTests(Portal portal) => _portal = portal;

    private async Task<(AuthenticatedClient Author, AuthenticatedClient Viewer, Guid ProjectId, Guid TaskId, string OwnerId)> ArrangeAsync()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("ds-owner");
        var viewerEmail = PortalExtensions.UniqueEmail("ds-viewer");
        var (projectId, taskId, ownerId) = await _portal.CreateProjectWithTaskAsync(ownerEmail, (viewerEmail, ProjectRole.Viewer));
        return (await AuthenticatedClient.SignInAsync(_portal, ownerEmail), await AuthenticatedClient.SignInAsync(_portal, viewerEmail), projectId, taskId, ownerId);
    }

    [Fact]
    public async Task Freeze_hashes_counts_lineage_and_stays_immutable()
    {
        var (author, viewer, projectId, taskId, ownerId) = await ArrangeAsync();
        var rows = TrainingSeed.MailSamples(10);
        var ids = await _portal.SeedApprovedAsync(projectId, taskId, rows, ownerId, editedText: i => i == 0 ? "Edited: my invoice is wrong." : null);
        await _portal.SeedApprovedAsync(projectId, taskId, [("billing", "A mined invoice question."), ("shipping", "A mined parcel question.")], ownerId, CandidateSource.Mining);
        // Pending and rejected samples never enter a dataset.
        await _portal.SeedCandidatesAsync(projectId, taskId, ["Still pending about an invoice."]);

        using var first = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 7, validationShare = 0.25 });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var v1 = await first.ReadJsonAsync<DatasetVersionView>();
        Assert.Equal(1, v1.Number);
        Assert.Equal(22, v1.Count);
        Assert.Equal(11, v1.Counts["billing"]);
        Assert.Equal(11, v1.Counts["shipping"]);
        Assert.Equal(20, v1.Lineage.Generated);
        Assert.Equal(2, v1.Lineage.Mined);
        Assert.Equal(1, v1.Lineage.Edited);
        Assert.Contains(v1.Lineage.Reviewers, r => r.StartsWith("ds-owner", StringComparison.Ordinal));
        Assert.Equal(v1.Count, v1.TrainCount + v1.ValidationCount);
        Assert.Equal(3, await _portal.QueryAsync(db => db.DatasetItems.CountAsync(i => i.DatasetVersionId == v1.Id && i.Split == DatasetSplit.Validation && i.Label == "billing")));

        // The hash is over sorted (label, text) pairs with the edited text in place of the original.
        var expected = DatasetService.ContentHash(rows.Select((r, i) => i == 0 ? (r.Label, "Edited: my invoice is wrong.") : r)
            .Append(("billing", "A mined invoice question.")).Append(("shipping", "A mined parcel question."))
            .OrderBy(p => p.Item1, StringComparer.Ordinal).ThenBy(p => p.Item2, StringComparer.Ordinal));
        Assert.Equal(expected, v1.ContentHash);
        Assert.True(await _portal.QueryAsync(db => db.DatasetItems.AnyAsync(i => i.DatasetVersionId == v1.Id && i.Text == "Edited: my invoice is wrong.")));

        // Same data, same seed: the same version comes back rather than a copy.
        using var again = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 7, validationShare = 0.25 });
        Assert.Equal(v1.Id, (await again.ReadJsonAsync<DatasetVersionView>()).Id);

        // Later review changes make a new version; the old one keeps its items and hash.
        await _portal.QueryAsync(db => db.Candidates.Where(c => c.Id == ids[1]).ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, CandidateStatus.Rejected)));
        using var second = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 7, validationShare = 0.25 });
        var v2 = await second.ReadJsonAsync<DatasetVersionView>();
        Assert.Equal(2, v2.Number);
        Assert.Equal(21, v2.Count);
        Assert.NotEqual(v1.ContentHash, v2.ContentHash);
        var v1Again = JsonSerializer.Deserialize<List<DatasetVersionView>>(await viewer.Http.GetStringAsync($"/api/tasks/{taskId}/datasets"), PortalExtensions.Json)!;
        Assert.Equal([2, 1], v1Again.Select(v => v.Number));
        Assert.Equal(v1.ContentHash, v1Again.Single(v => v.Id == v1.Id).ContentHash);
        Assert.Equal(22, await _portal.QueryAsync(db => db.DatasetItems.CountAsync(i => i.DatasetVersionId == v1.Id)));

        // A Viewer may read but not freeze.
        using var denied = await viewer.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 1 });
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
    }

    [Fact]
    public void Split_is_stratified_and_deterministic_for_a_seed()
    {
        var labels = Enumerable.Range(0, 50).Select(i => i % 5 == 0 ? "rare" : "common").ToList();
        var a = DatasetService.StratifiedSplit(labels, 0.2, 42);
        var b = DatasetService.StratifiedSplit(labels, 0.2, 42);
        var c = DatasetService.StratifiedSplit(labels, 0.2, 43);
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(2, Enumerable.Range(0, 50).Count(i => labels[i] == "rare" && a[i] == DatasetSplit.Validation));
        Assert.Equal(8, Enumerable.Range(0, 50).Count(i => labels[i] == "common" && a[i] == DatasetSplit.Validation));
        // A label with a single sample stays in training; two samples give one to validation.
        var tiny = DatasetService.StratifiedSplit(["x", "y", "y"], 0.2, 1);
        Assert.Equal(DatasetSplit.Train, tiny[0]);
        Assert.Equal(1, tiny.Count(s => s == DatasetSplit.Validation));
    }

    [Fact]
    public async Task Freezing_needs_two_labels_and_no_empty_label()
    {
        var (author, _, projectId, taskId, ownerId) = await ArrangeAsync();
        await _portal.SeedApprovedAsync(projectId, taskId, [("billing", "Only invoices here."), ("billing", "Another invoice.")], ownerId);
        using var oneLabel = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, oneLabel.StatusCode);
        Assert.Contains("DatasetTooFewLabels", await oneLabel.Content.ReadAsStringAsync());

        await _portal.SeedApprovedAsync(projectId, taskId, [("shipping", "A parcel."), (" ", "No label at all.")], ownerId);
        using var empty = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 1 });
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        var body = await empty.Content.ReadAsStringAsync();
        Assert.Contains("DatasetEmptyLabel", body);
        Assert.Contains("1 approved samples have an empty label", body);
        Assert.Equal(0, await _portal.QueryAsync(db => db.DatasetVersions.CountAsync(d => d.TaskId == taskId)));
    }

    private static MultipartFormDataContent File(string name, string content)
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(content));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/plain");
        form.Add(file, "file", name);
        return form;
    }

    [Fact]
    public async Task Gold_upload_reports_unknown_labels_and_malformed_rows_and_writes_nothing()
    {
        var (author, viewer, _, taskId, _) = await ArrangeAsync();

        using var unknown = await author.Http.PostAsync($"/api/tasks/{taskId}/gold",
            File("gold.tsv", "label\ttext\nbilling\tMy invoice is wrong.\nrefunds\tGive my money back.\nshipping\tWhere is my parcel?\nrefunds\tStill no refund.\n"));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        var body = await unknown.Content.ReadAsStringAsync();
        Assert.Contains("GoldUnknownLabel", body);
        Assert.Contains("Label 'refunds' is not one of the task's labels (billing, shipping); lines 3, 5.", body);

        using var malformed = await author.Http.PostAsync($"/api/tasks/{taskId}/gold",
            File("gold.csv", "billing,\"An invoice, with a comma\"\nshipping,too,many,fields\nbilling,\"unclosed\n"));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        var m = await malformed.Content.ReadAsStringAsync();
        Assert.Contains("Line 2: expected 2 fields (label,text) but found 4", m);
        Assert.Contains("Line 3: a quoted field is never closed.", m);

        using var json = await author.Http.PostAsync($"/api/tasks/{taskId}/gold", File("gold.jsonl", "{\"label\":\"billing\",\"text\":\"ok\"}\n{not json}\n{\"label\":\"billing\"}\n"));
        var j = await json.Content.ReadAsStringAsync();
        Assert.Contains("Line 2: not valid JSON.", j);
        Assert.Contains("Line 3: expected an object with string fields", j);

        using var format = await author.Http.PostAsync($"/api/tasks/{taskId}/gold", File("gold.xlsx", "x"));
        Assert.Contains("UploadFormatUnknown", await format.Content.ReadAsStringAsync());
        Assert.Equal(0, await _portal.QueryAsync(db => db.GoldSets.CountAsync(g => g.TaskId == taskId)));
        Assert.Equal(HttpStatusCode.NoContent, (await viewer.Http.GetAsync($"/api/tasks/{taskId}/gold")).StatusCode);

        using var ok = await author.Http.PostAsync($"/api/tasks/{taskId}/gold",
            File("gold.csv", "label,text\nbilling,\"Invoice \"\"A-12\"\", twice\"\nshipping,\"Parcel\nacross two lines\"\nshipping,Where is it?\n"));
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        var gold = await ok.ReadJsonAsync<GoldSetView>();
        Assert.Equal(3, gold.Count);
        Assert.Equal(2, gold.Counts["shipping"]);
        Assert.True(await _portal.QueryAsync(db => db.GoldItems.AnyAsync(i => i.GoldSetId == gold.Id && i.Text == "Invoice \"A-12\", twice" && i.Line == 2)));
        Assert.True(await _portal.QueryAsync(db => db.GoldItems.AnyAsync(i => i.GoldSetId == gold.Id && i.Line == 5 && i.Text == "Where is it?")));

        using var viewerUpload = await viewer.Http.PostAsync($"/api/tasks/{taskId}/gold", File("gold.tsv", "billing\tx\n"));
        Assert.Equal(HttpStatusCode.Forbidden, viewerUpload.StatusCode);
    }

    /// <summary>The dataset version named in a training request must be of the task being trained: one of another
    /// project's task is refused (even for an author of both projects) and no model version is made.</summary>
    [Fact]
    public async Task A_dataset_version_of_another_projects_task_cannot_train_this_task()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("ds-two");
        var (_, taskId, ownerId) = await _portal.CreateProjectWithTaskAsync(ownerEmail);
        var otherProject = await _portal.InScopeAsync(async sp =>
            (await sp.GetRequiredService<ProjectService>().CreateProjectAsync(ownerId, "Other " + Guid.NewGuid().ToString("N")[..6], null)).Id);
        var otherTask = await _portal.CreateTaskAsync(ownerEmail, otherProject);
        await _portal.SeedApprovedAsync(otherProject, otherTask, TrainingSeed.MailSamples(10), ownerId);
        using var author = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        using var frozen = await author.Http.PostJsonAsync($"/api/tasks/{otherTask}/datasets", new { seed = 1 });
        Assert.Equal(HttpStatusCode.OK, frozen.StatusCode);
        var theirs = (await frozen.ReadJsonAsync<DatasetVersionView>()).Id;

        using var train = await author.Http.PostJsonAsync($"/api/tasks/{taskId}/training", new { family = "sparse", seed = 1, datasetVersionId = theirs });

        Assert.Equal(HttpStatusCode.BadRequest, train.StatusCode);
        Assert.Contains("TrainingDatasetOtherTask", await train.Content.ReadAsStringAsync());
        Assert.Equal(0, await _portal.QueryAsync(db => db.ModelVersions.CountAsync(m => m.TaskId == taskId || m.DatasetVersionId == theirs)));
    }
}
