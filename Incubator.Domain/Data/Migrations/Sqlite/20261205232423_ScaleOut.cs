using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ScaleOut : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_CreatedAt",
                table: "Candidates");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_Label_CreatedAt",
                table: "Candidates");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_Status_CreatedAt",
                table: "Candidates");

            migrationBuilder.AddColumn<long>(
                name: "ImportExpiresAt",
                table: "Corpora",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "State",
                table: "Corpora",
                type: "TEXT",
                maxLength: 16,
                nullable: false,
                defaultValue: "");

            migrationBuilder.CreateTable(
                name: "DataProtectionKeys",
                columns: table => new
                {
                    Id = table.Column<int>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    FriendlyName = table.Column<string>(type: "TEXT", nullable: true),
                    Xml = table.Column<string>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_DataProtectionKeys", x => x.Id);
                });

            migrationBuilder.CreateTable(
                name: "ReviewPresence",
                columns: table => new
                {
                    Id = table.Column<Guid>(type: "TEXT", nullable: false),
                    ProjectId = table.Column<Guid>(type: "TEXT", nullable: false),
                    TaskId = table.Column<Guid>(type: "TEXT", nullable: false),
                    Display = table.Column<string>(type: "TEXT", maxLength: 256, nullable: false),
                    Instance = table.Column<string>(type: "TEXT", maxLength: 200, nullable: false),
                    ExpiresAt = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_ReviewPresence", x => x.Id);
                    table.ForeignKey(
                        name: "FK_ReviewPresence_Tasks_TaskId",
                        column: x => x.TaskId,
                        principalTable: "Tasks",
                        principalColumn: "Id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "IX_Jobs_State_CreatedAt",
                table: "Jobs",
                columns: new[] { "State", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Corpora_State_ImportExpiresAt",
                table: "Corpora",
                columns: new[] { "State", "ImportExpiresAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_CreatedAt_Id",
                table: "Candidates",
                columns: new[] { "TaskId", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_Label_CreatedAt_Id",
                table: "Candidates",
                columns: new[] { "TaskId", "Label", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_Status_CreatedAt_Id",
                table: "Candidates",
                columns: new[] { "TaskId", "Status", "CreatedAt", "Id" });

            migrationBuilder.CreateIndex(
                name: "IX_ReviewPresence_TaskId_ExpiresAt",
                table: "ReviewPresence",
                columns: new[] { "TaskId", "ExpiresAt" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "DataProtectionKeys");

            migrationBuilder.DropTable(
                name: "ReviewPresence");

            migrationBuilder.DropIndex(
                name: "IX_Jobs_State_CreatedAt",
                table: "Jobs");

            migrationBuilder.DropIndex(
                name: "IX_Corpora_State_ImportExpiresAt",
                table: "Corpora");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_CreatedAt_Id",
                table: "Candidates");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_Label_CreatedAt_Id",
                table: "Candidates");

            migrationBuilder.DropIndex(
                name: "IX_Candidates_TaskId_Status_CreatedAt_Id",
                table: "Candidates");

            migrationBuilder.DropColumn(
                name: "ImportExpiresAt",
                table: "Corpora");

            migrationBuilder.DropColumn(
                name: "State",
                table: "Corpora");

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_CreatedAt",
                table: "Candidates",
                columns: new[] { "TaskId", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_Label_CreatedAt",
                table: "Candidates",
                columns: new[] { "TaskId", "Label", "CreatedAt" });

            migrationBuilder.CreateIndex(
                name: "IX_Candidates_TaskId_Status_CreatedAt",
                table: "Candidates",
                columns: new[] { "TaskId", "Status", "CreatedAt" });
        }
    }
}
