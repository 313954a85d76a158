using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Incubator.Domain.Data;

/// <summary>Used by `dotnet ef` only.</summary>
internal sealed class DesignTimeFactory : IDesignTimeDbContextFactory<IncubatorDbContext>
{
    public IncubatorDbContext CreateDbContext(string[] args)
    {
        var builder = new DbContextOptionsBuilder<IncubatorDbContext>();
        builder.UseSqlite("Data Source=design-time.db");
        return new IncubatorDbContext(builder.Options);
    }
}
