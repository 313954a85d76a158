// Small helpers the portal calls through JS interop. Served at /shared/incubator.js.
window.incubator = {
  // Submits a server-rendered form (antiforgery token included) from an interactive component.
  submitForm: function (id) {
    var form = document.getElementById(id);
    if (form) { form.submit(); }
  },
  // Keyboard shortcuts for focus review: every key outside text fields goes to the component.
  listenKeys: function (dotnetRef) {
    window.incubator.stopKeys();
    var handler = function (e) {
      var t = e.target;
      if (e.ctrlKey || e.metaKey || e.altKey) { return; }
      if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) { return; }
      if (document.querySelector('.mud-dialog-container')) { return; }
      e.preventDefault();
      dotnetRef.invokeMethodAsync('OnKey', e.key);
    };
    window.incubator._keyHandler = handler;
    document.addEventListener('keydown', handler);
  },
  stopKeys: function () {
    if (window.incubator._keyHandler) {
      document.removeEventListener('keydown', window.incubator._keyHandler);
      window.incubator._keyHandler = null;
    }
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
  },
  // Corpus upload: the file goes to the server as one streamed HTTP request body (not through the SignalR circuit),
  // so a 100 MB file never passes through Blazor's message size limits or sits in the circuit's memory.
  fileInfo: function (inputId) {
    var input = document.getElementById(inputId);
    var f = input && input.files && input.files[0];
    return f ? { name: f.name, size: f.size } : null;
  },
  fileHead: async function (inputId, length) {
    var f = document.getElementById(inputId).files[0];
    return new Uint8Array(await f.slice(0, length).arrayBuffer());
  },
  uploadFile: async function (inputId, url) {
    var f = document.getElementById(inputId).files[0];
    var r = await fetch(url, { method: 'POST', body: f, credentials: 'same-origin', headers: { 'Content-Type': 'application/octet-stream' } });
    return { status: r.status, body: await r.text() };
  },
};
