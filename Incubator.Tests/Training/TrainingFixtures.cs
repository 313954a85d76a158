using Incubator.Domain.Common.TextFiles;
using Incubator.Domain.Training;

namespace Incubator.Tests.Training;

/// <summary>The small labelled fixtures written for these tests (Training/Fixtures, copied to the output folder).</summary>
public static class TrainingFixtures
{
    public static string PathOf(string name) => Path.Combine(AppContext.BaseDirectory, "Training", "Fixtures", name);

    /// <summary>330 short English support messages: billing, technical, shipping.</summary>
    public static List<LabeledText> English() => Read(PathOf("support-en.tsv"));

    /// <summary>184 short Japanese sentences: 料理 (cooking), スポーツ (sports), 天気 (weather).</summary>
    public static List<LabeledText> Japanese() => Read(PathOf("topics-ja.tsv"));

    /// <summary>label&lt;TAB&gt;text rows, read as the command line reads training data.</summary>
    public static List<LabeledText> Read(string path)
    {
        using var reader = TextFileReader.Open(File.OpenRead(path), TextFileOptions.ForLabels(TextFileFormat.Tsv, maxTextChars: int.MaxValue), leaveOpen: false);
        return reader.ReadAll().Select(r => new LabeledText(r.Label!, r.Text)).ToList();
    }

    public static IReadOnlyList<string> LabelsOf(IEnumerable<LabeledText> rows) => rows.Select(r => r.Label).Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Inputs that have broken text exports before: case, punctuation, non-Latin scripts, emoji, control
    /// characters, empty and whitespace-only text, and a 10,000-character text.</summary>
    public static List<string> TrickyTexts()
    {
        var rng = new Random(3);
        var words = "refund charged invoice crash login error package delivery tracking broken app slow card".Split(' ');
        var longText = string.Join(' ', Enumerable.Range(0, 3000).Select(_ => words[rng.Next(words.Length)]));
        longText = longText[..10_000];
        return
        [
            "",
            " ",
            "\t\n",
            "MY CARD WAS CHARGED TWICE!!!",
            "The APP crashes... again?! (version 4.0.1)",
            "refund,refund;refund:REFUND--refund",
            "Straße ÄÖÜ ünïcödé café naïve",
            "ΣΊΣΥΦΟΣ σίσυφος Ωμέγα",
            "ПРИВЕТ мир, где моя посылка?",
            "İstanbul'a KARGO gelmedi ı İ",
            "荷物が届きません。返金してください！",
            "배송이 안 왔어요",
            "لم يصل الطرد",
            "the package 📦 never came 😡",
            "😀😃😄😁😆😅",
            "tabs\tand\nnewlines\r\ninside",
            "ǅungla ǈ ǋ ᾈ Ⅻ Ⓐ Ｆｕｌｌ ｗｉｄｔｈ ＣＡＲＤ",
            "𐐀𐐁 Deseret",
            "a",
            longText,
        ];
    }
}
