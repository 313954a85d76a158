using System.Net;
using Incubator.Domain.Datasets;
using Incubator.Domain.Projects;
using Incubator.Tests.Infrastructure;

namespace Incubator.Tests.FineTuning;

/// <summary>The export over HTTP (what the Models page's button downloads): a Reviewer gets the zip of a frozen dataset
/// version or of the project's newest versions; Viewers and people outside the project are refused on the server.</summary>
public sealed class FineTuningPairsHttpTests : IClassFixture<FineTuningPairsHttpTests.Portal>
{
    public sealed class Portal : PortalFactory;

    private readonly Portal _portal;

    public FineTuningPairsHttpTests(Portal portal) => _portal = portal;

    [Fact]
    public async Task A_reviewer_downloads_valid_pairs_and_others_are_refused()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("ft-owner");
        var reviewerEmail = PortalExtensions.UniqueEmail("ft-reviewer");
        var viewerEmail = PortalExtensions.UniqueEmail("ft-viewer");
        var strangerEmail = PortalExtensions.UniqueEmail("ft-stranger");
        var (projectId, taskId, ownerId) = await _portal.CreateProjectWithTaskAsync(ownerEmail, (reviewerEmail, ProjectRole.Reviewer), (viewerEmail, ProjectRole.Viewer));
        await _portal.RegisterAsync(strangerEmail);
        // 12 billing and 15 shipping: 12 pairs, 3 shipping samples unused.
        var rows = TrainingSeed.MailSamples(15).Where((r, i) => r.Label == "shipping" || i < 24).ToList();
        await _portal.SeedApprovedAsync(projectId, taskId, rows, ownerId);
        var owner = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        using var frozen = await owner.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 1 });
        var dataset = await frozen.ReadJsonAsync<DatasetVersionView>();

        var reviewer = await AuthenticatedClient.SignInAsync(_portal, reviewerEmail);
        using var response = await reviewer.Http.GetAsync($"/api/datasets/{dataset.Id}/fine-tuning-pairs?seed=4&validationShare=0.25");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("mail-dataset-v1-pairs.zip", response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName);
        await using var zip = new MemoryStream(await response.Content.ReadAsByteArrayAsync());
        var files = PairsFiles.Read(zip, ["billing", "shipping"]);
        Assert.Equal(9, files.ChatTrain.Count);
        Assert.Equal(3, files.ChatValidation.Count);
        Assert.Contains("| 12 | 9 | 3 | 3 |", files.DataCard);
        var texts = rows.Select(r => r.Text).ToHashSet();
        Assert.All(files.ChatTrainOutputs, o => Assert.All(System.Text.Json.JsonDocument.Parse(o).RootElement.EnumerateObject(), p => Assert.Contains(p.Value.GetString()!, texts)));

        // Same seed, same bytes of pairs; the project export holds the task's newest version.
        using var again = await reviewer.Http.GetAsync($"/api/datasets/{dataset.Id}/fine-tuning-pairs?seed=4&validationShare=0.25");
        await using var zip2 = new MemoryStream(await again.Content.ReadAsByteArrayAsync());
        Assert.Equal(files.ChatTrainOutputs, PairsFiles.Read(zip2, ["billing", "shipping"]).ChatTrainOutputs);
        using var project = await reviewer.Http.GetAsync($"/api/projects/{projectId}/fine-tuning-pairs?seed=4&validationShare=0.25");
        Assert.Equal(HttpStatusCode.OK, project.StatusCode);
        Assert.Equal("0", Assert.Single(project.Headers.GetValues("X-Pairs-Omitted-Count")));
        Assert.False(project.Headers.Contains("X-Pairs-Omitted"));
        await using var zip3 = new MemoryStream(await project.Content.ReadAsByteArrayAsync());
        Assert.Equal(files.ChatTrainOutputs, PairsFiles.Read(zip3, ["billing", "shipping"]).ChatTrainOutputs);

        using var badShare = await reviewer.Http.GetAsync($"/api/datasets/{dataset.Id}/fine-tuning-pairs?validationShare=0.9");
        Assert.Equal(HttpStatusCode.BadRequest, badShare.StatusCode);
        Assert.Contains("DatasetValidationShare", await badShare.Content.ReadAsStringAsync());

        var viewer = await AuthenticatedClient.SignInAsync(_portal, viewerEmail);
        var stranger = await AuthenticatedClient.SignInAsync(_portal, strangerEmail);
        foreach (var client in new[] { viewer, stranger })
        {
            using var d = await client.Http.GetAsync($"/api/datasets/{dataset.Id}/fine-tuning-pairs");
            Assert.Equal(HttpStatusCode.Forbidden, d.StatusCode);
            using var p = await client.Http.GetAsync($"/api/projects/{projectId}/fine-tuning-pairs");
            Assert.Equal(HttpStatusCode.Forbidden, p.StatusCode);
        }
        using var anonymous = await AuthenticatedClient.Anonymous(_portal).Http.GetAsync($"/api/datasets/{dataset.Id}/fine-tuning-pairs");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    /// <summary>Every shipping sample of the version is a text also approved as billing: the pairs leave such texts out,
    /// so no pair can be made although the version's counts show both labels. Before: the generic "a pair needs an approved
    /// sample of every label" (PairsNone), which the version seems to have.</summary>
    [Fact]
    public async Task A_version_whose_only_samples_of_a_label_all_conflict_is_refused_with_the_counts()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("ft-conflict");
        var (projectId, taskId, ownerId) = await _portal.CreateProjectWithTaskAsync(ownerEmail);
        var billing = TrainingSeed.MailSamples(12).Where(r => r.Label == "billing").ToList();
        await _portal.SeedApprovedAsync(projectId, taskId, billing.Concat(billing.Take(3).Select(r => ("shipping", r.Text))), ownerId);
        var owner = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        using var frozen = await owner.Http.PostJsonAsync($"/api/tasks/{taskId}/datasets", new { seed = 1 });
        var dataset = await frozen.ReadJsonAsync<DatasetVersionView>();
        Assert.Equal(3, dataset.Counts["shipping"]);

        using var response = await owner.Http.GetAsync($"/api/datasets/{dataset.Id}/fine-tuning-pairs");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("PairsConflicting", body);
        Assert.Contains("3 texts of this dataset version are approved under more than one label", body);
        Assert.Contains("no sample of shipping", body);
        Assert.Contains("billing 9, shipping 0", body);
    }

    /// <summary>A project export takes the newest version of every task; a task that gives no pair must not vanish from
    /// it unsaid. Here one task has pairs, one's only shipping samples are texts also approved as billing, and one has no
    /// dataset version. Before: the zip held the first task's pairs, the data card listed the second with 0 pairs and no
    /// reason and did not mention the third, and the response said nothing.</summary>
    [Fact]
    public async Task A_project_export_names_each_task_that_contributed_no_pairs_and_why_in_the_data_card_and_the_response()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("ft-omitted");
        var (projectId, taskId, ownerId) = await _portal.CreateProjectWithTaskAsync(ownerEmail);
        var conflictedId = await _portal.CreateTaskAsync(ownerEmail, projectId, ReviewSeed.MailTask with { Name = "Mail conflicted" });
        await _portal.CreateTaskAsync(ownerEmail, projectId, ReviewSeed.MailTask with { Name = "Mail unfrozen" });
        await _portal.SeedApprovedAsync(projectId, taskId, TrainingSeed.MailSamples(6), ownerId);
        var billing = TrainingSeed.MailSamples(12).Where(r => r.Label == "billing").ToList();
        await _portal.SeedApprovedAsync(projectId, conflictedId, billing.Concat(billing.Take(3).Select(r => ("shipping", r.Text))), ownerId);
        var owner = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        foreach (var id in new[] { taskId, conflictedId })
        {
            using var frozen = await owner.Http.PostJsonAsync($"/api/tasks/{id}/datasets", new { seed = 1 });
            Assert.Equal(HttpStatusCode.OK, frozen.StatusCode);
        }

        using var response = await owner.Http.GetAsync($"/api/projects/{projectId}/fine-tuning-pairs");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("2", Assert.Single(response.Headers.GetValues("X-Pairs-Omitted-Count")));
        var reasons = response.Headers.GetValues("X-Pairs-Omitted").Select(Uri.UnescapeDataString).ToList();
        Assert.Equal(2, reasons.Count);
        Assert.StartsWith("Mail conflicted (dataset v1) contributed no pairs: 3 texts approved under more than one label are left out, which leaves no sample of shipping", reasons[0]);
        Assert.Contains("billing 9, shipping 0", reasons[0]);
        Assert.Equal("Mail unfrozen contributed no pairs: it has no dataset version. Freeze one on its Models page to include it.", reasons[1]);
        await using var zip = new MemoryStream(await response.Content.ReadAsByteArrayAsync());
        var files = PairsFiles.Read(zip, ["billing", "shipping"]);
        Assert.Equal(6, files.ChatTrain.Count + files.ChatValidation.Count);
        Assert.Contains("## Tasks that contributed no pairs", files.DataCard);
        Assert.Contains("- " + reasons[0], files.DataCard);
        Assert.Contains("- " + reasons[1], files.DataCard);

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/projects/{projectId}/fine-tuning-pairs");
        request.Headers.AcceptLanguage.ParseAdd("ja");
        using var japanese = await owner.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, japanese.StatusCode);
        var ja = japanese.Headers.GetValues("X-Pairs-Omitted").Select(Uri.UnescapeDataString).ToList();
        Assert.StartsWith("Mail conflicted（データセット v1）からはペアが作られませんでした。3 件のテキスト", ja[0]);
        Assert.StartsWith("「Mail unfrozen」からはペアが作られませんでした。", ja[1]);
    }

    [Fact]
    public async Task A_project_without_dataset_versions_says_there_is_nothing_to_export()
    {
        var ownerEmail = PortalExtensions.UniqueEmail("ft-empty");
        var (projectId, _, _) = await _portal.CreateProjectWithTaskAsync(ownerEmail);
        var owner = await AuthenticatedClient.SignInAsync(_portal, ownerEmail);
        using var response = await owner.Http.GetAsync($"/api/projects/{projectId}/fine-tuning-pairs");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        Assert.Contains("\"PairsNone\"", body);
        // Which task and why, not only that there is nothing.
        Assert.Contains("\"PairsOmittedNoDataset\"", body);
    }
}
