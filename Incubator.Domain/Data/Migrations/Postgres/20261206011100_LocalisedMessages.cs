using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations.Postgres
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
                type: "character varying(2000)",
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
