// Small helpers the portal calls through JS interop. Served at /shared/incubator.js.
window.incubator = {
  // The reader's time zone (IANA name): kept in a cookie so the server shows times in it from the first render of
  // every page after this one (BrowserTimeZone), and returned for the page that is already open.
  timeZone: function () {
    var zone = '';
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { zone = ''; }
    if (zone) {
      document.cookie = 'incubator-tz=' + encodeURIComponent(zone) + '; path=/; max-age=31536000; samesite=lax';
    }
    return zone;
  },
  // Submits a server-rendered form (antiforgery token included) from an interactive component.
  submitForm: function (id) {
    var form = document.getElementById(id);
    if (form) { form.submit(); }
  },
  // Keyboard shortcuts for focus review: every key outside text fields goes to the component, one at a time (the
  // next key is sent when the previous one has been handled, so two quick presses never act on the same sample).
  // Keys pressed on a focus page before its circuit listens (prerendered, still connecting) are kept and delivered
  // in order once it does.
  _pendingKeys: [],
  _ignoreKey: function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey) { return true; }
    if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable)) { return true; }
    return !!document.querySelector('.mud-dialog-container');
  },
  listenKeys: function (dotnetRef) {
    var early = window.incubator._pendingKeys.splice(0);
    window.incubator.stopKeys();
    var chain = Promise.resolve();
    var send = function (key) {
      chain = chain.then(function () { return dotnetRef.invokeMethodAsync('OnKey', key); }).catch(function () { });
    };
    var handler = function (e) {
      if (window.incubator._ignoreKey(e)) { return; }
      e.preventDefault();
      send(e.key);
    };
    window.incubator._keyHandler = handler;
    document.addEventListener('keydown', handler);
    early.forEach(send);
  },
  stopKeys: function () {
    window.incubator._pendingKeys = [];
    if (window.incubator._keyHandler) {
      document.removeEventListener('keydown', window.incubator._keyHandler);
      window.incubator._keyHandler = null;
    }
  },
  // Puts the cursor at the end of the text box inside the element with this id (an edit continues the text; focus()
  // alone leaves the cursor at the start). Tried for a moment: the dialog's box may not be in the page yet.
  focusEnd: function (id, tries) {
    var box = document.querySelector('#' + id + ' textarea, #' + id + ' input');
    if (!box) {
      if ((tries || 0) < 20) { setTimeout(function () { window.incubator.focusEnd(id, (tries || 0) + 1); }, 25); }
      return;
    }
    box.focus();
    var end = box.value.length;
    box.setSelectionRange(end, end);
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
  // Offers a file built on the server (a DotNetStreamReference) as a download: the bytes the page checked are the ones saved.
  downloadStream: async function (fileName, streamRef, mimeType) {
    var buffer = await streamRef.arrayBuffer();
    window.incubator.download(fileName, buffer, mimeType);
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
  // XMLHttpRequest rather than fetch: only it reports upload progress. progressRef (optional) hears
  // UploadProgress(loaded, total) at most every 200 ms and once when the whole body is sent; status 0 means the
  // network failed.
  uploadFile: function (inputId, url, progressRef) {
    var f = document.getElementById(inputId).files[0];
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var last = 0;
      xhr.open('POST', url);
      xhr.withCredentials = true;
      xhr.setRequestHeader('Content-Type', 'application/octet-stream');
      if (progressRef) {
        xhr.upload.onprogress = function (e) {
          var now = Date.now();
          if (e.lengthComputable && e.loaded < e.total && now - last >= 200) {
            last = now;
            progressRef.invokeMethodAsync('UploadProgress', e.loaded, e.total);
          }
        };
        // Progress events are sampled by the browser (a fast upload may have none); the body's end always comes.
        xhr.upload.onload = function () { progressRef.invokeMethodAsync('UploadProgress', f.size, f.size); };
      }
      xhr.onload = function () { resolve({ status: xhr.status, body: xhr.responseText }); };
      xhr.onerror = function () { resolve({ status: 0, body: '' }); };
      xhr.onabort = function () { resolve({ status: 0, body: '' }); };
      xhr.send(f);
    });
  },
};

document.addEventListener('keydown', function (e) {
  var inc = window.incubator;
  if (inc._keyHandler || !document.querySelector('[data-focus-keys]') || inc._ignoreKey(e)) { return; }
  e.preventDefault();
  inc._pendingKeys.push(e.key);
});

// A dialog that opens takes the focus (unless something inside it already has it): MudBlazor closes a dialog on Escape
// only when the key is pressed inside it, and a confirmation opened from a button would otherwise leave the focus on
// that button behind the overlay, so Escape did nothing. Only newly opened dialogs are focused, so a menu or picker
// opened from inside a dialog keeps its focus.
(function () {
  var seen = new WeakSet();
  new MutationObserver(function () {
    if (!document.querySelector('.mud-dialog-container')) { return; }
    var dialogs = document.querySelectorAll('.mud-dialog-container .mud-dialog');
    for (var i = 0; i < dialogs.length; i++) {
      var d = dialogs[i];
      if (seen.has(d)) { continue; }
      seen.add(d);
      if (i === dialogs.length - 1 && !d.contains(document.activeElement)) { d.focus(); }
    }
  }).observe(document.body, { childList: true, subtree: true });
})();
window.incubator.timeZone();
