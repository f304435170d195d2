/* Seasonal plan: stacked month-end yard stock (Chart.js) and a map of each month's deliveries (no inline script). */
(function () {
  "use strict";
  var cache = {};
  function load(url) {
    if (!cache[url]) { cache[url] = fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }); }
    return cache[url];
  }
  var colours = ["#1565c0", "#2e7d32", "#ef6c00", "#6a1b9a", "#c62828", "#00838f", "#827717", "#4e342e"];
  document.querySelectorAll("canvas.gufei-yard-chart").forEach(function (canvas) {
    load(canvas.dataset.url).then(function (data) {
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.periods,
          datasets: data.yards.map(function (y, k) {
            return { label: y.name, data: y.levels_t, backgroundColor: colours[k % colours.length], stack: "yards" };
          })
        },
        options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: data.labels.level } } } }
      });
    });
  });
  /* Each month's deliveries: the view is set (without animation) before the lines join the map, and the
     container gets data-map-ready once the first month and the base layers are drawn (GufeiMap.show).
     Width is tonnes, colour is direct or through a yard (both in the legend); a month without deliveries
     says so. Translated text comes from the element's data-* attributes. */
  var DIRECT = "#1565c0", VIA_YARD = "#ef6c00";
  document.querySelectorAll(".gufei-season-map").forEach(function (el) {
    var map = window.GufeiMap.create(el);
    var layer = null, legend = null, empty = null;
    var select = document.getElementById(el.dataset.monthSelect);
    function draw(data) {
      [layer, legend, empty].forEach(function (old) { if (old) { old.remove(); } });
      layer = L.featureGroup();
      legend = empty = null;
      var lines = data.flows[select.value] || [];
      var names = data.category_names || {};
      var max = 1;
      lines.forEach(function (f) { max = Math.max(max, f.tonnes); });
      var width = function (t) { return 1 + 7 * t / max; };
      lines.forEach(function (f) {
        var line = L.polyline([[f.from[1], f.from[0]], [f.to[1], f.to[0]]], {
          color: f.via_yard ? VIA_YARD : DIRECT, weight: width(f.tonnes), opacity: 0.7
        });
        line.bindPopup(window.GufeiMap.popup({ title: names[f.category] || f.category, lines: [f.tonnes.toFixed(1) + " t"] }));
        layer.addLayer(line);
      });
      if (lines.length) {
        legend = window.GufeiMap.flowLegend(map, {
          title: el.dataset.legendTitle || "",
          samples: [max / 10, max / 2, max].map(function (t) { return { width: width(t), text: Math.round(t).toLocaleString() + " t" }; }),
          modes: [{ color: DIRECT, text: el.dataset.labelDirect || "direct" },
                  { color: VIA_YARD, text: el.dataset.labelYard || "via a yard" }]
        });
      } else {
        empty = window.GufeiMap.emptyMessage(map, el.dataset.empty || "");
      }
      var view = lines.length ? function () {
        map.fitBounds(layer.getBounds().pad(0.3), { maxZoom: 9, animate: false });
      } : null;
      return window.GufeiMap.show(map, layer, view);
    }
    load(el.dataset.url).then(function (data) {
      draw(data);
      select.addEventListener("change", function () { draw(data); });
    });
  });
})();
