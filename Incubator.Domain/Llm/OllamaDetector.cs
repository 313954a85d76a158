using System.Text.Json;

namespace Incubator.Domain.Llm;

/// <summary>Finds a local Ollama and the models it has pulled, so the connection form can offer them. Quiet by design:
/// nothing listening means an empty list, not an error.</summary>
public sealed class OllamaDetector : IDisposable
{
    public static readonly Uri DefaultBaseUrl = new("http://localhost:11434");

    private readonly HttpClient _http;

    public OllamaDetector()
        : this(TimeSpan.FromSeconds(2))
    {
    }

    internal OllamaDetector(TimeSpan timeout)
    {
        _http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = timeout }) { Timeout = timeout };
    }

    /// <summary>Model names from GET {baseUrl}/api/tags; empty when nothing answers in time or the answer is not Ollama's.</summary>
    public async Task<IReadOnlyList<string>> DetectAsync(Uri? baseUrl = null, CancellationToken ct = default)
    {
        var root = baseUrl ?? DefaultBaseUrl;
        // An OpenAI-style address ("http://host:11434/v1") works too: tags live at the server root.
        var tags = new Uri(root, "/api/tags");
        try
        {
            using var response = await _http.GetAsync(tags, ct);
            if (!response.IsSuccessStatusCode) return [];
            await using var body = await response.Content.ReadAsStreamAsync(ct);
            using var doc = await JsonDocument.ParseAsync(body, cancellationToken: ct);
            if (!doc.RootElement.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Array) return [];
            return models.EnumerateArray()
                .Select(m => m.ValueKind == JsonValueKind.Object && m.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null)
                .Where(n => !string.IsNullOrWhiteSpace(n))
                .Select(n => n!)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.OrdinalIgnoreCase)
                .ToList();
        }
        catch (Exception ex) when (!ct.IsCancellationRequested && ex is HttpRequestException or OperationCanceledException or JsonException or IOException)
        {
            return [];
        }
    }

    public void Dispose() => _http.Dispose();
}
