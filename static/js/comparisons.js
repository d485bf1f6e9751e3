/* A comparison run's progress bar (templates/comparisons/run_progress.html).
 *
 * Each element with data-run-progress="<url>" is a run under way: every two seconds this asks
 * the url (comparisons.views.run_progress: {status_label, done, total, percent, finished})
 * and moves the bar, its text and the row's status (data-run-status). When a run finishes the
 * page is loaded again, so that it shows the result. Without this file the page refreshes
 * itself every few seconds instead (a <noscript> refresh in its head).
 */
(function () {
  "use strict";

  var INTERVAL = 2000;
  var boxes = Array.prototype.slice.call(document.querySelectorAll("[data-run-progress]"));
  if (!boxes.length || !window.fetch) {
    return;
  }

  function show(box, progress) {
    var bar = box.querySelector("progress");
    var text = box.querySelector("[data-run-text]");
    var row = box.closest("[data-run]") || document;
    var status = row.querySelector("[data-run-status]");
    if (bar) {
      bar.value = progress.percent;
      bar.textContent = progress.percent + "%";
    }
    if (text) {
      text.textContent = progress.total
        ? "已完成 " + progress.done + " / " + progress.total + " 步" +
          (progress.cancel_requested ? "，正在取消" : "")
        : "排队中，稍后开始";
    }
    if (status) {
      status.textContent = progress.status_label;
    }
  }

  function poll(box) {
    fetch(box.getAttribute("data-run-progress"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error(response.status);
        }
        return response.json();
      })
      .then(function (progress) {
        show(box, progress);
        if (progress.finished) {
          window.location.reload();
        } else {
          window.setTimeout(function () { poll(box); }, INTERVAL);
        }
      })
      .catch(function () {
        // A lost connection: try again a little later.
        window.setTimeout(function () { poll(box); }, INTERVAL * 3);
      });
  }

  boxes.forEach(function (box) {
    window.setTimeout(function () { poll(box); }, INTERVAL);
  });
})();
