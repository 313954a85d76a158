# syntax=docker/dockerfile:1
# Incubator portal: build with the .NET 10 SDK, run on the ASP.NET runtime as a non-root user.
#   docker build -t incubator .
#   docker run -p 8080:8080 -v incubator-data:/data incubator
# Data (SQLite database, keys, model artefacts) lives in the /data volume; for several replicas see deploy/compose.yaml.
#
# Security settings for a real deployment (see the README's operations section):
#   -e INCUBATOR_KEYRING_KEY="$(openssl rand -base64 32)"   encrypts the key ring in /data/keys (sign-in cookies and
#        stored LLM API keys); keep the value outside the volume — a copy of /data alone then decrypts nothing. Or mount
#        a certificate: -v /secrets:/secrets:ro -e INCUBATOR_KEYRING_CERTIFICATE=/secrets/keyring.pfx
#        -e INCUBATOR_KEYRING_CERTIFICATE_PASSWORD=... Without either the portal starts, and warns in its log and on the
#        administrators' site page. Rotation: the new key in INCUBATOR_KEYRING_KEY, the old one in KeyRing__PreviousKeys__0
#        for one start. A lost key: everyone signs in again and stored LLM API keys must be entered again.
#   -e Accounts__Registration=Invitation   Open | Invitation | Closed until an administrator chooses on the site page
#        (unset: open until the first administrator exists, then by invitation).
#   -e Security__TrustedProxies__0=10.0.0.0/8   the reverse proxy, so X-Forwarded-Proto marks cookies Secure;
#      -e Security__AllowedOrigins__0=https://incubator.example.com   the public origin if the proxy rewrites Host.
#   -e Review__ExportRetention=1.00:00:00   how long export files are kept (default 24 h; Review__ExportJobsPerDay=30,
#        Review__ExportJobsAtOnce=2, Review__ExportFolderMegabytes=2048).
#   Spending caps on the site's own LLM connections are set by an administrator on the site page (per user and per
#   project, tokens or money per UTC day).

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files only, so the package layer is cached across source changes.
COPY Directory.Build.props Directory.Packages.props ./
COPY Incubator.Domain/Incubator.Domain.csproj Incubator.Domain/
COPY Incubator.Web/Incubator.Web.csproj Incubator.Web/
# linux-x64 only: ONNX Runtime ships native libraries for every platform, which would triple the image.
RUN dotnet restore Incubator.Web/Incubator.Web.csproj -r linux-x64
COPY Incubator.Domain/ Incubator.Domain/
COPY Incubator.Web/ Incubator.Web/
COPY wwwroot-shared/ wwwroot-shared/
RUN dotnet publish Incubator.Web/Incubator.Web.csproj -c Release -r linux-x64 --self-contained false -o /app --no-restore /p:UseAppHost=false

FROM mcr.microsoft.com/dotnet/aspnet:10.0 AS runtime
WORKDIR /app
COPY --from=build /app ./
ENV ASPNETCORE_URLS=http://+:8080 \
    ASPNETCORE_ENVIRONMENT=Production \
    INCUBATOR_DATA=/data \
    DOTNET_gcServer=0
# The aspnet image ships the non-root user "app" (UID 1654); the data folder must be writable by it.
# /shared is the mount point of the volume several replicas share (models, exports, uploads; deploy/compose.yaml).
RUN mkdir -p /data /shared && chown -R app:app /data /shared
USER app
VOLUME ["/data"]
EXPOSE 8080
# Readiness: the database takes a write and /data has room (Health__MinFreeMegabytes, default 512). Liveness alone is
# /healthz/live. An unusable /data stops the container at once with exit code 3 and one line saying why.
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["dotnet", "/app/Incubator.Web.dll", "healthcheck", "--url", "http://localhost:8080/healthz"]
ENTRYPOINT ["dotnet", "/app/Incubator.Web.dll"]
