using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Embeddings;
using Incubator.Domain.Generation;
using Incubator.Domain.Labelling;
using Incubator.Domain.Llm;
using Incubator.Domain.Mining;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;
using Incubator.Tests.Jobs;
using Incubator.Tests.Mining;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Incubator.Tests.Labelling;

/// <summary>A small corpus whose every text tells the fake model what to answer for it, a project with an author, a
/// viewer and an outsider, the job host (real SQLite, real worker) and the fake OpenAI-compatible server behind the
/// configured connection — reached through the real Semantic Kernel connector over HTTP.</summary>
internal static class LabellingFixture
{
    /// <summary>9 texts the fake labels (4 billing, 3 shipping, 2 login), one it calls "none", one it gives a label the
    /// task does not have, one it leaves out of its answer.</summary>
    public static readonly string[] Texts =
    [
        "I was charged twice for my subscription this month.",
        "My parcel has not arrived and the tracking page has not moved for a week.",
        "I forgot my password and the reset email never comes.",
        "Please refund the payment I made by mistake yesterday.",
        "The courier left the delivery at the wrong address.",
        "What a lovely weather we have today.",
        "Why is my invoice higher than the price on your website?",
        "The two-factor code is rejected every time I try to sign in.",
        "I am going to the opera tonight with my sister.",
        "The box came crushed and the delivery was three days late.",
        "A silent text the model forgets to label.",
        "Can I get a copy of the invoice for March?",
    ];

    public const int Labelled = 9, NoneOfThese = 1, UnknownLabel = 1, MissingId = 1;

    /// <summary>What the fake answers for a text (null: leaves it out).</summary>
    public static string? AnswerFor(string text) => text switch
    {
        _ when text.Contains("silent") => null,
        _ when text.Contains("weather") => "none",
        _ when text.Contains("opera") => "music",
        _ when text.Contains("charged") || text.Contains("refund") || text.Contains("invoice") => "billing",
        _ when text.Contains("parcel") || text.Contains("deliver") => "Shipping", // a label in another case is still the label
        _ => "login",
    };

    /// <summary>The numbered texts of a labelling request, as the model sees them.</summary>
    public static Dictionary<string, string> TextsOf(RecordedRequest request)
    {
        var user = request.Json!["messages"]!.AsArray().Last()!["content"]!.GetValue<string>();
        return JsonNode.Parse(user[user.IndexOf('{')..])!.AsObject().ToDictionary(kv => kv.Key, kv => kv.Value!.GetValue<string>());
    }

    /// <summary>Answers a batch as <see cref="AnswerFor"/> says, with one key that is no id of the batch ("99") — an
    /// unknown id in every answer — inside a Markdown fence, as models like to write.</summary>
    public static FakeReply Answer(RecordedRequest request)
    {
        var answer = new Dictionary<string, string>();
        foreach (var (id, text) in TextsOf(request))
            if (AnswerFor(text) is { } label) answer[id] = label;
        answer["99"] = "billing";
        return FakeReply.Completion("Here you are:\n```json\n" + JsonSerializer.Serialize(answer) + "\n```");
    }

    public sealed record Setup(JobTestHost Host, FakeOpenAiServer Llm, Guid ProjectId, Guid TaskId, Guid CorpusId, string Author, string Viewer, string Outsider)
        : IAsyncDisposable
    {
        public LabellingService Service => Host.Services.GetRequiredService<LabellingService>();

        public ReviewQueries Review => Host.Services.GetRequiredService<ReviewQueries>();

        public async ValueTask DisposeAsync()
        {
            await Host.DisposeAsync();
            await Llm.DisposeAsync();
        }
    }

    public static async Task<Setup> ArrangeAsync(IReadOnlyDictionary<string, string?>? more = null,
        Incubator.Domain.Data.DatabaseProvider provider = Incubator.Domain.Data.DatabaseProvider.Sqlite)
    {
        var llm = await FakeOpenAiServer.StartAsync();
        llm.DefaultResponder = Answer;
        var settings = new Dictionary<string, string?>
        {
            ["Llm:Provider"] = "OpenAICompatible",
            ["Llm:Endpoint"] = llm.OpenAIEndpoint,
            ["Llm:Model"] = "fake",
            ["Llm:MaxConcurrency"] = "1",
        };
        foreach (var (k, v) in more ?? new Dictionary<string, string?>()) settings[k] = v;
        var config = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var host = await JobTestHost.CreateAsync(settings: settings, configure: s =>
        {
            s.AddIncubatorEmbeddings().AddIncubatorReview(JobTestHost.NoSettings).AddIncubatorMining();
            s.AddIncubatorLlm(config);
            s.AddOptions<GenerationOptions>().Configure(o => o.EndpointWait = TimeSpan.FromSeconds(20));
            s.AddIncubatorLabelling();
        }, provider: provider);
        var projectId = await host.CreateProjectAsync("labelling");
        var author = await host.CreateUserAsync(projectId, ProjectRole.Author, "author");
        var viewer = await host.CreateUserAsync(projectId, ProjectRole.Viewer, "viewer");
        var outsider = await host.CreateUserAsync(projectId, null, "outsider");
        var taskId = Guid.NewGuid();
        await using (var db = await host.Db.CreateDbContextAsync())
        {
            db.Tasks.Add(new ClassifierTask { Id = taskId, ProjectId = projectId, Name = "Support triage", CurrentVersion = 1, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
            db.TaskVersions.Add(new TaskVersion { Id = Guid.NewGuid(), TaskId = taskId, Number = 1, SpecJson = TaskJson.Serialize(MiningFixtures.EnglishTask), ContentHash = Guid.NewGuid().ToString("N"), CreatedAt = DateTimeOffset.UtcNow });
            await db.SaveChangesAsync();
        }
        using var stream = new MemoryStream(new UTF8Encoding(false).GetBytes(string.Join("\n", Texts)));
        var corpus = await host.Services.GetRequiredService<CorpusService>().ImportAsync(author, projectId, null, "support.txt", stream, new TextFileOptions(TextFileFormat.Txt));
        return new Setup(host, llm, projectId, taskId, corpus.Corpus.Id, author, viewer, outsider);
    }
}
