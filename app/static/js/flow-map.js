// Flow map of a clearing run: prefecture boundaries, then producer → recycler lines sized by tonnes.
(function () {
  "use strict";
  var el = document.getElementById("flow-map");
  if (!el || typeof L === "undefined") { return; }
  var map = L.map(el).setView([47.5, 128.0], 6);
  function getJSON(url) { return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }); }
  getJSON(el.dataset.boundariesUrl).then(function (gj) {
    L.geoJSON(gj, { style: { color: "#6c757d", weight: 1, fillColor: "#e9f5ec", fillOpacity: 0.5 } }).addTo(map);
  });
  getJSON(el.dataset.flowsUrl).then(function (gj) {
    var max = 1;
    gj.features.forEach(function (f) { max = Math.max(max, f.properties.tonnes); });
    var layer = L.geoJSON(gj, {
      style: function (f) { return { color: "#198754", opacity: 0.8, weight: 1 + 9 * f.properties.tonnes / max }; },
      onEachFeature: function (f, l) {
        var p = f.properties;
        var text = document.createElement("span");
        text.textContent = p.from + " → " + p.to + ": " + p.tonnes.toLocaleString() + " t";
        l.bindPopup(text);
      }
    }).addTo(map);
    gj.features.forEach(function (f) {
      var c = f.geometry.coordinates;
      L.circleMarker([c[0][1], c[0][0]], { radius: 4, color: "#8b4513" }).addTo(map);
      L.circleMarker([c[1][1], c[1][0]], { radius: 4, color: "#0d6efd" }).addTo(map);
    });
    if (gj.features.length) { map.fitBounds(layer.getBounds().pad(0.2)); }
  });
})();
