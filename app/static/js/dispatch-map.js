// Dispatch plan map: prefecture boundaries, then one coloured line per truck-day through its stops.
(function () {
  "use strict";
  var button = document.getElementById("print-sheets");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  var el = document.getElementById("dispatch-map");
  if (!el || typeof L === "undefined") { return; }
  var colours = ["#198754", "#0d6efd", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#d63384", "#6c757d"];
  var map = L.map(el).setView([47.5, 128.0], 6);
  function getJSON(url) { return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }); }
  getJSON(el.dataset.boundariesUrl).then(function (gj) {
    L.geoJSON(gj, { style: { color: "#6c757d", weight: 1, fillColor: "#e9f5ec", fillOpacity: 0.5 } }).addTo(map);
  });
  getJSON(el.dataset.routesUrl).then(function (gj) {
    var layer = L.geoJSON(gj, {
      style: function (f) { return { color: colours[f.properties.index % colours.length], weight: 3, opacity: 0.85 }; },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var text = document.createElement("span");  // text nodes only: plates are user input
        text.textContent = p.plate + " · " + p.day + " · " + p.km.toLocaleString() + " km";
        l.bindPopup(text);
      }
    }).addTo(map);
    gj.features.forEach(function (f) {
      f.geometry.coordinates.forEach(function (c, k) {
        L.circleMarker([c[1], c[0]], { radius: k === 0 ? 6 : 4, color: k === 0 ? "#000" : "#8b4513" }).addTo(map);
      });
    });
    if (gj.features.length) { map.fitBounds(layer.getBounds().pad(0.2)); }
  });
})();
