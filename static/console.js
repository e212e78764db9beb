// Progressive enhancement only: every page works without this file.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy-target]").forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) return;
      navigator.clipboard.writeText(target.textContent.trim()).then(function () {
        button.textContent = "Copied";
      });
    });
  });
  // Picking a custom date selects the "custom" preset.
  var custom = document.getElementById("expires_at");
  var customRadio = document.querySelector('input[name="expiry"][value="custom"]');
  if (custom && customRadio) {
    custom.addEventListener("input", function () { customRadio.checked = true; });
  }
});
// Loading IdP metadata from a file fills the textarea (pasting works without JavaScript).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[type=file][data-fill-target]").forEach(function (input) {
    var target = document.getElementById(input.getAttribute("data-fill-target"));
    if (!target || !window.FileReader) return;
    input.hidden = false;
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () { target.value = reader.result; };
      reader.readAsText(file);
    });
  });
});
