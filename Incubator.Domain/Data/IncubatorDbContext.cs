using Incubator.Domain.Accounts;
using Incubator.Domain.Generation;
using Incubator.Domain.Jobs;
using Incubator.Domain.Llm;
using Incubator.Domain.Projects;
using Incubator.Domain.Review;
using Incubator.Domain.Tasks;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Incubator.Domain.Data;

/// <summary>The one provider-neutral model. Each provider has a subclass (<see cref="SqliteIncubatorDbContext"/>,
/// <see cref="PostgresIncubatorDbContext"/>) only so that each owns its migrations (Data/Migrations/Sqlite and
/// Data/Migrations/Postgres, generated from this same model); callers only ever see this type, through
/// <c>IDbContextFactory&lt;IncubatorDbContext&gt;</c> (docs/decisions/0027-two-providers.md).</summary>
public abstract class IncubatorDbContext(DbContextOptions options) : IdentityDbContext<AppUser>(options), IDataProtectionKeyContext
{
    /// <summary>The Data Protection key ring, shared by every instance on one database (docs/decisions/0030-shared-state.md).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<ReviewPresenceEntry> ReviewPresence => Set<ReviewPresenceEntry>();
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
    public DbSet<LlmConnectionTest> LlmConnectionTests => Set<LlmConnectionTest>();
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
    public DbSet<Labelling.LabellingRun> LabellingRuns => Set<Labelling.LabellingRun>();
    public DbSet<Incubator.Domain.Mining.Query.QueryRun> QueryRuns => Set<Incubator.Domain.Mining.Query.QueryRun>();
    public DbSet<Incubator.Domain.Mining.Query.QueryHit> QueryHits => Set<Incubator.Domain.Mining.Query.QueryHit>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(IncubatorDbContext).Assembly);
    }

    /// <summary>The provider this context talks to.</summary>
    public abstract DatabaseProvider Provider { get; }
}

/// <summary>SQLite: owns Data/Migrations/Sqlite.</summary>
public sealed class SqliteIncubatorDbContext(DbContextOptions options) : IncubatorDbContext(options)
{
    public override DatabaseProvider Provider => DatabaseProvider.Sqlite;

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite has no native DateTimeOffset: EF stores it as text, which cannot be compared or ordered in SQL.
        // Every timestamp here is UTC, so the binary form (a 64-bit integer) orders correctly and keeps lease
        // expiry checks inside the database.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }
}

/// <summary>PostgreSQL: owns Data/Migrations/Postgres.</summary>
public sealed class PostgresIncubatorDbContext(DbContextOptions options) : IncubatorDbContext(options)
{
    public override DatabaseProvider Provider => DatabaseProvider.Postgres;

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        // The review queue's search is a case-insensitive substring match (ILIKE '%term%'): trigram GIN indexes serve
        // it, where a B-tree cannot. SQLite has no equivalent; there the search scans the task's rows.
        builder.HasPostgresExtension("pg_trgm");
        builder.Entity<Candidate>().HasIndex(c => c.Text, "IX_Candidates_Text_trgm").HasMethod("gin").HasOperators("gin_trgm_ops");
        builder.Entity<Candidate>().HasIndex(c => c.EditedText, "IX_Candidates_EditedText_trgm").HasMethod("gin").HasOperators("gin_trgm_ops");
    }
}
