using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class HonestRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "DefaultConnectionId",
                table: "Projects",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "NoteJson",
                table: "Jobs",
                type: "character varying(8000)",
                maxLength: 8000,
                nullable: true);

            migrationBuilder.AddColumn<DateTimeOffset>(
                name: "WaitingSince",
                table: "Jobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Outcome",
                table: "GenerationRuns",
                type: "character varying(16)",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ShortfallJson",
                table: "GenerationRuns",
                type: "text",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Surplus",
                table: "GenerationRuns",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "SpreadRank",
                table: "Candidates",
                type: "integer",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "LlmConnectionTests",
                columns: table => new
                {
                    ConnectionId = table.Column<Guid>(type: "uuid", nullable: false),
                    Ok = table.Column<bool>(type: "boolean", nullable: false),
                    StatusCode = table.Column<int>(type: "integer", nullable: true),
                    Error = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: true),
                    At = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LlmConnectionTests", x => x.ConnectionId);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_Stage_SpreadRank_Label",
                table: "Candidates",
                columns: new[] { "TaskId", "Stage", "SpreadRank", "Label" });

            // Data: what existed before (docs/decisions/0020, 0022); the statements live in HonestRunsBackfill, where a
            // test runs them. They are plain SQL both providers read the same way.
            migrationBuilder.Sql(HonestRunsBackfill.SpreadRanks);
            migrationBuilder.Sql(HonestRunsBackfill.RunOutcomes);
            migrationBuilder.Sql(HonestRunsBackfill.StoppedShortJobs);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "LlmConnectionTests");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_Stage_SpreadRank_Label",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "DefaultConnectionId",
                table: "Projects");

            migrationBuilder.DropColumn(
                name: "NoteJson",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "WaitingSince",
                table: "Jobs");

            migrationBuilder.DropColumn(
                name: "Outcome",
                table: "GenerationRuns");

            migrationBuilder.DropColumn(
                name: "ShortfallJson",
                table: "GenerationRuns");

            migrationBuilder.DropColumn(
                name: "Surplus",
                table: "GenerationRuns");

            migrationBuilder.DropColumn(
                name: "SpreadRank",
                table: "Candidates");
        }
    }
}
