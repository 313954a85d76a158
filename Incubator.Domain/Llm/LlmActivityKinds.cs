namespace Incubator.Domain.Llm;

public static class LlmActivityKinds
{
    public const string ConnectionCreated = "llm.connection.created";
    public const string ConnectionChanged = "llm.connection.changed";
    public const string ConnectionDeleted = "llm.connection.deleted";
    public const string DefaultConnectionChanged = "llm.connection.default";
}
