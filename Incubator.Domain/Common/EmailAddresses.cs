using System.ComponentModel.DataAnnotations;

namespace Incubator.Domain.Common;

/// <summary>The one rule for an e-mail address a person types (registration, an invitation's address): at most 256
/// characters, one '@' with text on both sides, no control characters, and a dot in it (no "someone@localhost").</summary>
public static class EmailAddresses
{
    public const int MaxLength = 256;

    public static bool IsPlausible(string? email) =>
        email is { Length: > 0 and <= MaxLength } && !email.Any(char.IsControl) && new EmailAddressAttribute().IsValid(email) && email.Contains('.');
}
