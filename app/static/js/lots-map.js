/* Lot maps: points from a data-points attribute or from a JSON endpoint (data-source), with popups. */
(function () {
  "use strict";
  if (!window.L) { return; }
  function draw(map, lots) {
    var bounds = [];
    lots.forEach(function (lot) {
      var lines = [];
      if (lot.category) { lines.push(lot.category); }
      if (lot.tonnes) { lines.push(lot.tonnes + " t · ¥" + lot.reserve_yuan_per_t + "/t"); }
      if (lot.road_km !== null && lot.road_km !== undefined) { lines.push(lot.road_km + " km"); }
      L.marker([lot.lat, lot.lon]).addTo(map).bindPopup(GufeiMap.popup({ title: lot.title, url: lot.url, lines: lines }));
      bounds.push([lot.lat, lot.lon]);
    });
    if (bounds.length === 1) { map.setView(bounds[0], 9); }
    else if (bounds.length > 1) { map.fitBounds(bounds, { padding: [20, 20] }); }
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
