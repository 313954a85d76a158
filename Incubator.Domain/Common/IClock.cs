namespace Incubator.Domain.Common;

public static class Clock
{
    /// <summary>Stored timestamps are UTC everywhere; the UI converts to the reader's culture and zone.</summary>
    public static DateTimeOffset UtcNow(this TimeProvider time) => time.GetUtcNow();
}
