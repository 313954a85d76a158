using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class LocalisedMessages : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "DetailNote",
                table: "RejectedSamples",
                type: "TEXT",
                maxLength: 2000,
                nullable: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "DetailNote",
                table: "RejectedSamples");
        }
    }
}
