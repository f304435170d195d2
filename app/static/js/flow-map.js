/* Flow map of a clearing run: the offline base layer, then producer → recycler lines with width by
   tonnes and colour by mode, a legend, and a message when the run delivered nothing. Translated text
   comes from the element's data-* attributes. Like the lot maps, the view is set before the flows
   join the map and the container gets data-map-ready once everything is drawn (GufeiMap.show). */
(function () {
  "use strict";
  var el = document.getElementById("flow-map");
  if (!el || typeof L === "undefined" || !window.GufeiMap) { return; }
  var COLORS = { road: "#1565c0", rail: "#8e24aa" };
  var MIN_W = 2, SPAN_W = 8;
  var map = GufeiMap.create(el);
  function width(t, max) { return MIN_W + SPAN_W * t / max; }
  fetch(el.dataset.flowsUrl, { credentials: "same-origin" })
    .then(function (r) { return r.json(); })
    .then(function (gj) {
      if (!gj.features.length) {
        GufeiMap.emptyMessage(map, el.dataset.empty || "");
        return GufeiMap.show(map, null, null);
      }
      var max = 1;
      gj.features.forEach(function (f) { max = Math.max(max, f.properties.tonnes); });
      var group = L.featureGroup();
      var lines = L.geoJSON(gj, {
        style: function (f) {
          return { color: COLORS[f.properties.mode] || COLORS.road, opacity: 0.85, weight: width(f.properties.tonnes, max) };
        },
        onEachFeature: function (f, l) {
          var p = f.properties;
          l.bindPopup(GufeiMap.popup({ title: p.from + " → " + p.to, lines: [p.tonnes.toLocaleString() + " t"] }));
        }
      }).addTo(group);
      gj.features.forEach(function (f) {
        var c = f.geometry.coordinates;
        L.circleMarker([c[0][1], c[0][0]], { radius: 5, color: "#8b4513", fillOpacity: 0.9 }).addTo(group);
        L.circleMarker([c[1][1], c[1][0]], { radius: 5, color: "#2e7d32", fillOpacity: 0.9 }).addTo(group);
      });
      var tonnes = function (t) { return Math.round(t).toLocaleString() + " t"; };
      GufeiMap.flowLegend(map, {
        title: el.dataset.legendTitle || "",
        samples: [max / 10, max / 2, max].map(function (t) { return { width: width(t, max), text: tonnes(t) }; }),
        modes: [{ color: COLORS.road, text: el.dataset.labelRoad || "road" },
                { color: COLORS.rail, text: el.dataset.labelRail || "rail" }]
      });
      return GufeiMap.show(map, group, function () { map.fitBounds(lines.getBounds().pad(0.2), { animate: false }); });
    })
    .catch(function () { GufeiMap.whenSettled(map); });
})();
