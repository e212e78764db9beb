// The expiry field (templates/partials/expiry.html): with JavaScript, the date field shows only
// while "Custom date" is chosen, and is left out of the form otherwise. Without this file it
// stays visible and a filled date wins over the preset.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("fieldset[data-expiry]").forEach(function (set) {
    var box = set.querySelector("[data-custom-date]");
    var input = box && box.querySelector("input");
    var custom = set.querySelector('input[name="expiry"][value="custom"]');
    if (!box || !input || !custom) return;
    var label = box.querySelector("label");
    if (label) label.textContent = "Custom date";
    function sync() {
      box.hidden = !custom.checked;
      input.disabled = !custom.checked;
    }
    set.addEventListener("change", sync);
    sync();
  });
});
