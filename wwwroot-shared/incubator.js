// Small helpers the portal calls through JS interop. Served at /shared/incubator.js.
window.incubator = {
  // Submits a server-rendered form (antiforgery token included) from an interactive component.
  submitForm: function (id) {
    var form = document.getElementById(id);
    if (form) { form.submit(); }
  },
  // Offers text produced on the server (an export) as a file download, without a round trip.
  download: function (fileName, content, mimeType) {
    var blob = new Blob([content], { type: mimeType || 'application/octet-stream' });
    var url = URL.createObjectURL(blob);
    var a = document.createElement('a');
    a.href = url;
    a.download = fileName;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }
};
