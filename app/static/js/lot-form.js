/* Lot form: show only the quality inputs of the chosen category. */
(function () {
  "use strict";
  var form = document.getElementById("lot-form");
  if (!form) { return; }
  var keys = JSON.parse(form.dataset.qualityKeys || "{}");
  var select = form.querySelector("select[name=category]");
  function update() {
    var wanted = keys[select.value] || [];
    form.querySelectorAll(".quality-field").forEach(function (el) {
      el.hidden = wanted.indexOf(el.dataset.key) < 0;
    });
  }
  if (select) { select.addEventListener("change", update); update(); }
})();
