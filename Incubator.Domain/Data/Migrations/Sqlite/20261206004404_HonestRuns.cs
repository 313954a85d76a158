using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Sqlite
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
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "NoteJson",
                table: "Jobs",
                type: "TEXT",
                maxLength: 8000,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "WaitingSince",
                table: "Jobs",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "Outcome",
                table: "GenerationRuns",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ShortfallJson",
                table: "GenerationRuns",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "Surplus",
                table: "GenerationRuns",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<int>(
                name: "SpreadRank",
                table: "Candidates",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.CreateTable(
                name: "LlmConnectionTests",
                columns: table => new
                {
                    ConnectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ok = table.Column<bool>(type: "INTEGER", nullable: false),
                    StatusCode = table.Column<int>(type: "INTEGER", nullable: true),
                    Error = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: true),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
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
