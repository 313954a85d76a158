using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations
{
    /// <inheritdoc />
    public partial class Review : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "OriginalLabel",
                table: "Candidates",
                type: "TEXT",
                maxLength: 64,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "RejectionReason",
                table: "Candidates",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "ReviewedAt",
                table: "Candidates",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "ReviewedById",
                table: "Candidates",
                type: "TEXT",
                maxLength: 450,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "Version",
                table: "Candidates",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.CreateTable(
                name: "ReviewEvents",
                columns: table => new
                {
                    Id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    CandidateId = table.Column<Guid>(type: "TEXT", nullable: false),
                    UserId = table.Column<string>(type: "TEXT", maxLength: 450, nullable: true),
                    Kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StatusBefore = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    StatusAfter = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    LabelBefore = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    LabelAfter = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    TextBefore = table.Column<string>(type: "TEXT", nullable: true),
                    TextAfter = table.Column<string>(type: "TEXT", nullable: true),
                    Reason = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    Comment = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    ReasonBefore = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    ReviewReasonBefore = table.Column<string>(type: "TEXT", maxLength: 1000, nullable: true),
                    Lost = table.Column<bool>(type: "INTEGER", nullable: false),
                    At = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ReviewEvents", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ReviewEvents_Candidates_CandidateId",
                        column: x => x.CandidateId,
                        principalTable: "Candidates",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "FK_ReviewEvents_Projects_ProjectId",
                        column: x => x.ProjectId,
                        principalTable: "Projects",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_CreatedAt",
                table: "Candidates",
                columns: new[] { "TaskId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_Label_CreatedAt",
                table: "Candidates",
                columns: new[] { "TaskId", "Label", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_ReviewEvents_CandidateId_Id",
                table: "ReviewEvents",
                columns: new[] { "CandidateId", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ReviewEvents_ProjectId_Id",
                table: "ReviewEvents",
                columns: new[] { "ProjectId", "Id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "ReviewEvents");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_CreatedAt",
                table: "Candidates");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_Label_CreatedAt",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "OriginalLabel",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "RejectionReason",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "ReviewedAt",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "ReviewedById",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "Version",
                table: "Candidates");
        }
    }
}
