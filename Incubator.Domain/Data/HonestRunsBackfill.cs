namespace Incubator.Domain.Data;

/// <summary>The data part of migration HonestRuns, kept here so a test can run it (and so a regenerated migration can
/// call it again).</summary>
internal static class HonestRunsBackfill
{
    /// <summary>Samples already in a queue's main view get their place within their label, oldest first, so the default
    /// order spreads them over the labels as it does new ones (docs/decisions/0022-review-queue-views.md).</summary>
    public const string SpreadRanks = """
        UPDATE "Candidates" SET "SpreadRank" = (
            SELECT COUNT(*) FROM "Candidates" AS o
            WHERE o."TaskId" = "Candidates"."TaskId" AND o."Label" = "Candidates"."Label" AND o."Stage" = "Candidates"."Stage"
              AND (o."CreatedAt" < "Candidates"."CreatedAt" OR (o."CreatedAt" = "Candidates"."CreatedAt" AND o."Id" < "Candidates"."Id")))
        WHERE "Stage" = 'Selected';
        """;

    /// <summary>Runs that ended before outcomes existed: one whose job "succeeded" without a stop reason completed, one
    /// with a stop reason stopped short (docs/decisions/0020-truthful-outcomes.md).</summary>
    public const string RunOutcomes = """
        UPDATE "GenerationRuns" SET "Outcome" = CASE WHEN "StopReason" IS NULL THEN 'Completed' ELSE 'StoppedShort' END
        WHERE "Outcome" IS NULL AND "JobId" IN (SELECT "Id" FROM "Jobs" WHERE "State" = 'Succeeded');
        """;

    /// <summary>…and their jobs say so too.</summary>
    public const string StoppedShortJobs = """
        UPDATE "Jobs" SET "State" = 'StoppedShort'
        WHERE "State" = 'Succeeded' AND "Kind" = 'generation.run'
          AND "Id" IN (SELECT "JobId" FROM "GenerationRuns" WHERE "StopReason" IS NOT NULL);
        """;
}
