// Polls a clearing run's JSON status and reloads the page when the run is done (no inline scripts: CSP).
(function () {
  "use strict";
  var box = document.getElementById("run-progress");
  if (!box || box.dataset.done === "true") { return; }
  var url = box.dataset.statusUrl;
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        var bar = document.getElementById("run-bar");
        if (bar) { bar.value = s.progress_pct; bar.textContent = s.progress_pct + " %"; }
        var msg = document.getElementById("run-message");
        if (msg) { msg.textContent = s.message || ""; }
        var badge = document.getElementById("run-status");
        if (badge && s.status_label) { badge.textContent = s.status_label; }
        if (s.done) { window.location.reload(); } else { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
