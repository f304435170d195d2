/* Facility form: click the map to place the marker and fill lon/lat (WGS84); typed values move it. */
(function () {
  "use strict";
  var el = document.getElementById("map-picker");
  if (!el || !window.L) { return; }
  var map = GufeiMap.create(el);
  var lon = document.getElementById(el.dataset.lonInput);
  var lat = document.getElementById(el.dataset.latInput);
  var system = document.getElementById(el.dataset.systemInput);
  var marker = null;

  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); } else { marker = L.marker(latlng).addTo(map); }
  }
  function fromInputs() {
    var x = parseFloat(lon.value), y = parseFloat(lat.value);
    /* Only WGS84 values can be drawn as-is; others are converted by the server on save. */
    if (isFinite(x) && isFinite(y) && (!system || system.value === "wgs84")) {
      place([y, x]);
      map.setView([y, x], Math.max(map.getZoom(), 8));
    }
  }
  map.on("click", function (e) {
    place(e.latlng);
    lon.value = e.latlng.lng.toFixed(6);
    lat.value = e.latlng.lat.toFixed(6);
    if (system) { system.value = "wgs84"; }
  });
  [lon, lat, system].forEach(function (input) { if (input) { input.addEventListener("change", fromInputs); } });
  fromInputs();
})();
