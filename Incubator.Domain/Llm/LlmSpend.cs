namespace Incubator.Domain.Llm;

/// <summary>One call to a site-wide LLM connection, as spent: who ran it, in which project, tokens and cost (in
/// millionths of the currency unit, so sums stay exact in every database). The spending caps add these up per UTC day.
/// Project connections are the project's own keys and are not recorded here.</summary>
public sealed class LlmSpend
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public string UserId { get; set; } = "";
    public Guid ProjectId { get; set; }
    public Guid ConnectionId { get; set; }
    public long Tokens { get; set; }
    public long CostMicros { get; set; }
}
