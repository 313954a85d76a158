// Small helpers the portal calls through JS interop. Served at /shared/incubator.js.
window.incubator = {
  // Submits a server-rendered form (antiforgery token included) from an interactive component.
  submitForm: function (id) {
    var form = document.getElementById(id);
    if (form) { form.submit(); }
  }
};
