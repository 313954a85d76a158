using Microsoft.Extensions.Options;

namespace Incubator.Domain.Llm;

/// <summary>A configured connection that cannot work is reported at start-up, with every problem and the same codes
/// as the form uses, rather than at the first generation run.</summary>
internal sealed class LlmOptionsValidator : IValidateOptions<LlmOptions>
{
    public ValidateOptionsResult Validate(string? name, LlmOptions o)
    {
        var failures = new List<string>();
        if (o.MaxAttempts < 1) failures.Add("Llm:MaxAttempts must be at least 1.");
        if (o.AttemptTimeout <= TimeSpan.Zero) failures.Add("Llm:AttemptTimeout must be positive.");
        if (o.RetryBaseDelay < TimeSpan.Zero || o.RetryMaxDelay <= TimeSpan.Zero) failures.Add("Llm:RetryBaseDelay and Llm:RetryMaxDelay must be positive.");
        if (o.HasConfiguredConnection)
        {
            try
            {
                LlmConnectionRules.Validate(new LlmConnectionInput("configured", o.Provider, o.Endpoint, o.Model, o.ApiKey, o.Temperature,
                    o.MaxOutputTokens, o.MaxConcurrency, o.RequestsPerMinute, o.InputPricePerMillion, o.OutputPricePerMillion),
                    !string.IsNullOrWhiteSpace(o.ApiKey));
            }
            catch (Common.DomainValidationException ex)
            {
                failures.AddRange(ex.Details.Select(d => $"Llm: {d.Code}: {d.Message}"));
            }
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
