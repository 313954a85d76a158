using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class LabelCorpus : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "LabellingRunId",
                table: "Candidates",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "MinerLabel",
                table: "Candidates",
                type: "character varying(64)",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "LabellingRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "uuid", nullable: false),
                    ProjectId = table.Column<Guid>(type: "uuid", nullable: false),
                    TaskId = table.Column<Guid>(type: "uuid", nullable: false),
                    TaskVersionNumber = table.Column<int>(type: "integer", nullable: false),
                    CorpusId = table.Column<Guid>(type: "uuid", nullable: true),
                    CorpusName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    ConnectionId = table.Column<Guid>(type: "uuid", nullable: false),
                    ConnectionName = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Model = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: false),
                    Limit = table.Column<int>(type: "integer", nullable: true),
                    BatchSize = table.Column<int>(type: "integer", nullable: false),
                    BudgetTokens = table.Column<long>(type: "bigint", nullable: true),
                    BudgetMoney = table.Column<decimal>(type: "numeric", nullable: true),
                    SampleJson = table.Column<string>(type: "text", nullable: true),
                    SampleSize = table.Column<int>(type: "integer", nullable: false),
                    TextsDone = table.Column<int>(type: "integer", nullable: false),
                    Labelled = table.Column<int>(type: "integer", nullable: false),
                    Disagreed = table.Column<int>(type: "integer", nullable: false),
                    NoneOfThese = table.Column<int>(type: "integer", nullable: false),
                    RejectedJson = table.Column<string>(type: "character varying(2000)", maxLength: 2000, nullable: false),
                    InputTokens = table.Column<long>(type: "bigint", nullable: false),
                    OutputTokens = table.Column<long>(type: "bigint", nullable: false),
                    Cost = table.Column<decimal>(type: "numeric", nullable: false),
                    Calls = table.Column<int>(type: "integer", nullable: false),
                    JobId = table.Column<Guid>(type: "uuid", nullable: true),
                    CreatedAt = table.Column<DateTimeOffset>(type: "timestamp with time zone", nullable: false),
                    CreatedById = table.Column<string>(type: "character varying(450)", maxLength: 450, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_LabellingRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_LabellingRuns_Corpora_CorpusId",
                        column: x => x.CorpusId,
                        principalTable: "Corpora",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_LabellingRuns_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_LabellingRuns_Tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "Tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_LabellingRunId",
                table: "Candidates",
                column: "LabellingRunId");

            migrationBuilder.CreateIndex(
                name: "IX_LabellingRuns_CorpusId",
                table: "LabellingRuns",
                column: "CorpusId");

            migrationBuilder.CreateIndex(
                name: "IX_LabellingRuns_ProjectId",
                table: "LabellingRuns",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_LabellingRuns_TaskId_CreatedAt",
                table: "LabellingRuns",
                columns: new[] { "TaskId", "CreatedAt" });

            migrationBuilder.AddForeignKey(
                name: "FK_Candidates_LabellingRuns_LabellingRunId",
                table: "Candidates",
                column: "LabellingRunId",
                principalTable: "LabellingRuns",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Candidates_LabellingRuns_LabellingRunId",
                table: "Candidates");

            migrationBuilder.DropTable(
                name: "LabellingRuns");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_LabellingRunId",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "LabellingRunId",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "MinerLabel",
                table: "Candidates");
        }
    }
}
