using Incubator.Domain.Common;

namespace Incubator.Domain.Projects;

public static class ProjectRules
{
    public const int MaxNameLength = 100;
    public const int MaxDescriptionLength = 2000;

    /// <summary>Returns the trimmed name or throws with a message the form shows under the field.</summary>
    public static string ValidateName(string? name)
    {
        var trimmed = (name ?? "").Trim();
        if (trimmed.Length == 0)
            throw new DomainValidationException("name", "ProjectNameRequired", "Project name is required.");
        if (trimmed.Length > MaxNameLength)
            throw new DomainValidationException("name", "ProjectNameTooLong", $"Project name must be at most {MaxNameLength} characters (it has {trimmed.Length}).", MaxNameLength, trimmed.Length);
        if (trimmed.Any(char.IsControl))
            throw new DomainValidationException("name", "ProjectNameControlChars", "Project name must not contain control characters.");
        return trimmed;
    }

    public static string ValidateDescription(string? description)
    {
        var trimmed = (description ?? "").Trim();
        if (trimmed.Length > MaxDescriptionLength)
            throw new DomainValidationException("description", "DescriptionTooLong", $"Description must be at most {MaxDescriptionLength} characters (it has {trimmed.Length}).", MaxDescriptionLength, trimmed.Length);
        return trimmed;
    }
}
