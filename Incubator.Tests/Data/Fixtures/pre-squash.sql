-- The schema and migration history of a database made by Incubator before its SQLite migrations were squashed
-- (sqlite3 .dump after 'Incubator migrate' at commit 2299415), with one project row.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE IF NOT EXISTS "__EFMigrationsLock" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK___EFMigrationsLock" PRIMARY KEY,
    "Timestamp" TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
);
INSERT INTO __EFMigrationsHistory VALUES('20261128181741_Initial','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128184937_Tasks','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128191539_JobPause','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128191839_LlmConnections','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128193455_Generation','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128193933_TeamDemonstrations','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128200620_Review','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128203207_SpotChecks','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128210412_CorporaMining','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128221409_TrainingRegistry','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128221459_ReviewAssignment','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261128222353_QueryRuns','10.0.15');
INSERT INTO __EFMigrationsHistory VALUES('20261201090000_CloseModelVersionsOfEndedJobs','10.0.15');
CREATE TABLE IF NOT EXISTS "AspNetRoles" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetRoles" PRIMARY KEY,
    "Name" TEXT NULL,
    "NormalizedName" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL
);
CREATE TABLE IF NOT EXISTS "AspNetUsers" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_AspNetUsers" PRIMARY KEY,
    "DisplayName" TEXT NOT NULL,
    "PreferredCulture" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "UserName" TEXT NULL,
    "NormalizedUserName" TEXT NULL,
    "Email" TEXT NULL,
    "NormalizedEmail" TEXT NULL,
    "EmailConfirmed" INTEGER NOT NULL,
    "PasswordHash" TEXT NULL,
    "SecurityStamp" TEXT NULL,
    "ConcurrencyStamp" TEXT NULL,
    "PhoneNumber" TEXT NULL,
    "PhoneNumberConfirmed" INTEGER NOT NULL,
    "TwoFactorEnabled" INTEGER NOT NULL,
    "LockoutEnd" INTEGER NULL,
    "LockoutEnabled" INTEGER NOT NULL,
    "AccessFailedCount" INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS "Projects" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Projects" PRIMARY KEY,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "IsArchived" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NOT NULL
, "UseTeamDemonstrations" INTEGER NOT NULL DEFAULT 1);
INSERT INTO Projects VALUES('0B7F1E1C-55AA-4C3B-9A52-3D1D0D1A0001','made before the squash','',0,1764979200000,'',1);
CREATE TABLE IF NOT EXISTS "AspNetRoleClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetRoleClaims" PRIMARY KEY AUTOINCREMENT,
    "RoleId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetRoleClaims_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "AspNetUserClaims" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_AspNetUserClaims" PRIMARY KEY AUTOINCREMENT,
    "UserId" TEXT NOT NULL,
    "ClaimType" TEXT NULL,
    "ClaimValue" TEXT NULL,
    CONSTRAINT "FK_AspNetUserClaims_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "AspNetUserLogins" (
    "LoginProvider" TEXT NOT NULL,
    "ProviderKey" TEXT NOT NULL,
    "ProviderDisplayName" TEXT NULL,
    "UserId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserLogins" PRIMARY KEY ("LoginProvider", "ProviderKey"),
    CONSTRAINT "FK_AspNetUserLogins_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "AspNetUserRoles" (
    "UserId" TEXT NOT NULL,
    "RoleId" TEXT NOT NULL,
    CONSTRAINT "PK_AspNetUserRoles" PRIMARY KEY ("UserId", "RoleId"),
    CONSTRAINT "FK_AspNetUserRoles_AspNetRoles_RoleId" FOREIGN KEY ("RoleId") REFERENCES "AspNetRoles" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_AspNetUserRoles_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "AspNetUserTokens" (
    "UserId" TEXT NOT NULL,
    "LoginProvider" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Value" TEXT NULL,
    CONSTRAINT "PK_AspNetUserTokens" PRIMARY KEY ("UserId", "LoginProvider", "Name"),
    CONSTRAINT "FK_AspNetUserTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "Activity" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_Activity" PRIMARY KEY AUTOINCREMENT,
    "ProjectId" TEXT NOT NULL,
    "UserId" TEXT NULL,
    "At" INTEGER NOT NULL,
    "Kind" TEXT NOT NULL,
    "Detail" TEXT NOT NULL,
    CONSTRAINT "FK_Activity_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "Jobs" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Jobs" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "Title" TEXT NOT NULL,
    "State" TEXT NOT NULL,
    "Progress" REAL NOT NULL,
    "ProgressMessage" TEXT NULL,
    "Payload" TEXT NOT NULL,
    "Checkpoint" TEXT NULL,
    "LeaseOwner" TEXT NULL,
    "LeaseExpiresAt" INTEGER NULL,
    "Attempts" INTEGER NOT NULL,
    "MaxAttempts" INTEGER NOT NULL,
    "Error" TEXT NULL,
    "CancelRequested" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "StartedAt" INTEGER NULL,
    "FinishedAt" INTEGER NULL,
    "Version" INTEGER NOT NULL, "PauseRequested" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "FK_Jobs_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ProjectMembers" (
    "ProjectId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "Role" TEXT NOT NULL,
    "AddedAt" INTEGER NOT NULL,
    CONSTRAINT "PK_ProjectMembers" PRIMARY KEY ("ProjectId", "UserId"),
    CONSTRAINT "FK_ProjectMembers_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ProjectMembers_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "JobLog" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_JobLog" PRIMARY KEY AUTOINCREMENT,
    "JobId" TEXT NOT NULL,
    "At" INTEGER NOT NULL,
    "Level" TEXT NOT NULL,
    "Message" TEXT NOT NULL,
    CONSTRAINT "FK_JobLog_Jobs_JobId" FOREIGN KEY ("JobId") REFERENCES "Jobs" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "Tasks" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Tasks" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "CurrentVersion" INTEGER NOT NULL,
    "IsArchived" INTEGER NOT NULL,
    "SourceTemplate" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "UpdatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_Tasks_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "TaskTemplates" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_TaskTemplates" PRIMARY KEY,
    "ProjectId" TEXT NULL,
    "Name" TEXT NOT NULL,
    "Description" TEXT NOT NULL,
    "Language" TEXT NOT NULL,
    "SpecJson" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_TaskTemplates_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "TaskVersions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_TaskVersions" PRIMARY KEY,
    "TaskId" TEXT NOT NULL,
    "Number" INTEGER NOT NULL,
    "SpecJson" TEXT NOT NULL,
    "ContentHash" TEXT NOT NULL,
    "Comment" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_TaskVersions_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "LlmConnections" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_LlmConnections" PRIMARY KEY,
    "ProjectId" TEXT NULL,
    "Name" TEXT NOT NULL,
    "Provider" TEXT NOT NULL,
    "Endpoint" TEXT NOT NULL,
    "Model" TEXT NOT NULL,
    "ApiKeyProtected" TEXT NULL,
    "Temperature" REAL NOT NULL,
    "MaxOutputTokens" INTEGER NOT NULL,
    "MaxConcurrency" INTEGER NOT NULL,
    "RequestsPerMinute" INTEGER NULL,
    "InputPricePerMillion" TEXT NOT NULL,
    "OutputPricePerMillion" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_LlmConnections_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "GenerationRuns" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_GenerationRuns" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "TaskVersionId" TEXT NOT NULL,
    "TaskVersionNumber" INTEGER NOT NULL,
    "ConnectionId" TEXT NOT NULL,
    "ConnectionName" TEXT NOT NULL,
    "Model" TEXT NOT NULL,
    "PerLabelTarget" INTEGER NOT NULL,
    "Oversample" REAL NOT NULL,
    "Concurrency" INTEGER NOT NULL,
    "BudgetTokens" INTEGER NULL,
    "BudgetMoney" TEXT NULL,
    "Seed" INTEGER NOT NULL,
    "Round" INTEGER NOT NULL,
    "InputTokens" INTEGER NOT NULL,
    "OutputTokens" INTEGER NOT NULL,
    "TokensEstimated" INTEGER NOT NULL,
    "Cost" TEXT NOT NULL,
    "Calls" INTEGER NOT NULL,
    "FailedCalls" INTEGER NOT NULL,
    "StopReason" TEXT NULL,
    "DiversityJson" TEXT NULL,
    "JobId" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_GenerationRuns_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_GenerationRuns_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "RejectedSamples" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_RejectedSamples" PRIMARY KEY AUTOINCREMENT,
    "RunId" TEXT NOT NULL,
    "ProjectId" TEXT NOT NULL,
    "Label" TEXT NULL,
    "Text" TEXT NOT NULL,
    "Reason" TEXT NOT NULL,
    "Detail" TEXT NOT NULL,
    "Round" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    CONSTRAINT "FK_RejectedSamples_GenerationRuns_RunId" FOREIGN KEY ("RunId") REFERENCES "GenerationRuns" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ReviewEvents" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ReviewEvents" PRIMARY KEY AUTOINCREMENT,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "CandidateId" TEXT NOT NULL,
    "UserId" TEXT NULL,
    "Kind" TEXT NOT NULL,
    "StatusBefore" TEXT NOT NULL,
    "StatusAfter" TEXT NOT NULL,
    "LabelBefore" TEXT NOT NULL,
    "LabelAfter" TEXT NOT NULL,
    "TextBefore" TEXT NULL,
    "TextAfter" TEXT NULL,
    "Reason" TEXT NULL,
    "Comment" TEXT NULL,
    "ReasonBefore" TEXT NULL,
    "ReviewReasonBefore" TEXT NULL,
    "Lost" INTEGER NOT NULL,
    "At" INTEGER NOT NULL,
    CONSTRAINT "FK_ReviewEvents_Candidates_CandidateId" FOREIGN KEY ("CandidateId") REFERENCES "Candidates" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ReviewEvents_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "SpotChecks" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_SpotChecks" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "RunId" TEXT NOT NULL,
    "SampleSize" INTEGER NOT NULL,
    "Seed" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    "AcceptedAt" INTEGER NULL,
    "AcceptedById" TEXT NULL,
    "Threshold" REAL NULL,
    "LowerBoundAtAccept" REAL NULL,
    "AcceptedCount" INTEGER NOT NULL,
    CONSTRAINT "FK_SpotChecks_GenerationRuns_RunId" FOREIGN KEY ("RunId") REFERENCES "GenerationRuns" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "SpotCheckItems" (
    "SpotCheckId" TEXT NOT NULL,
    "CandidateId" TEXT NOT NULL,
    CONSTRAINT "PK_SpotCheckItems" PRIMARY KEY ("SpotCheckId", "CandidateId"),
    CONSTRAINT "FK_SpotCheckItems_Candidates_CandidateId" FOREIGN KEY ("CandidateId") REFERENCES "Candidates" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_SpotCheckItems_SpotChecks_SpotCheckId" FOREIGN KEY ("SpotCheckId") REFERENCES "SpotChecks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "Corpora" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Corpora" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "FileName" TEXT NOT NULL,
    "Format" TEXT NOT NULL,
    "Encoding" TEXT NOT NULL,
    "Language" TEXT NOT NULL,
    "TextCount" INTEGER NOT NULL,
    "RowsRead" INTEGER NOT NULL,
    "DuplicatesCollapsed" INTEGER NOT NULL,
    "BadRows" INTEGER NOT NULL,
    "Bytes" INTEGER NOT NULL,
    "ReportJson" TEXT NOT NULL,
    "Embedder" TEXT NOT NULL,
    "EmbeddedCount" INTEGER NOT NULL,
    "EmbeddingJobId" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_Corpora_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "CorpusEmbeddingBatches" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_CorpusEmbeddingBatches" PRIMARY KEY AUTOINCREMENT,
    "CorpusId" TEXT NOT NULL,
    "Embedder" TEXT NOT NULL,
    "StartOrdinal" INTEGER NOT NULL,
    "Count" INTEGER NOT NULL,
    "Dimensions" INTEGER NOT NULL,
    "Data" BLOB NOT NULL,
    CONSTRAINT "FK_CorpusEmbeddingBatches_Corpora_CorpusId" FOREIGN KEY ("CorpusId") REFERENCES "Corpora" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "CorpusTexts" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_CorpusTexts" PRIMARY KEY AUTOINCREMENT,
    "CorpusId" TEXT NOT NULL,
    "Ordinal" INTEGER NOT NULL,
    "Text" TEXT NOT NULL,
    "Count" INTEGER NOT NULL,
    "Line" INTEGER NOT NULL,
    CONSTRAINT "FK_CorpusTexts_Corpora_CorpusId" FOREIGN KEY ("CorpusId") REFERENCES "Corpora" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "MiningRuns" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_MiningRuns" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "TaskVersionNumber" INTEGER NOT NULL,
    "CorpusId" TEXT NULL,
    "CorpusName" TEXT NOT NULL,
    "Embedder" TEXT NOT NULL,
    "PerLabel" INTEGER NOT NULL,
    "Margin" REAL NOT NULL,
    "ApprovedUsed" INTEGER NOT NULL,
    "CandidatesCreated" INTEGER NOT NULL,
    "SummaryJson" TEXT NULL,
    "JobId" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_MiningRuns_Corpora_CorpusId" FOREIGN KEY ("CorpusId") REFERENCES "Corpora" ("Id") ON DELETE SET NULL,
    CONSTRAINT "FK_MiningRuns_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_MiningRuns_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "Candidates" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Candidates" PRIMARY KEY,
    "AcceptedBySpotCheckId" TEXT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "EditedText" TEXT NULL,
    "IsAmbiguous" INTEGER NOT NULL,
    "Label" TEXT NOT NULL,
    "MiningRunId" TEXT NULL,
    "MiningScore" REAL NULL,
    "NormalizedText" TEXT NOT NULL,
    "OriginalLabel" TEXT NULL,
    "ProjectId" TEXT NOT NULL,
    "RejectionReason" TEXT NULL,
    "ReviewReason" TEXT NULL,
    "ReviewedAt" INTEGER NULL,
    "ReviewedById" TEXT NULL,
    "Round" INTEGER NOT NULL,
    "RunId" TEXT NULL,
    "Source" TEXT NOT NULL,
    "Stage" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "TaskVersionNumber" INTEGER NOT NULL,
    "Text" TEXT NOT NULL,
    "Uncertainty" REAL NULL,
    "Version" INTEGER NOT NULL, "InConflict" INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT "FK_Candidates_GenerationRuns_RunId" FOREIGN KEY ("RunId") REFERENCES "GenerationRuns" ("Id") ON DELETE SET NULL,
    CONSTRAINT "FK_Candidates_MiningRuns_MiningRunId" FOREIGN KEY ("MiningRunId") REFERENCES "MiningRuns" ("Id") ON DELETE SET NULL,
    CONSTRAINT "FK_Candidates_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_Candidates_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ApiTokens" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ApiTokens" PRIMARY KEY,
    "UserId" TEXT NOT NULL,
    "Name" TEXT NOT NULL,
    "Prefix" TEXT NOT NULL,
    "Hash" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "LastUsedAt" INTEGER NULL,
    "RevokedAt" INTEGER NULL,
    CONSTRAINT "FK_ApiTokens_AspNetUsers_UserId" FOREIGN KEY ("UserId") REFERENCES "AspNetUsers" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "DatasetVersions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_DatasetVersions" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "Number" INTEGER NOT NULL,
    "TaskVersionNumber" INTEGER NOT NULL,
    "ContentHash" TEXT NOT NULL,
    "Count" INTEGER NOT NULL,
    "CountsJson" TEXT NOT NULL,
    "LineageJson" TEXT NOT NULL,
    "Seed" INTEGER NOT NULL,
    "ValidationShare" REAL NOT NULL,
    "TrainCount" INTEGER NOT NULL,
    "ValidationCount" INTEGER NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_DatasetVersions_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_DatasetVersions_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "GoldSets" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_GoldSets" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "FileName" TEXT NOT NULL,
    "Count" INTEGER NOT NULL,
    "ContentHash" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_GoldSets_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_GoldSets_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "DatasetItems" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_DatasetItems" PRIMARY KEY AUTOINCREMENT,
    "DatasetVersionId" TEXT NOT NULL,
    "Ordinal" INTEGER NOT NULL,
    "Label" TEXT NOT NULL,
    "Text" TEXT NOT NULL,
    "Split" TEXT NOT NULL,
    "CandidateId" TEXT NULL,
    CONSTRAINT "FK_DatasetItems_DatasetVersions_DatasetVersionId" FOREIGN KEY ("DatasetVersionId") REFERENCES "DatasetVersions" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ModelVersions" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_ModelVersions" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "Number" INTEGER NOT NULL,
    "DatasetVersionId" TEXT NOT NULL,
    "GoldSetId" TEXT NULL,
    "RequestedFamily" TEXT NOT NULL,
    "Family" TEXT NULL,
    "Seed" INTEGER NOT NULL,
    "State" TEXT NOT NULL,
    "JobId" TEXT NULL,
    "Accuracy" REAL NULL,
    "MacroF1" REAL NULL,
    "GoldAccuracy" REAL NULL,
    "GoldMacroF1" REAL NULL,
    "ValidationJson" TEXT NULL,
    "GoldJson" TEXT NULL,
    "ComparedJson" TEXT NULL,
    "ModelCard" TEXT NULL,
    "BundleSha256" TEXT NULL,
    "BundleBytes" INTEGER NULL,
    "Error" TEXT NULL,
    "TrainingSeconds" REAL NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    "PublishedAt" INTEGER NULL,
    "PublishedById" TEXT NULL,
    "RetiredAt" INTEGER NULL,
    "RetiredById" TEXT NULL,
    CONSTRAINT "FK_ModelVersions_DatasetVersions_DatasetVersionId" FOREIGN KEY ("DatasetVersionId") REFERENCES "DatasetVersions" ("Id") ON DELETE RESTRICT,
    CONSTRAINT "FK_ModelVersions_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ModelVersions_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "GoldItems" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_GoldItems" PRIMARY KEY AUTOINCREMENT,
    "GoldSetId" TEXT NOT NULL,
    "Line" INTEGER NOT NULL,
    "Label" TEXT NOT NULL,
    "Text" TEXT NOT NULL,
    CONSTRAINT "FK_GoldItems_GoldSets_GoldSetId" FOREIGN KEY ("GoldSetId") REFERENCES "GoldSets" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ReviewLeases" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ReviewLeases" PRIMARY KEY AUTOINCREMENT,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "CandidateId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "AcquiredAt" INTEGER NOT NULL,
    "ExpiresAt" INTEGER NOT NULL,
    CONSTRAINT "FK_ReviewLeases_Candidates_CandidateId" FOREIGN KEY ("CandidateId") REFERENCES "Candidates" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ReviewPolicies" (
    "TaskId" TEXT NOT NULL CONSTRAINT "PK_ReviewPolicies" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "OverlapK" INTEGER NOT NULL,
    "SpotCheckThreshold" REAL NOT NULL,
    "UpdatedAt" INTEGER NOT NULL,
    "UpdatedById" TEXT NULL,
    CONSTRAINT "FK_ReviewPolicies_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_ReviewPolicies_Tasks_TaskId" FOREIGN KEY ("TaskId") REFERENCES "Tasks" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "ReviewVotes" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_ReviewVotes" PRIMARY KEY AUTOINCREMENT,
    "ProjectId" TEXT NOT NULL,
    "TaskId" TEXT NOT NULL,
    "CandidateId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "Status" TEXT NOT NULL,
    "Label" TEXT NOT NULL,
    "Reason" TEXT NULL,
    "Comment" TEXT NULL,
    "At" INTEGER NOT NULL,
    CONSTRAINT "FK_ReviewVotes_Candidates_CandidateId" FOREIGN KEY ("CandidateId") REFERENCES "Candidates" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "QueryRuns" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_QueryRuns" PRIMARY KEY,
    "ProjectId" TEXT NOT NULL,
    "Kind" TEXT NOT NULL,
    "CorpusId" TEXT NOT NULL,
    "CorpusName" TEXT NOT NULL,
    "Expression" TEXT NOT NULL,
    "ModelsJson" TEXT NOT NULL,
    "ColumnsJson" TEXT NOT NULL,
    "JobId" TEXT NULL,
    "Total" INTEGER NOT NULL,
    "Processed" INTEGER NOT NULL,
    "Matched" INTEGER NOT NULL,
    "FunnelJson" TEXT NOT NULL,
    "CreatedAt" INTEGER NOT NULL,
    "CreatedById" TEXT NULL,
    CONSTRAINT "FK_QueryRuns_Projects_ProjectId" FOREIGN KEY ("ProjectId") REFERENCES "Projects" ("Id") ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS "QueryHits" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_QueryHits" PRIMARY KEY AUTOINCREMENT,
    "RunId" TEXT NOT NULL,
    "Ordinal" INTEGER NOT NULL,
    "Text" TEXT NOT NULL,
    "Label" TEXT NULL,
    "Probabilities" TEXT NOT NULL,
    CONSTRAINT "FK_QueryHits_QueryRuns_RunId" FOREIGN KEY ("RunId") REFERENCES "QueryRuns" ("Id") ON DELETE CASCADE
);
DELETE FROM sqlite_sequence;
CREATE INDEX "IX_Activity_ProjectId_Id" ON "Activity" ("ProjectId", "Id");
CREATE INDEX "IX_AspNetRoleClaims_RoleId" ON "AspNetRoleClaims" ("RoleId");
CREATE UNIQUE INDEX "RoleNameIndex" ON "AspNetRoles" ("NormalizedName");
CREATE INDEX "IX_AspNetUserClaims_UserId" ON "AspNetUserClaims" ("UserId");
CREATE INDEX "IX_AspNetUserLogins_UserId" ON "AspNetUserLogins" ("UserId");
CREATE INDEX "IX_AspNetUserRoles_RoleId" ON "AspNetUserRoles" ("RoleId");
CREATE INDEX "EmailIndex" ON "AspNetUsers" ("NormalizedEmail");
CREATE UNIQUE INDEX "UserNameIndex" ON "AspNetUsers" ("NormalizedUserName");
CREATE INDEX "IX_JobLog_JobId_Id" ON "JobLog" ("JobId", "Id");
CREATE INDEX "IX_Jobs_ProjectId_CreatedAt" ON "Jobs" ("ProjectId", "CreatedAt");
CREATE INDEX "IX_Jobs_State_LeaseExpiresAt" ON "Jobs" ("State", "LeaseExpiresAt");
CREATE INDEX "IX_ProjectMembers_UserId" ON "ProjectMembers" ("UserId");
CREATE INDEX "IX_Tasks_ProjectId_Name" ON "Tasks" ("ProjectId", "Name");
CREATE INDEX "IX_TaskTemplates_ProjectId" ON "TaskTemplates" ("ProjectId");
CREATE UNIQUE INDEX "IX_TaskVersions_TaskId_Number" ON "TaskVersions" ("TaskId", "Number");
CREATE INDEX "IX_LlmConnections_ProjectId" ON "LlmConnections" ("ProjectId");
CREATE INDEX "IX_GenerationRuns_ProjectId_CreatedAt" ON "GenerationRuns" ("ProjectId", "CreatedAt");
CREATE INDEX "IX_GenerationRuns_TaskId" ON "GenerationRuns" ("TaskId");
CREATE INDEX "IX_RejectedSamples_RunId_Id" ON "RejectedSamples" ("RunId", "Id");
CREATE INDEX "IX_ReviewEvents_CandidateId_Id" ON "ReviewEvents" ("CandidateId", "Id");
CREATE INDEX "IX_ReviewEvents_ProjectId_Id" ON "ReviewEvents" ("ProjectId", "Id");
CREATE INDEX "IX_SpotCheckItems_CandidateId" ON "SpotCheckItems" ("CandidateId");
CREATE INDEX "IX_SpotChecks_RunId" ON "SpotChecks" ("RunId");
CREATE INDEX "IX_Corpora_ProjectId_CreatedAt" ON "Corpora" ("ProjectId", "CreatedAt");
CREATE UNIQUE INDEX "IX_CorpusEmbeddingBatches_CorpusId_Embedder_StartOrdinal" ON "CorpusEmbeddingBatches" ("CorpusId", "Embedder", "StartOrdinal");
CREATE UNIQUE INDEX "IX_CorpusTexts_CorpusId_Ordinal" ON "CorpusTexts" ("CorpusId", "Ordinal");
CREATE INDEX "IX_MiningRuns_CorpusId" ON "MiningRuns" ("CorpusId");
CREATE INDEX "IX_MiningRuns_ProjectId" ON "MiningRuns" ("ProjectId");
CREATE INDEX "IX_MiningRuns_TaskId_CreatedAt" ON "MiningRuns" ("TaskId", "CreatedAt");
CREATE INDEX "IX_Candidates_MiningRunId_CreatedAt" ON "Candidates" ("MiningRunId", "CreatedAt");
CREATE INDEX "IX_Candidates_ProjectId" ON "Candidates" ("ProjectId");
CREATE INDEX "IX_Candidates_RunId_Stage" ON "Candidates" ("RunId", "Stage");
CREATE INDEX "IX_Candidates_TaskId_CreatedAt" ON "Candidates" ("TaskId", "CreatedAt");
CREATE INDEX "IX_Candidates_TaskId_Label_CreatedAt" ON "Candidates" ("TaskId", "Label", "CreatedAt");
CREATE INDEX "IX_Candidates_TaskId_NormalizedText" ON "Candidates" ("TaskId", "NormalizedText");
CREATE INDEX "IX_Candidates_TaskId_Status_CreatedAt" ON "Candidates" ("TaskId", "Status", "CreatedAt");
CREATE INDEX "IX_Candidates_TaskId_Uncertainty" ON "Candidates" ("TaskId", "Uncertainty");
CREATE UNIQUE INDEX "IX_ApiTokens_Hash" ON "ApiTokens" ("Hash");
CREATE INDEX "IX_ApiTokens_UserId" ON "ApiTokens" ("UserId");
CREATE UNIQUE INDEX "IX_DatasetItems_DatasetVersionId_Ordinal" ON "DatasetItems" ("DatasetVersionId", "Ordinal");
CREATE INDEX "IX_DatasetVersions_ProjectId" ON "DatasetVersions" ("ProjectId");
CREATE UNIQUE INDEX "IX_DatasetVersions_TaskId_Number" ON "DatasetVersions" ("TaskId", "Number");
CREATE INDEX "IX_GoldItems_GoldSetId" ON "GoldItems" ("GoldSetId");
CREATE INDEX "IX_GoldSets_ProjectId" ON "GoldSets" ("ProjectId");
CREATE INDEX "IX_GoldSets_TaskId" ON "GoldSets" ("TaskId");
CREATE INDEX "IX_ModelVersions_DatasetVersionId" ON "ModelVersions" ("DatasetVersionId");
CREATE INDEX "IX_ModelVersions_JobId" ON "ModelVersions" ("JobId");
CREATE INDEX "IX_ModelVersions_ProjectId_State" ON "ModelVersions" ("ProjectId", "State");
CREATE UNIQUE INDEX "IX_ModelVersions_TaskId_Number" ON "ModelVersions" ("TaskId", "Number");
CREATE INDEX "IX_ReviewEvents_TaskId_UserId" ON "ReviewEvents" ("TaskId", "UserId");
CREATE UNIQUE INDEX "IX_ReviewLeases_CandidateId_UserId" ON "ReviewLeases" ("CandidateId", "UserId");
CREATE INDEX "IX_ReviewLeases_TaskId_ExpiresAt" ON "ReviewLeases" ("TaskId", "ExpiresAt");
CREATE INDEX "IX_ReviewLeases_TaskId_UserId" ON "ReviewLeases" ("TaskId", "UserId");
CREATE INDEX "IX_ReviewPolicies_ProjectId" ON "ReviewPolicies" ("ProjectId");
CREATE UNIQUE INDEX "IX_ReviewVotes_CandidateId_UserId" ON "ReviewVotes" ("CandidateId", "UserId");
CREATE INDEX "IX_ReviewVotes_TaskId_CandidateId" ON "ReviewVotes" ("TaskId", "CandidateId");
CREATE INDEX "IX_QueryHits_RunId_Label_Ordinal" ON "QueryHits" ("RunId", "Label", "Ordinal");
CREATE UNIQUE INDEX "IX_QueryHits_RunId_Ordinal" ON "QueryHits" ("RunId", "Ordinal");
CREATE INDEX "IX_QueryRuns_ProjectId" ON "QueryRuns" ("ProjectId");
COMMIT;
