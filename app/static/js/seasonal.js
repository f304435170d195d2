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
     container gets data-map-ready once the first month and the base layers are drawn (GufeiMap.show). */
  document.querySelectorAll(".gufei-season-map").forEach(function (el) {
    var map = window.GufeiMap.create(el);
    var layer = null;
    var select = document.getElementById(el.dataset.monthSelect);
    function draw(data) {
      if (layer) { map.removeLayer(layer); }
      layer = L.featureGroup();
      var lines = data.flows[select.value] || [];
      var max = 1;
      lines.forEach(function (f) { max = Math.max(max, f.tonnes); });
      lines.forEach(function (f) {
        var line = L.polyline([[f.from[1], f.from[0]], [f.to[1], f.to[0]]], {
          color: f.via_yard ? "#ef6c00" : "#1565c0", weight: 1 + 7 * f.tonnes / max, opacity: 0.7
        });
        line.bindPopup(window.GufeiMap.popup({ title: f.category, lines: [f.tonnes.toFixed(1) + " t"] }));
        layer.addLayer(line);
      });
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
