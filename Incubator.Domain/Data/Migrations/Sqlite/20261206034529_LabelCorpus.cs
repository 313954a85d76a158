using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Sqlite
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
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "MinerLabel",
                table: "Candidates",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "LabellingRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskVersionNumber = table.Column<int>(type: "INTEGER", nullable: false),
                    CorpusId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CorpusName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ConnectionId = table.Column<Guid>(type: "TEXT", nullable: false),
                    ConnectionName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Model = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Limit = table.Column<int>(type: "INTEGER", nullable: true),
                    BatchSize = table.Column<int>(type: "INTEGER", nullable: false),
                    BudgetTokens = table.Column<long>(type: "INTEGER", nullable: true),
                    BudgetMoney = table.Column<decimal>(type: "TEXT", nullable: true),
                    SampleJson = table.Column<string>(type: "TEXT", nullable: true),
                    SampleSize = table.Column<int>(type: "INTEGER", nullable: false),
                    TextsDone = table.Column<int>(type: "INTEGER", nullable: false),
                    Labelled = table.Column<int>(type: "INTEGER", nullable: false),
                    Disagreed = table.Column<int>(type: "INTEGER", nullable: false),
                    NoneOfThese = table.Column<int>(type: "INTEGER", nullable: false),
                    RejectedJson = table.Column<string>(type: "TEXT", maxLength: 2000, nullable: false),
                    InputTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    OutputTokens = table.Column<long>(type: "INTEGER", nullable: false),
                    Cost = table.Column<decimal>(type: "TEXT", nullable: false),
                    Calls = table.Column<int>(type: "INTEGER", nullable: false),
                    JobId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedById = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true)
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
