using System.Text.Json.Nodes;

namespace Incubator.Domain.Llm;

/// <summary>For OpenAI-compatible servers only. The OpenAI SDK under Semantic Kernel sends the output cap as
/// "max_completion_tokens" (what OpenAI now wants); several compatible servers (older Ollama and llama.cpp builds)
/// read only the older "max_tokens" and would ignore the cap. Sending both keeps the cap everywhere; OpenAI itself
/// never sees this, because it rejects "max_tokens" for newer models.</summary>
internal sealed class CompatibleBodyHandler : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        if (request.Content is { } content && content.Headers.ContentType?.MediaType == "application/json")
        {
            var bytes = await content.ReadAsByteArrayAsync(ct).ConfigureAwait(false);
            if (JsonNode.Parse(bytes) is JsonObject body && body["max_completion_tokens"] is { } cap && body["max_tokens"] is null)
            {
                body["max_tokens"] = cap.DeepClone();
                var rewritten = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body.ToJsonString()));
                foreach (var header in content.Headers)
                    if (!header.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                        rewritten.Headers.TryAddWithoutValidation(header.Key, header.Value);
                request.Content = rewritten;
            }
            else
            {
                // The original content can be written only once and was just read: hand on a copy.
                var copy = new ByteArrayContent(bytes);
                foreach (var header in content.Headers) copy.Headers.TryAddWithoutValidation(header.Key, header.Value);
                request.Content = copy;
            }
        }
        return await base.SendAsync(request, ct).ConfigureAwait(false);
    }
}
