using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using MudBlazor;

namespace Incubator.Web.Components.Pages.Training;

/// <summary>A model card (the markdown <see cref="Incubator.Domain.Training.ModelCardBuilder"/> writes) shown formatted:
/// headings, paragraphs, bullet lists, tables, <c>**bold**</c> and <c>`code`</c> — the subset the card writer emits and
/// nothing more. The card holds text users and LLMs influenced (task name, instruction, labels, reviewers), so every
/// piece of it reaches the page as a text node (<see cref="RenderTreeBuilder.AddContent(int, string)"/>, which the
/// renderer escapes): no markup string, no HTML passes through, and no link is ever made (the writer emits none), so
/// no <c>javascript:</c> address can appear. Anything outside the subset is shown as the text it is.</summary>
public sealed class ModelCardView : ComponentBase
{
    [Parameter, EditorRequired] public string Markdown { get; set; } = "";

    // Parsed once per card, not on every render of the page around it (a model page re-renders on live events).
    private string? _parsedFrom;
    private IReadOnlyList<Block> _blocks = [];

    protected override void OnParametersSet()
    {
        if (string.Equals(_parsedFrom, Markdown, StringComparison.Ordinal)) return;
        _blocks = Parse(Markdown);
        _parsedFrom = Markdown;
    }

    /// <summary>One block of the card: a heading (its level), a paragraph, a bullet list, or a table (header + rows).</summary>
    internal abstract record Block;

    internal sealed record Heading(int Level, string Text) : Block;

    internal sealed record Paragraph(string Text) : Block;

    internal sealed record BulletList(IReadOnlyList<string> Items) : Block;

    internal sealed record Table(IReadOnlyList<string> Header, IReadOnlyList<IReadOnlyList<string>> Rows) : Block;

    /// <summary>One piece of a line: plain text, bold or code.</summary>
    internal sealed record Span(string Text, bool Bold = false, bool Code = false);

    /// <summary>The card's blocks, line by line: "#"… a heading, "- " a list item, "|" a table row (the "|---|" line
    /// after the header skipped), a blank line ends a paragraph; other lines join the paragraph they are in.</summary>
    internal static IReadOnlyList<Block> Parse(string markdown)
    {
        var blocks = new List<Block>();
        var lines = markdown.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var paragraph = new List<string>();
        var items = new List<string>();
        List<string>? header = null;
        var rows = new List<IReadOnlyList<string>>();

        void Flush()
        {
            if (paragraph.Count > 0) blocks.Add(new Paragraph(string.Join(" ", paragraph)));
            paragraph.Clear();
            if (items.Count > 0) blocks.Add(new BulletList(items.ToList()));
            items.Clear();
            if (header is not null) blocks.Add(new Table(header, rows.ToList()));
            header = null;
            rows.Clear();
        }

        foreach (var raw in lines)
        {
            var line = raw.TrimEnd();
            if (line.Length == 0)
            {
                Flush();
                continue;
            }
            var level = line.TakeWhile(c => c == '#').Count();
            if (level is >= 1 and <= 6 && line.Length > level && line[level] == ' ')
            {
                Flush();
                blocks.Add(new Heading(level, line[(level + 1)..].Trim()));
                continue;
            }
            if (line.StartsWith("- ", StringComparison.Ordinal))
            {
                if (paragraph.Count > 0 || header is not null) Flush();
                items.Add(line[2..]);
                continue;
            }
            if (line.StartsWith('|') && line.EndsWith('|') && line.Length > 1)
            {
                if (paragraph.Count > 0 || items.Count > 0) Flush();
                var cells = Cells(line);
                if (header is null) header = cells;
                else if (rows.Count == 0 && cells.All(c => c.Length > 0 && c.All(ch => ch is '-' or ':'))) { /* the header's rule */ }
                else rows.Add(cells);
                continue;
            }
            if (items.Count > 0 || header is not null) Flush();
            paragraph.Add(line.Trim());
        }
        Flush();
        return blocks;
    }

    /// <summary>A table row's cells: split at each "|" not escaped as "\|" (the writer escapes those in names).</summary>
    private static List<string> Cells(string line)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        for (var i = 1; i < line.Length - 1; i++)
        {
            // An escape ("\|", "\\") is kept for the line's reading (Inline) and never splits the row.
            if (line[i] == '\\' && i + 1 < line.Length - 1) { cell.Append(line, i, 2); i++; }
            else if (line[i] == '|') { cells.Add(cell.ToString().Trim()); cell.Clear(); }
            else cell.Append(line[i]);
        }
        cells.Add(cell.ToString().Trim());
        return cells;
    }

    /// <summary>A line's bold (<c>**…**</c>) and code (<c>`…`</c>) pieces; an opening mark without its closing one is text;
    /// a backslash before ASCII punctuation makes it text. Code is literal (no escape, no bold inside).</summary>
    internal static IReadOnlyList<Span> Inline(string text)
    {
        var spans = new List<Span>();
        var plain = new StringBuilder();
        var bold = false;
        var i = 0;
        while (i < text.Length)
        {
            if (text[i] == '\\' && i + 1 < text.Length && char.IsAsciiLetterOrDigit(text[i + 1]) is false && text[i + 1] is > ' ' and < '\u007f')
            {
                // A backslash escape: the writer's way to say "*", "<", "`"… as the text they are.
                plain.Append(text[i + 1]);
                i += 2;
            }
            else if (text[i] == '`' && text.IndexOf('`', i + 1) is var end && end > i + 1)
            {
                Add(plain.ToString(), bold);
                plain.Clear();
                spans.Add(new Span(text[(i + 1)..end], Bold: bold, Code: true));
                i = end + 1;
            }
            else if (string.CompareOrdinal(text, i, "**", 0, 2) == 0 && (bold || text.IndexOf("**", i + 2, StringComparison.Ordinal) > i + 2))
            {
                Add(plain.ToString(), bold);
                plain.Clear();
                bold = !bold;
                i += 2;
            }
            else
            {
                plain.Append(text[i]);
                i++;
            }
        }
        Add(plain.ToString(), bold);
        return spans;

        void Add(string s, bool b)
        {
            if (s.Length > 0) spans.Add(new Span(s, Bold: b));
        }
    }

    protected override void BuildRenderTree(RenderTreeBuilder builder)
    {
        builder.OpenElement(0, "div");
        builder.AddAttribute(1, "class", "incubator-model-card");
        builder.AddAttribute(2, "data-testid", "model-card-body");
        foreach (var block in _blocks)
        {
            switch (block)
            {
                case Heading h:
                    builder.OpenComponent<MudText>(10);
                    builder.AddComponentParameter(11, nameof(MudText.Typo), h.Level switch { 1 => Typo.h5, 2 => Typo.h6, _ => Typo.subtitle1 });
                    builder.AddComponentParameter(12, nameof(MudText.HtmlTag), "h" + Math.Min(h.Level + 2, 6));
                    builder.AddComponentParameter(13, nameof(MudText.Class), h.Level == 1 ? "mb-2" : "mt-4 mb-2");
                    builder.AddComponentParameter(14, nameof(MudText.ChildContent), Line(h.Text));
                    builder.CloseComponent();
                    break;
                case Paragraph p:
                    builder.OpenComponent<MudText>(20);
                    builder.AddComponentParameter(21, nameof(MudText.Typo), Typo.body2);
                    builder.AddComponentParameter(22, nameof(MudText.Class), "mb-2");
                    builder.AddComponentParameter(23, nameof(MudText.ChildContent), Line(p.Text));
                    builder.CloseComponent();
                    break;
                case BulletList list:
                    builder.OpenElement(30, "ul");
                    builder.AddAttribute(31, "class", "mb-2 mud-typography-body2");
                    builder.AddAttribute(32, "style", "padding-inline-start:1.5em;list-style:disc");
                    foreach (var item in list.Items)
                    {
                        builder.OpenElement(33, "li");
                        builder.AddContent(34, Line(item));
                        builder.CloseElement();
                    }
                    builder.CloseElement();
                    break;
                case Table t:
                    // A wide table scrolls inside its own box on a phone rather than pushing the page sideways.
                    builder.OpenElement(40, "div");
                    builder.AddAttribute(41, "style", "overflow-x:auto");
                    builder.AddAttribute(42, "class", "mb-3");
                    builder.OpenComponent<MudSimpleTable>(43);
                    builder.AddComponentParameter(44, nameof(MudSimpleTable.Dense), true);
                    builder.AddComponentParameter(45, nameof(MudSimpleTable.Outlined), true);
                    builder.AddComponentParameter(46, nameof(MudSimpleTable.ChildContent), (RenderFragment)(b => TableBody(b, t)));
                    builder.CloseComponent();
                    builder.CloseElement();
                    break;
            }
        }
        builder.CloseElement();
    }

    private static void TableBody(RenderTreeBuilder b, Table t)
    {
        b.OpenElement(0, "thead");
        b.OpenElement(1, "tr");
        foreach (var cell in t.Header)
        {
            b.OpenElement(2, "th");
            b.AddContent(3, Line(cell));
            b.CloseElement();
        }
        b.CloseElement();
        b.CloseElement();
        b.OpenElement(4, "tbody");
        foreach (var row in t.Rows)
        {
            b.OpenElement(5, "tr");
            foreach (var cell in row)
            {
                b.OpenElement(6, "td");
                b.AddContent(7, Line(cell));
                b.CloseElement();
            }
            b.CloseElement();
        }
        b.CloseElement();
    }

    /// <summary>A line as text nodes, bold in &lt;strong&gt; and code in &lt;code&gt;.</summary>
    private static RenderFragment Line(string text) => b =>
    {
        foreach (var s in Inline(text))
        {
            if (s.Bold) b.OpenElement(0, "strong");
            if (s.Code) b.OpenElement(1, "code");
            b.AddContent(2, s.Text);
            if (s.Code) b.CloseElement();
            if (s.Bold) b.CloseElement();
        }
    };
}
