using Incubator.Domain.Datasets;
using Microsoft.JSInterop;

namespace Incubator.Web.Components.Pages.Shared;

/// <summary>Hands a file the page has just built to the browser as a download, streamed over the circuit: the page
/// checks an export by building it, and that same build is what the user gets (building it again through the API could
/// give a different answer if the data changed in between, and doubled the work).</summary>
public static class FileDownload
{
    /// <summary>The fine-tuning pairs zip, written to a temporary file (deleted once sent) so the server never holds a
    /// large export in memory whole.</summary>
    public static async Task PairsAsync(IJSRuntime js, FineTuningExport export)
    {
        await using var file = export.WriteTempZip();
        using var stream = new DotNetStreamReference(file, leaveOpen: true);
        await js.InvokeVoidAsync("incubator.downloadStream", export.FileName, stream, "application/zip");
    }
}
