using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class DatasetWriterLease : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.RenameColumn(
                name: "WritingJobId",
                table: "DatasetVersions",
                newName: "WriterId");

            migrationBuilder.RenameIndex(
                name: "IX_DatasetVersions_WritingJobId",
                table: "DatasetVersions",
                newName: "IX_DatasetVersions_WriterId");

            migrationBuilder.AddColumn<long>(
                name: "WriteExpiresAt",
                table: "DatasetVersions",
                type: "INTEGER",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "WriteExpiresAt",
                table: "DatasetVersions");

            migrationBuilder.RenameColumn(
                name: "WriterId",
                table: "DatasetVersions",
                newName: "WritingJobId");

            migrationBuilder.RenameIndex(
                name: "IX_DatasetVersions_WriterId",
                table: "DatasetVersions",
                newName: "IX_DatasetVersions_WritingJobId");
        }
    }
}
