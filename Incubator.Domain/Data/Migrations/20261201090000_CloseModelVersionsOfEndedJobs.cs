using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations
{
    /// <summary>Data only. Model versions used to stay "Training" when their job was cancelled while queued or died, and
    /// readers patched the state from the job; now the job's end closes its model version in the same transaction
    /// (docs/decisions/0016-one-way-to-start-work.md), so rows left behind by the old way are closed here once.</summary>
    [DbContext(typeof(IncubatorDbContext))]
    [Migration("20261201090000_CloseModelVersionsOfEndedJobs")]
    public partial class CloseModelVersionsOfEndedJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("""
                UPDATE "ModelVersions" SET "State" = 'Cancelled'
                WHERE "State" = 'Training' AND "JobId" IN (SELECT "Id" FROM "Jobs" WHERE "State" = 'Cancelled');
                """);
            migrationBuilder.Sql("""
                UPDATE "ModelVersions" SET "State" = 'Failed',
                    "Error" = COALESCE("Error", (SELECT substr("Jobs"."Error", 1, 2000) FROM "Jobs" WHERE "Jobs"."Id" = "ModelVersions"."JobId"))
                WHERE "State" = 'Training' AND "JobId" IN (SELECT "Id" FROM "Jobs" WHERE "State" = 'Failed');
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            // Nothing to undo: the closed rows say what happened to their jobs.
        }
    }
}
