namespace Incubator.Web.Components.Pages.Review;

/// <summary>What a shortcut of focus mode does.</summary>
public enum FocusAction
{
    Approve,
    Reject,
    /// <summary>1–9: the label with that number.</summary>
    Label,
    Edit,
    /// <summary>Ctrl+Enter in the edit (or comment) box.</summary>
    Save,
    /// <summary>Escape: cancels a reject, closes the help, a dialog or the edit without saving.</summary>
    Cancel,
    Undo,
    Next,
    Previous,
    History,
    Help,
}

/// <param name="Display">How the key is written in the help.</param>
/// <param name="Description">Resource key of what it does.</param>
/// <param name="Keys">The <c>KeyboardEvent.key</c> values that trigger it.</param>
/// <param name="Control">Only with Ctrl (or ⌘) held.</param>
public sealed record FocusShortcut(FocusAction Action, string Display, string Description, IReadOnlyList<string> Keys, bool Control = false);

/// <summary>The one list of focus mode's shortcuts: <see cref="FocusSession"/> maps keys with it, the edit box saves
/// with it and the <c>?</c> help lists it, so a shortcut cannot work without being listed or be listed without working.</summary>
public static class FocusKeys
{
    public static readonly IReadOnlyList<FocusShortcut> All =
    [
        new(FocusAction.Approve, "a", "Review.Key.Approve", ["a"]),
        new(FocusAction.Reject, "r", "Review.Key.Reject", ["r"]),
        new(FocusAction.Label, "1–9", "Review.Key.Label", ["1", "2", "3", "4", "5", "6", "7", "8", "9"]),
        new(FocusAction.Edit, "e", "Review.Key.Edit", ["e"]),
        new(FocusAction.Save, "Ctrl+Enter", "Review.Key.Save", ["Enter"], Control: true),
        new(FocusAction.Cancel, "Esc", "Review.Key.Cancel", ["Escape"]),
        new(FocusAction.Undo, "u", "Review.Key.Undo", ["u"]),
        new(FocusAction.Next, "j / →", "Review.Key.Next", ["j", "ArrowRight"]),
        new(FocusAction.Previous, "k / ←", "Review.Key.Previous", ["k", "ArrowLeft"]),
        new(FocusAction.History, "h", "Review.Key.History", ["h"]),
        new(FocusAction.Help, "?", "Review.Key.Help", ["?"]),
    ];

    /// <summary>The action of a key press, or null when it is no shortcut.</summary>
    public static FocusShortcut? Of(string key, bool control = false) =>
        All.FirstOrDefault(s => s.Control == control && s.Keys.Contains(key, StringComparer.Ordinal));
}
