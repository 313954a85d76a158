using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Incubator.Domain.Data;

/// <summary>Used by `dotnet ef` only (see docs/decisions/0027-two-providers.md for the two commands).</summary>
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteIncubatorDbContext>
{
    public SqliteIncubatorDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<IncubatorDbContext>();
        DataRegistration.UseProvider(builder, DatabaseProvider.Sqlite, "Data Source=design-time.db");
        return new SqliteIncubatorDbContext(builder.Options);
    }
}

/// <summary>Used by `dotnet ef` only; no server is contacted to add a migration.</summary>
internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresIncubatorDbContext>
{
    public PostgresIncubatorDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<IncubatorDbContext>();
        DataRegistration.UseProvider(builder, DatabaseProvider.Postgres, "Host=localhost;Database=incubator_design");
        return new PostgresIncubatorDbContext(builder.Options);
    }
}
