/* Shared map set-up: offline prefecture boundaries, optional web tiles (no CDN, no inline script). */
(function () {
  "use strict";
  window.GufeiMap = {
    create: function (el) {
      el.style.height = (el.dataset.height || "400") + "px";
      var map = L.map(el, { attributionControl: true }).setView([47.8, 128.5], 6);
      if (el.dataset.tileUrl) {
        L.tileLayer(el.dataset.tileUrl, { maxZoom: 18 }).addTo(map);
      }
      if (el.dataset.boundaries) {
        fetch(el.dataset.boundaries, { credentials: "same-origin" })
          .then(function (r) { return r.json(); })
          .then(function (geojson) {
            var layer = L.geoJSON(geojson, {
              style: { color: "#2e7d32", weight: 1, fillOpacity: 0.05 },
              onEachFeature: function (feature, lyr) {
                var lang = document.documentElement.lang || "";
                lyr.bindTooltip(lang.indexOf("zh") === 0 ? feature.properties.name : feature.properties.name_en);
              }
            }).addTo(map);
            layer.bringToBack();
          });
      }
      return map;
    },
    popup: function (lot) {
      /* Build popup DOM from text nodes only: titles are user input. */
      var box = document.createElement("div");
      var link = document.createElement(lot.url ? "a" : "strong");
      if (lot.url) { link.href = lot.url; }
      link.textContent = lot.title;
      box.appendChild(link);
      (lot.lines || []).forEach(function (text) {
        var line = document.createElement("div");
        line.textContent = text;
        box.appendChild(line);
      });
      return box;
    }
  };
})();
