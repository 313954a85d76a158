using Incubator.Domain.Accounts;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Incubator.Domain.Data;

public sealed class IncubatorDbContext(DbContextOptions<IncubatorDbContext> options) : IdentityDbContext<AppUser>(options)
{
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<ProjectMember> ProjectMembers => Set<ProjectMember>();
    public DbSet<ActivityEntry> Activity => Set<ActivityEntry>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<JobLogEntry> JobLog => Set<JobLogEntry>();
    public DbSet<ClassifierTask> Tasks => Set<ClassifierTask>();
    public DbSet<TaskVersion> TaskVersions => Set<TaskVersion>();
    public DbSet<TaskTemplate> TaskTemplates => Set<TaskTemplate>();
    public DbSet<GenerationRun> GenerationRuns => Set<GenerationRun>();
    public DbSet<Candidate> Candidates => Set<Candidate>();
    public DbSet<RejectedSample> RejectedSamples => Set<RejectedSample>();
    public DbSet<Incubator.Domain.Review.SpotCheck> SpotChecks => Set<Incubator.Domain.Review.SpotCheck>();
    public DbSet<Incubator.Domain.Review.SpotCheckItem> SpotCheckItems => Set<Incubator.Domain.Review.SpotCheckItem>();
    public DbSet<LlmConnection> LlmConnections => Set<LlmConnection>();
    public DbSet<ReviewEvent> ReviewEvents => Set<ReviewEvent>();
    public DbSet<ReviewPolicy> ReviewPolicies => Set<ReviewPolicy>();
    public DbSet<ReviewLease> ReviewLeases => Set<ReviewLease>();
    public DbSet<ReviewVote> ReviewVotes => Set<ReviewVote>();
    public DbSet<Datasets.DatasetVersion> DatasetVersions => Set<Datasets.DatasetVersion>();
    public DbSet<Datasets.DatasetItem> DatasetItems => Set<Datasets.DatasetItem>();
    public DbSet<Datasets.GoldSet> GoldSets => Set<Datasets.GoldSet>();
    public DbSet<Datasets.GoldItem> GoldItems => Set<Datasets.GoldItem>();
    public DbSet<Training.ModelVersion> ModelVersions => Set<Training.ModelVersion>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<SiteSettings> SiteSettings => Set<SiteSettings>();
    public DbSet<SignInFailure> SignInFailures => Set<SignInFailure>();
    public DbSet<Invitation> Invitations => Set<Invitation>();
    public DbSet<LlmSpend> LlmSpend => Set<LlmSpend>();
    public DbSet<HealthProbe> HealthProbes => Set<HealthProbe>();
    public DbSet<Mining.Corpus> Corpora => Set<Mining.Corpus>();
    public DbSet<Mining.CorpusText> CorpusTexts => Set<Mining.CorpusText>();
    public DbSet<Mining.CorpusEmbeddingBatch> CorpusEmbeddingBatches => Set<Mining.CorpusEmbeddingBatch>();
    public DbSet<Mining.MiningRun> MiningRuns => Set<Mining.MiningRun>();
    public DbSet<Incubator.Domain.Mining.Query.QueryRun> QueryRuns => Set<Incubator.Domain.Mining.Query.QueryRun>();
    public DbSet<Incubator.Domain.Mining.Query.QueryHit> QueryHits => Set<Incubator.Domain.Mining.Query.QueryHit>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(IncubatorDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no native DateTimeOffset: EF stores it as text, which cannot be compared or ordered in SQL.
        // Every timestamp here is UTC, so the binary form (a 64-bit integer) orders correctly and keeps lease
        // expiry checks inside the database.
        if (Database.IsSqlite())
        {
            configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
            configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        }
    }
}
