using System.Globalization;
using Incubator.Domain.Common;
using Incubator.Domain.Review;

namespace Incubator.Web.Components.Pages.Review;

/// <summary>What a key press led to that the reviewer must be told about.</summary>
public enum FocusNotice
{
    None,
    /// <summary>Someone else decided (or holds) the item first; theirs stands, ours is in the audit trail. Moved on.</summary>
    Conflict,
    /// <summary>The lease on the item expired and it is no longer this reviewer's (someone took it, or it was decided). Moved on.</summary>
    LeaseLost,
}

/// <summary>Focus mode without the page: one item at a time, driven by keys, through the review use cases.
/// <para>Outside a spot-check the items come from "Review next" (<see cref="ClaimNextCandidate"/>): the session keeps the
/// items handed out so far, in order, so the reviewer can go back (k) and undo (u) their own decisions; at the end of
/// them, the next key that moves on claims the next item. Working on a pending item renews its lease at most every
/// <see cref="RenewEvery"/>; when the renewal finds the item is no longer theirs, the key is not applied and the session
/// moves on. In a spot-check the session walks the drawn sample, whatever its status.</para>
/// <para>Keys (<see cref="FocusKeys"/>): a approve · r then 1–6 reject with a reason (Escape cancels) · e edit · 1–9
/// relabel (in overlap mode: "it is this label", which moves on) · u undo · j/→ skip · k/← back · h history · ? help
/// (Escape closes it).</para>
/// <para>Invalid input (say, an empty edit) propagates as <see cref="DomainValidationException"/> for the page to show;
/// the session is left as it was.</para></summary>
public sealed class FocusSession(
    DecideCandidate decide, ClaimNextCandidate claim, ReviewQueries queries, TimeProvider time, FocusSession.Setup setup)
{
    /// <param name="Labels">The task's labels in order: key n is label n.</param>
    /// <param name="Overlap">The task's k; above 1 a label key is this reviewer's independent review and moves on.</param>
    /// <param name="SpotCheckId">Walk this spot-check's sample instead of claiming items.</param>
    /// <param name="Ask">Asks the reviewer for a text (title, initial text); null when they cancel.</param>
    /// <param name="History">Shows a sample's history (h) until the reviewer closes it.</param>
    public sealed record Setup(
        string UserId, Guid TaskId, IReadOnlyList<string> Labels, int Overlap, ClaimScope Scope, Guid? SpotCheckId,
        Func<string, string, Task<string?>> Ask, string EditTitle, string CommentTitle, Func<Guid, Task>? History = null);

    public static readonly TimeSpan RenewEvery = TimeSpan.FromSeconds(30);

    public static readonly IReadOnlyList<RejectionReason> Reasons = Enum.GetValues<RejectionReason>();

    private const int SpotCheckPage = 200;

    private readonly List<CandidateRow> _items = [];
    private readonly Stack<Guid> _decided = new();
    private readonly HashSet<Guid> _skipped = [];
    private DateTimeOffset _lastRenew;
    private bool _claiming;

    /// <summary>The items of this session, in the order they were handed out (or the spot-check's sample).</summary>
    public IReadOnlyList<CandidateRow> Items => _items;

    public int Index { get; private set; }

    public CandidateRow? Current => Index >= 0 && Index < _items.Count ? _items[Index] : null;

    /// <summary>Waiting for the reason of a reject (after r).</summary>
    public bool Rejecting { get; private set; }

    public bool Help { get; private set; }

    /// <summary>Items come one at a time from the reviewer's assignment (leases), not from a spot-check.</summary>
    public bool Assigned => setup.SpotCheckId is null;

    /// <summary>A label key is an independent review that moves on.</summary>
    private bool Voting => setup.Overlap > 1 && Assigned;

    public async Task StartAsync()
    {
        _items.Clear();
        Index = 0;
        if (setup.SpotCheckId is { } spot)
        {
            var page = await queries.QueryAsync(setup.UserId, setup.TaskId, new CandidateFilter(SpotCheckId: spot), 0, SpotCheckPage, CandidateSort.Oldest);
            _items.AddRange(page.Items);
            return;
        }
        await TakeNextAsync();
        Index = 0;
    }

    /// <summary>Every shortcut lands here; focus mode never needs the mouse.</summary>
    public async Task<FocusNotice> KeyAsync(string key)
    {
        if (!await RenewIfDueAsync())
        {
            await NextAsync(skip: true);
            return FocusNotice.LeaseLost;
        }
        if (Rejecting)
        {
            if (key == "Escape") Rejecting = false;
            else if (int.TryParse(key, out var n) && n >= 1 && n <= Reasons.Count) return await RejectAsync(Reasons[n - 1]);
            return FocusNotice.None;
        }
        switch (FocusKeys.Of(key)?.Action)
        {
            case FocusAction.Approve:
                return await DecideAsync(new Decision(DecisionKind.Approve), advance: true);
            case FocusAction.Reject:
                if (Current is not null) Rejecting = true;
                return FocusNotice.None;
            case FocusAction.Label:
                var number = int.Parse(key, CultureInfo.InvariantCulture);
                return number <= setup.Labels.Count ? await LabelAsync(setup.Labels[number - 1]) : FocusNotice.None;
            case FocusAction.Edit:
                return await EditAsync();
            case FocusAction.Undo:
                return await UndoAsync();
            case FocusAction.Next:
                await NextAsync(skip: true);
                return FocusNotice.None;
            case FocusAction.Previous:
                Index = Math.Max(Index - 1, 0);
                return FocusNotice.None;
            case FocusAction.History:
                if (Current is { } c && setup.History is { } history) await history(c.Id);
                return FocusNotice.None;
            case FocusAction.Help:
                Help = !Help;
                return FocusNotice.None;
            case FocusAction.Cancel:
                Help = false;
                return FocusNotice.None;
            default:
                return FocusNotice.None;
        }
    }

    public void ToggleHelp() => Help = !Help;

    /// <summary>Something changed on the task (a decision, a lease, a new sample): a reviewer waiting with nothing to do
    /// may be handed an item now. <paramref name="leasesOnly"/>: only leases changed — our own claim causes that, so it is
    /// no reason to claim again while a claim is running.</summary>
    public async Task TaskChangedAsync(bool leasesOnly)
    {
        if (Assigned && Index >= _items.Count && !(leasesOnly && _claiming))
            await TakeNextAsync();
    }

    /// <summary>Leaving focus mode gives the items this reviewer holds back to the pool at once.</summary>
    public async Task LeaveAsync()
    {
        if (Assigned) await claim.ReleaseAsync(setup.UserId, setup.TaskId);
    }

    /// <summary>A label key: relabel to it (or approve when it is the item's label); in overlap mode it is this reviewer's
    /// vote and moves on. The item's own label does nothing in single-review mode.</summary>
    private async Task<FocusNotice> LabelAsync(string name)
    {
        if (Current is not { } c || (name == c.Label && !Voting)) return FocusNotice.None;
        var decision = name == c.Label ? new Decision(DecisionKind.Approve) : new Decision(DecisionKind.Relabel, NewLabel: name);
        return await DecideAsync(decision, advance: Voting);
    }

    /// <summary>Working on an item keeps its lease alive. False when the item is no longer this reviewer's.</summary>
    private async Task<bool> RenewIfDueAsync()
    {
        var now = time.GetUtcNow();
        if (!Assigned || Current is not { Status: CandidateStatus.Pending } c || now - _lastRenew < RenewEvery) return true;
        _lastRenew = now;
        return await claim.RenewAsync(setup.UserId, c.Id);
    }

    /// <summary>Moves on: to the next item of this session, or — at its end — to the next item of the assignment.
    /// Skipping a pending item gives its lease back and keeps it out of this session.</summary>
    private async Task NextAsync(bool skip)
    {
        if (!Assigned)
        {
            Index = Math.Min(Index + 1, _items.Count);
            return;
        }
        if (Index + 1 < _items.Count)
        {
            Index++;
            return;
        }
        if (Index >= _items.Count) return;
        if (skip && Current is { Status: CandidateStatus.Pending } c) _skipped.Add(c.Id);
        Index = _items.Count;
        await TakeNextAsync();
    }

    /// <summary>Asks the assignment for the next item and shows it (nothing left: the session waits at its end).</summary>
    private async Task TakeNextAsync()
    {
        if (_claiming) return;
        _claiming = true;
        try
        {
            var next = await claim.ClaimNextAsync(setup.UserId, setup.TaskId, _skipped, setup.Scope);
            _lastRenew = time.GetUtcNow();
            if (next is null) return;
            var i = _items.FindIndex(x => x.Id == next.Id);
            if (i >= 0)
            {
                _items[i] = next;
                Index = i;
            }
            else
            {
                _items.Add(next);
                Index = _items.Count - 1;
            }
        }
        finally
        {
            _claiming = false;
        }
    }

    private async Task<FocusNotice> RejectAsync(RejectionReason reason)
    {
        Rejecting = false;
        if (reason != RejectionReason.Other) return await DecideAsync(new Decision(DecisionKind.Reject, reason), advance: true);
        var comment = await setup.Ask(setup.CommentTitle, "");
        return comment is null ? FocusNotice.None : await DecideAsync(new Decision(DecisionKind.Reject, reason, Comment: comment), advance: true);
    }

    private async Task<FocusNotice> EditAsync()
    {
        if (Current is not { } c) return FocusNotice.None;
        var text = await setup.Ask(setup.EditTitle, c.EditedText ?? c.Text);
        return text is null ? FocusNotice.None : await DecideAsync(new Decision(DecisionKind.Edit, NewText: text), advance: false);
    }

    /// <summary>Undoes this reviewer's last decision of the session: back to that item, then the undo; a pending item is
    /// taken back into their assignment.</summary>
    private async Task<FocusNotice> UndoAsync()
    {
        if (!_decided.TryPop(out var id)) return FocusNotice.None;
        var i = _items.FindIndex(x => x.Id == id);
        if (i < 0) return FocusNotice.None;
        Index = i;
        var notice = await DecideAsync(new Decision(DecisionKind.Undo), advance: false, record: false);
        if (Assigned && Current is { Status: CandidateStatus.Pending } c && c.Id == id) await claim.RenewAsync(setup.UserId, c.Id);
        return notice;
    }

    private async Task<FocusNotice> DecideAsync(Decision decision, bool advance, bool record = true)
    {
        if (Current is not { } c) return FocusNotice.None;
        try
        {
            _items[Index] = await decide.DecideAsync(setup.UserId, c.Id, decision, c.Version);
        }
        catch (ConflictException)
        {
            // Someone else decided first (or holds the item); their decision stands and ours is in the audit trail. Move on.
            await NextAsync(skip: true);
            return FocusNotice.Conflict;
        }
        if (record) _decided.Push(c.Id);
        if (advance) await NextAsync(skip: false);
        return FocusNotice.None;
    }
}
