using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Postgres
{
    /// <inheritdoc />
    public partial class DatasetWriting : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<Guid>(
                name: "WritingJobId",
                table: "DatasetVersions",
                type: "uuid",
                nullable: true);

            migrationBuilder.CreateIndex(
                name: "IX_DatasetVersions_WritingJobId",
                table: "DatasetVersions",
                column: "WritingJobId");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "IX_DatasetVersions_WritingJobId",
                table: "DatasetVersions");

            migrationBuilder.DropColumn(
                name: "WritingJobId",
                table: "DatasetVersions");
        }
    }
}
