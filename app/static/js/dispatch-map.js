/* Dispatch plan map: the offline base layer (roads, railways, boundaries, place names; gufei-map.js),
   then one coloured line per truck-day through its stops. The view is set before the routes join the
   map, and the container gets data-map-ready once everything is drawn (GufeiMap.show). */
(function () {
  "use strict";
  var button = document.getElementById("print-sheets");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
  var el = document.getElementById("dispatch-map");
  if (!el || typeof L === "undefined" || !window.GufeiMap) { return; }
  var colours = ["#198754", "#0d6efd", "#dc3545", "#fd7e14", "#6f42c1", "#20c997", "#d63384", "#6c757d"];
  var map = GufeiMap.create(el);
  fetch(el.dataset.routesUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (gj) {
      if (!gj.features.length) {
        GufeiMap.emptyMessage(map, el.dataset.empty || "");
        return GufeiMap.show(map, null, null);
      }
      var group = L.featureGroup();
      var lines = L.geoJSON(gj, {
        style: function (f) { return { color: colours[f.properties.index % colours.length], weight: 3, opacity: 0.85 }; },
        onEachFeature: function (f, l) {
          var p = f.properties;
          var text = document.createElement("span");  // text nodes only: plates are user input
          text.textContent = p.plate + " · " + p.day + " · " + p.km.toLocaleString() + " km";
          l.bindPopup(text);
        }
      }).addTo(group);
      gj.features.forEach(function (f) {
        f.geometry.coordinates.forEach(function (c, k) {
          L.circleMarker([c[1], c[0]], { radius: k === 0 ? 6 : 4, color: k === 0 ? "#000" : "#8b4513" }).addTo(group);
        });
      });
      return GufeiMap.show(map, group, function () { map.fitBounds(lines.getBounds().pad(0.2), { animate: false }); });
    })
    .catch(function () { GufeiMap.whenSettled(map); });
})();
