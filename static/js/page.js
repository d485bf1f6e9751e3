/* Small page behaviours that would otherwise be inline handlers (the Content-Security-Policy
 * allows no inline script):
 * - a field marked data-submit-on-change submits its form when it changes;
 * - a link marked data-history-back goes back a page when there is one, else follows its href.
 * Without this file the forms still have their submit buttons and the links their targets.
 */
(function () {
  "use strict";

  document.addEventListener("change", function (event) {
    var field = event.target;
    if (field.form && field.hasAttribute("data-submit-on-change")) {
      field.form.submit();
    }
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-history-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
