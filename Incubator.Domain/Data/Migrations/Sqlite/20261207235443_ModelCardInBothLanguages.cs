using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class ModelCardInBothLanguages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "ModelCardLanguage",
                table: "ModelVersions",
                type: "TEXT",
                maxLength: 8,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "OtherModelCard",
                table: "ModelVersions",
                type: "TEXT",
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "ModelCardLanguage",
                table: "ModelVersions");

            migrationBuilder.DropColumn(
                name: "OtherModelCard",
                table: "ModelVersions");
        }
    }
}
