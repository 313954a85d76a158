# syntax=docker/dockerfile:1
# Incubator portal: build with the .NET 10 SDK, run on the ASP.NET runtime as a non-root user.
#   docker build -t incubator .
#   docker run -p 8080:8080 -v incubator-data:/data incubator
# Data (SQLite database, keys, model artefacts) lives in the /data volume; for several replicas see deploy/compose.yaml.

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
HEALTHCHECK --interval=30s --timeout=10s --start-period=20s --retries=3 \
    CMD ["dotnet", "/app/Incubator.Web.dll", "healthcheck", "--url", "http://localhost:8080/healthz"]
ENTRYPOINT ["dotnet", "/app/Incubator.Web.dll"]
