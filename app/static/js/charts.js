/* Base dashboards: rate-vs-target line chart, tonnes bar chart and the delivery flow map (no inline script). */
(function () {
  "use strict";
  var cache = {};
  function load(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
    }
    return cache[url];
  }
  function pct(values) {
    return values.map(function (v) { return v === null ? null : Math.round(v * 1000) / 10; });
  }
  document.querySelectorAll("canvas.gufei-rate-chart").forEach(function (canvas) {
    load(canvas.dataset.url).then(function (data) {
      new Chart(canvas, {
        type: "line",
        data: {
          labels: data.periods,
          datasets: [
            { label: data.labels.rate + " (%)", data: pct(data.total), borderColor: "#2e7d32", spanGaps: true },
            { label: data.labels.target + " (%)", data: pct(data.target), borderColor: "#c62828", borderDash: [6, 4], pointRadius: 0 }
          ]
        },
        options: { scales: { y: { min: 0, max: 100 } } }
      });
    });
  });
  document.querySelectorAll("canvas.gufei-tonnes-chart").forEach(function (canvas) {
    load(canvas.dataset.url).then(function (data) {
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: data.by_category.labels,
          datasets: [
            { label: data.labels.generated, data: data.by_category.generated_t, backgroundColor: "#90a4ae" },
            { label: data.labels.utilised, data: data.by_category.utilised_t, backgroundColor: "#2e7d32" }
          ]
        }
      });
    });
  });
  /* The same colours as the clearing's flow map (flow-map.js): blue by road, purple by rail. */
  var MODE_COLORS = { road: "#1565c0", rail: "#8e24aa" };
  document.querySelectorAll(".gufei-flow-map").forEach(function (el) {
    var map = window.GufeiMap.create(el);
    fetch(el.dataset.flows, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (geojson) {
        if (!geojson.features.length) {
          window.GufeiMap.emptyMessage(map, el.dataset.empty || "");
          return window.GufeiMap.show(map, null, null);
        }
        var max = 1;
        geojson.features.forEach(function (f) { max = Math.max(max, f.properties.tonnes); });
        var width = function (t) { return 1 + 7 * t / max; };
        window.GufeiMap.flowLegend(map, {
          title: el.dataset.legendTitle || "",
          samples: [max / 10, max / 2, max].map(function (t) { return { width: width(t), text: Math.round(t).toLocaleString() + " t" }; }),
          modes: [{ color: MODE_COLORS.road, text: el.dataset.labelRoad || "road" },
                  { color: MODE_COLORS.rail, text: el.dataset.labelRail || "rail" }]
        });
        var lines = L.geoJSON(geojson, {
          style: function (f) {
            return { color: MODE_COLORS[f.properties.mode] || MODE_COLORS.road, weight: width(f.properties.tonnes), opacity: 0.7 };
          },
          onEachFeature: function (f, layer) {
            var p = f.properties;
            var what = p.category_name || p.category;
            layer.bindPopup(window.GufeiMap.popup({ title: p.from + " → " + p.to, lines: [what + " · " + p.tonnes.toFixed(1) + " t"] }));
          }
        });
        /* view first, then the lines (as on the lot maps); data-map-ready once all is drawn */
        return window.GufeiMap.show(map, lines, function () {
          map.fitBounds(lines.getBounds().pad(0.2), { maxZoom: 9, animate: false });
        });
      })
      .catch(function () { window.GufeiMap.whenSettled(map); });
  });
})();
