using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Incubator.Domain.Data.Migrations
{
    /// <inheritdoc />
    public partial class TeamDemonstrations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Existing projects get the same default as new ones (Project.UseTeamDemonstrations = true). Edited by
            // hand: the scaffolder writes the CLR default (false) for a new non-nullable column.
            migrationBuilder.AddColumn<bool>(
                name: "UseTeamDemonstrations",
                table: "Projects",
                type: "INTEGER",
                nullable: false,
                defaultValue: true);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "UseTeamDemonstrations",
                table: "Projects");
        }
    }
}
