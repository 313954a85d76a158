using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class SelfTrainingJobs : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "ModelVersionId",
                table: "MiningRuns",
                type: "uuid",
                nullable: true);

            migrationBuilder.AddColumn<Guid>(
                name: "SourceRunId",
                table: "MiningRuns",
                type: "uuid",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ModelVersionId",
                table: "MiningRuns");

            migrationBuilder.DropColumn(
                name: "SourceRunId",
                table: "MiningRuns");
        }
    }
}
