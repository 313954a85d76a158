using System.Text.Json;
using System.Text.Json.Nodes;
using Incubator.Domain.Tasks;
using Incubator.Tests.Fakes;

namespace Incubator.Tests.Generation;

/// <summary>Distinct Japanese sample sentences and answer builders for tests that drive the generation engine through
/// <see cref="FakeOpenAiServer"/>. Japanese keeps the engine on the character n-gram embedder (no model to load).</summary>
internal static class FakeSamples
{
    private static readonly string[] Subjects =
    [
        "先週注文した革靴", "昨日届いた冷蔵庫", "定期購読の料理雑誌", "三月分の電気料金", "会員カードのポイント", "予約していたホテル",
        "子供用の自転車", "年払いのクラウド契約", "誕生日に贈った花束", "中古で買ったカメラ", "社員旅行の航空券", "交換したばかりの蛍光灯",
        "通販で選んだソファ",
    ];

    private static readonly string[] Problems =
    [
        "がまだ手元に届いていません", "の金額が二重に引き落とされました", "に小さな傷が付いていました", "の明細が見当たりません",
        "の配達日時を変えたいです", "が説明と違う色でした", "の領収書を発行してほしいです", "が途中で動かなくなりました",
        "の住所を書き間違えてしまいました", "の割引が適用されていません", "を別の店舗で受け取れますか",
    ];

    private static readonly string[] Requests =
    [
        "至急確認をお願いします", "どうすればよいでしょうか", "返金の手続きを教えてください", "担当の方から連絡をください",
        "今週中に回答がほしいです", "電話で相談できますか", "対応の目安を知りたいです",
    ];

    /// <summary>Sample number <paramref name="n"/> for label index <paramref name="label"/>: every (n, label) pair gives
    /// a different sentence, far below the near-duplicate threshold from the others (see the guard test).</summary>
    public static string Sentence(int n, int label)
    {
        var k = n * 3 + label;
        return $"{Subjects[k % Subjects.Length]}{Problems[(k * 7 + label) % Problems.Length]}。{Requests[(k * 5 + 3 * label) % Requests.Length]}（受付{k + 1000}）";
    }

    /// <summary>One JSON object with sample <paramref name="n"/> for each label, as a well-behaved model writes it.</summary>
    public static string Answer(int n, IReadOnlyList<string> labels)
    {
        var o = new JsonObject();
        for (var i = 0; i < labels.Count; i++) o[labels[i]] = Sentence(n, i);
        return o.ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    /// <summary>Answers in the form the request asked for: an SSE stream when it says "stream": true, one JSON body otherwise.</summary>
    public static FakeReply Reply(RecordedRequest request, string text, int promptTokens = 11, int completionTokens = 7, TimeSpan delay = default)
    {
        var stream = request.Json?["stream"]?.GetValue<bool>() == true;
        var reply = stream
            ? FakeReply.Stream(Split(text, 7), promptTokens: promptTokens, completionTokens: completionTokens)
            : FakeReply.Completion(text, promptTokens, completionTokens);
        return reply with { Delay = delay };
    }

    /// <summary>Cuts a text into pieces of <paramref name="size"/> characters (the last may be shorter).</summary>
    public static IReadOnlyList<string> Split(string text, int size)
    {
        var chunks = new List<string>();
        for (var i = 0; i < text.Length; i += size) chunks.Add(text.Substring(i, Math.Min(size, text.Length - i)));
        return chunks;
    }

    public static TaskSpec Spec(params string[] labels) => new()
    {
        Name = "問い合わせ分類",
        Instruction = "顧客からの問い合わせを内容で分類する。",
        Labels = labels.Select(l => new LabelSpec { Name = l, Description = l + "に関する問い合わせ。" }).ToList(),
        Preferences = new TaskPreferences { Language = "ja" },
    };
}
