/* Lot form: show only the quality inputs of the chosen category. */
(function () {
  "use strict";
  var form = document.getElementById("lot-form");
  if (!form) { return; }
  var keys = JSON.parse(form.dataset.qualityKeys || "{}");
  var hazardous = JSON.parse(form.dataset.hazardousCodes || "[]");
  var select = form.querySelector("select[name=category]");
  function update() {
    var wanted = keys[select.value] || [];
    form.querySelectorAll(".quality-field").forEach(function (el) {
      el.hidden = wanted.indexOf(el.dataset.key) < 0;
    });
    /* The transfer facts belong to hazardous categories only. */
    form.querySelectorAll(".hazardous-facts").forEach(function (el) {
      el.hidden = hazardous.indexOf(select.value) < 0;
    });
  }
  if (select) { select.addEventListener("change", update); update(); }
})();
