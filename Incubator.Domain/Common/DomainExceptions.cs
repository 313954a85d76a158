namespace Incubator.Domain.Common;

/// <summary>One problem with the input: the field it belongs to, a stable code the UI localises (resource key
/// "Error.{Code}", formatted with <see cref="Args"/>), and the English message the API returns.</summary>
public sealed record DomainError(string Field, string Code, string Message, object[] Args);

/// <summary>Input that breaks a rule. Carries every problem found, so a form can show each beside its field and an
/// API can return them all at once.</summary>
public sealed class DomainValidationException : Exception
{
    public DomainValidationException(IReadOnlyList<DomainError> details)
        : base(string.Join(" ", details.Select(d => d.Message)))
    {
        Details = details;
    }

    public DomainValidationException(string field, string code, string message, params object[] args)
        : this([new DomainError(field, code, message, args)])
    {
    }

    public IReadOnlyList<DomainError> Details { get; }

    public IReadOnlyDictionary<string, string[]> Errors =>
        Details.GroupBy(d => d.Field).ToDictionary(g => g.Key, g => g.Select(d => d.Message).ToArray());
}

/// <summary>The caller is not allowed to do this. Deliberately says nothing about whether the target exists.</summary>
public sealed class ForbiddenException(string message = "You do not have access to this.") : Exception(message);

public sealed class NotFoundException(string message) : Exception(message);

/// <summary>Someone else changed the same thing first.</summary>
public sealed class ConflictException(string message) : Exception(message);
