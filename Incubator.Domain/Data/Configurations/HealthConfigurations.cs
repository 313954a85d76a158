using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Incubator.Domain.Data.Configurations;

internal sealed class HealthProbeConfiguration : IEntityTypeConfiguration<HealthProbe>
{
    public void Configure(EntityTypeBuilder<HealthProbe> b) => b.Property(p => p.Id).ValueGeneratedNever();
}
