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
// After a form post, focus goes where the answer is: the first element marked `data-focus`
// (a refused form's error summary, a secret shown once), so keyboard and screen reader users
// land on it instead of at the top of the page.
document.addEventListener("DOMContentLoaded", function () {
  var target = document.querySelector("[data-focus]");
  if (!target) return;
  if (!target.hasAttribute("tabindex") && !/^(A|BUTTON|INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) {
    target.setAttribute("tabindex", "-1");
  }
  target.focus();
});
// Escape closes an open confirmation (`<details class="confirm">`) and puts focus back on its
// summary, the control that opened it.
document.addEventListener("keydown", function (event) {
  if (event.key !== "Escape") return;
  var open = document.querySelectorAll("details.confirm[open]");
  if (!open.length) return;
  var active = document.activeElement;
  var closing = null;
  open.forEach(function (details) {
    if (!closing || details.contains(active)) closing = details;
  });
  closing.open = false;
  var summary = closing.querySelector("summary");
  if (summary) summary.focus();
});
