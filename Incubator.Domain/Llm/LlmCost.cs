namespace Incubator.Domain.Llm;

public static class LlmCost
{
    /// <summary>Roughly four characters per token for English prose; good enough for budgets and estimates, which
    /// are always labelled as such.</summary>
    public const double CharsPerToken = 4.0;

    public static decimal Cost(LlmUsage usage, LlmProfile profile) =>
        usage.InputTokens * profile.InputPricePerMillion / 1_000_000m
        + usage.OutputTokens * profile.OutputPricePerMillion / 1_000_000m;

    public static LlmUsage EstimateTokens(string prompt, int expectedOutputTokens) =>
        new(EstimateTokenCount(prompt), Math.Max(0, expectedOutputTokens), Estimated: true);

    public static int EstimateTokenCount(string? text) =>
        string.IsNullOrEmpty(text) ? 0 : (int)Math.Ceiling(text.Length / CharsPerToken);
}
