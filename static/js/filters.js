/* The 筛选 panel of the list pages (<details class="filter-panel">, static/css/app.css).
 *
 * The page is sent with the panel folded, as a phone shows it; on a wide screen this opens
 * it. Its summary says how many filters the list is filtered by: the fields the page was
 * sent with a value (defaultValue, defaultSelected, defaultChecked, so typing without
 * submitting changes nothing). A field marked data-filter-fixed (the attendance date, which
 * always has one) is not counted. Without this file the panel simply stays folded.
 */
(function () {
  "use strict";

  var wide = window.matchMedia("(min-width: 641px)");
  var panels = Array.prototype.slice.call(document.querySelectorAll("details.filter-panel"));

  function applied(field) {
    if (!field.name || field.disabled || field.hasAttribute("data-filter-fixed")) {
      return false;
    }
    var type = (field.type || "").toLowerCase();
    if (type === "hidden" || type === "submit" || type === "button" || type === "reset") {
      return false;
    }
    if (type === "checkbox" || type === "radio") {
      return field.defaultChecked;
    }
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (option) {
        return option.defaultSelected && option.value !== "";
      });
    }
    return typeof field.defaultValue === "string" && field.defaultValue.trim() !== "";
  }

  panels.forEach(function (panel) {
    var out = panel.querySelector("[data-filter-count]");
    var form = panel.querySelector("form");
    if (out && form) {
      var n = Array.prototype.filter.call(form.elements, applied).length;
      out.textContent = n ? "（已选 " + n + " 项）" : "";
    }
    if (wide.matches) {
      panel.open = true;
    }
  });

  // Turning a tablet or resizing a window across the breakpoint folds or opens them again.
  wide.addEventListener("change", function (event) {
    panels.forEach(function (panel) {
      panel.open = event.matches;
    });
  });
})();
