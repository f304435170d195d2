/* Lot maps: points from a data-points attribute or from a JSON endpoint (data-source), clustered with
   counts, with popups. A single point (the lot page's mini-map) opens at a zoom that shows the towns,
   roads and railways around it. */
(function () {
  "use strict";
  if (!window.L) { return; }
  var CONTEXT_ZOOM = 8;
  function draw(map, lots) {
    var group = GufeiMap.markerGroup();
    lots.forEach(function (lot) {
      var lines = [];
      if (lot.category) { lines.push(lot.category); }
      if (lot.tonnes) { lines.push(lot.tonnes + " t · ¥" + lot.reserve_yuan_per_t + "/t"); }
      if (lot.road_km !== null && lot.road_km !== undefined) { lines.push(lot.road_km + " km"); }
      L.marker([lot.lat, lot.lon], { title: lot.title })
        .bindPopup(GufeiMap.popup({ title: lot.title, url: lot.url, lines: lines }))
        .addTo(group);
    });
    var view = null;
    if (lots.length === 1) {
      view = function () { map.setView([lots[0].lat, lots[0].lon], CONTEXT_ZOOM, { animate: false }); };
    } else if (lots.length > 1) {
      view = function () {
        map.fitBounds(group.getBounds(), { padding: [20, 20], maxZoom: CONTEXT_ZOOM, animate: false });
      };
    } else if (map.getContainer().dataset.empty) {
      GufeiMap.emptyMessage(map, map.getContainer().dataset.empty);
    }
    GufeiMap.show(map, group, view);
  }
  document.querySelectorAll(".lots-map").forEach(function (el) {
    var map = GufeiMap.create(el);
    if (el.dataset.points) { draw(map, JSON.parse(el.dataset.points)); }
    if (el.dataset.source) {
      fetch(el.dataset.source, { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (data) {
          data.lots.forEach(function (lot) { lot.url = (el.dataset.lotUrl || "/lots/") + lot.id; });
          draw(map, data.lots);
          var counter = document.getElementById(el.dataset.counter || "");
          if (counter) { counter.textContent = data.count; }
        });
    }
  });
})();
