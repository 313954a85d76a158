using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations
{
    /// <inheritdoc />
    public partial class CorporaMining : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "MiningRunId",
                table: "Candidates",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "MiningScore",
                table: "Candidates",
                type: "REAL",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "Uncertainty",
                table: "Candidates",
                type: "REAL",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "Corpora",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Name = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    FileName = table.Column<string>(type: "TEXT", maxLength: 260, nullable: false),
                    Format = table.Column<string>(type: "TEXT", maxLength: 8, nullable: false),
                    Encoding = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    Language = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    TextCount = table.Column<int>(type: "INTEGER", nullable: false),
                    RowsRead = table.Column<long>(type: "INTEGER", nullable: false),
                    DuplicatesCollapsed = table.Column<long>(type: "INTEGER", nullable: false),
                    BadRows = table.Column<long>(type: "INTEGER", nullable: false),
                    Bytes = table.Column<long>(type: "INTEGER", nullable: false),
                    ReportJson = table.Column<string>(type: "TEXT", nullable: false),
                    Embedder = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    EmbeddedCount = table.Column<int>(type: "INTEGER", nullable: false),
                    EmbeddingJobId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedById = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_Corpora", x => x.Id);
                    table.ForeignKey(
                        name: "FK_Corpora_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "CorpusEmbeddingBatches",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CorpusId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Embedder = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    StartOrdinal = table.Column<int>(type: "INTEGER", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false),
                    Dimensions = table.Column<int>(type: "INTEGER", nullable: false),
                    Data = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CorpusEmbeddingBatches", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CorpusEmbeddingBatches_Corpora_CorpusId",
                        column: x => x.CorpusId,
                        principalTable: "Corpora",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "CorpusTexts",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    CorpusId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    Text = table.Column<string>(type: "TEXT", nullable: false),
                    Count = table.Column<int>(type: "INTEGER", nullable: false),
                    Line = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_CorpusTexts", x => x.Id);
                    table.ForeignKey(
                        name: "FK_CorpusTexts_Corpora_CorpusId",
                        column: x => x.CorpusId,
                        principalTable: "Corpora",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "MiningRuns",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskVersionNumber = table.Column<int>(type: "INTEGER", nullable: false),
                    CorpusId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CorpusName = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    Embedder = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    PerLabel = table.Column<int>(type: "INTEGER", nullable: false),
                    Margin = table.Column<double>(type: "REAL", nullable: false),
                    ApprovedUsed = table.Column<int>(type: "INTEGER", nullable: false),
                    CandidatesCreated = table.Column<int>(type: "INTEGER", nullable: false),
                    SummaryJson = table.Column<string>(type: "TEXT", nullable: true),
                    JobId = table.Column<Guid>(type: "TEXT", nullable: true),
                    CreatedAt = table.Column<long>(type: "INTEGER", nullable: false),
                    CreatedById = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_MiningRuns", x => x.Id);
                    table.ForeignKey(
                        name: "FK_MiningRuns_Corpora_CorpusId",
                        column: x => x.CorpusId,
                        principalTable: "Corpora",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.SetNull);
                    table.ForeignKey(
                        name: "FK_MiningRuns_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_MiningRuns_Tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "Tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_MiningRunId_CreatedAt",
                table: "Candidates",
                columns: new[] { "MiningRunId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_Uncertainty",
                table: "Candidates",
                columns: new[] { "TaskId", "Uncertainty" });

            migrationBuilder.CreateIndex(
                name: "IX_Corpora_ProjectId_CreatedAt",
                table: "Corpora",
                columns: new[] { "ProjectId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_CorpusEmbeddingBatches_CorpusId_Embedder_StartOrdinal",
                table: "CorpusEmbeddingBatches",
                columns: new[] { "CorpusId", "Embedder", "StartOrdinal" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_CorpusTexts_CorpusId_Ordinal",
                table: "CorpusTexts",
                columns: new[] { "CorpusId", "Ordinal" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "IX_MiningRuns_CorpusId",
                table: "MiningRuns",
                column: "CorpusId");

            migrationBuilder.CreateIndex(
                name: "IX_MiningRuns_ProjectId",
                table: "MiningRuns",
                column: "ProjectId");

            migrationBuilder.CreateIndex(
                name: "IX_MiningRuns_TaskId_CreatedAt",
                table: "MiningRuns",
                columns: new[] { "TaskId", "CreatedAt" });

            migrationBuilder.AddForeignKey(
                name: "FK_Candidates_MiningRuns_MiningRunId",
                table: "Candidates",
                column: "MiningRunId",
                principalTable: "MiningRuns",
                principalColumn: "Id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "FK_Candidates_MiningRuns_MiningRunId",
                table: "Candidates");

            migrationBuilder.DropTable(
                name: "CorpusEmbeddingBatches");

            migrationBuilder.DropTable(
                name: "CorpusTexts");

            migrationBuilder.DropTable(
                name: "MiningRuns");

            migrationBuilder.DropTable(
                name: "Corpora");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_MiningRunId_CreatedAt",
                table: "Candidates");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_Uncertainty",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "MiningRunId",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "MiningScore",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "Uncertainty",
                table: "Candidates");
        }
    }
}
