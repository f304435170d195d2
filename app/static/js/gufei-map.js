/* Shared map set-up: an offline base layer (roads, railways, boundaries, place labels) drawn from
   the project's own data, or web tiles when MAP_TILE_URL is set; legends, empty states, clustering.
   No CDN, no inline script. */
(function () {
  "use strict";
  var script = document.currentScript;
  /* The base layer files sit in static/geo/, next to static/js/ where this script is served from. */
  var GEO_DIR = script ? script.src.replace(/js\/gufei-map\.js(\?.*)?$/, "geo/") : "/static/geo/";
  /* The attribution the ODbL requires, translated in base.html's <meta>; English if a page lacks it. */
  var OSM_META = document.querySelector("meta[name=gufei-map-attribution]");
  var OSM = OSM_META ? OSM_META.content : "Roads, railways © OpenStreetMap contributors (ODbL)";
  var COUNTY_MIN_ZOOM = 8;
  var cache = {};

  function getJSON(url) {
    if (!cache[url]) {
      cache[url] = fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
    }
    return cache[url];
  }
  function zh() { return (document.documentElement.lang || "").indexOf("zh") === 0; }
  function nameOf(props) { return zh() ? props.name : (props.name_en || props.name); }

  function label(feature, latlng) {
    var city = feature.properties.level === "prefecture";
    var dot = L.circleMarker(latlng, {
      pane: "gufei-labels", radius: city ? 3.5 : 2, weight: 1, color: "#333", fillColor: city ? "#fff" : "#555",
      fillOpacity: 1, interactive: false
    });
    dot.bindTooltip(nameOf(feature.properties), {
      permanent: true, direction: "right", offset: [4, 0], className: city ? "gufei-label gufei-label-city" : "gufei-label"
    });
    return dot;
  }

  /* Roads drawn by class when the extract has classes (geo/data/build_osm.py --classed-roads); the
     unclassed routing graph is one line style. */
  var ROAD_STYLES = {
    expressway: { color: "#c2452d", weight: 2.4 },
    national: { color: "#d98c3f", weight: 1.6 },
    provincial: { color: "#e3b26b", weight: 1.0 }
  };

  function roadStyle(roadClass) {
    var s = ROAD_STYLES[roadClass] || { color: "#d98c3f", weight: 1.3 };
    return { color: s.color, weight: s.weight, opacity: 0.9 };
  }

  function addBase(map, online) {
    map.createPane("gufei-area").style.zIndex = 240;
    map.createPane("gufei-base").style.zIndex = 250;
    map.createPane("gufei-labels").style.zIndex = 450;
    var counties = L.layerGroup();
    var countyLabels = L.layerGroup();
    var loads = [];
    loads.push(getJSON(GEO_DIR + "counties.geojson").then(function (gj) {
      L.geoJSON(gj, { pane: "gufei-base", interactive: false,
        style: { color: "#8d8d8d", weight: 0.6, dashArray: "3 3", fill: false } }).addTo(counties);
    }));
    loads.push(getJSON(GEO_DIR + "prefectures.geojson").then(function (gj) {
      L.geoJSON(gj, {
        pane: "gufei-area",
        style: { color: "#2e7d32", weight: 1.4, fillColor: "#f1f8e9", fillOpacity: online ? 0 : 0.6 },
        onEachFeature: function (feature, lyr) { lyr.bindTooltip(nameOf(feature.properties), { sticky: true }); }
      }).addTo(map);
    }));
    if (!online) {
      getJSON(GEO_DIR + "roads.geojson").then(function (gj) {
        L.geoJSON(gj, { pane: "gufei-base", interactive: false, attribution: OSM,
          style: function (f) { return roadStyle(f.properties["class"]); } }).addTo(map);
      });
      getJSON(GEO_DIR + "railways.geojson").then(function (gj) {
        L.geoJSON(gj, { pane: "gufei-base", interactive: false, attribution: OSM,
          style: { color: "#37474f", weight: 1.6, dashArray: "5 3", opacity: 0.9 } }).addTo(map);
      });
    }
    loads.push(getJSON(GEO_DIR + "labels.geojson").then(function (gj) {
      L.geoJSON(gj, {
        filter: function (f) { return f.properties.level === "prefecture"; }, pointToLayer: label
      }).addTo(map);
      L.geoJSON(gj, {
        filter: function (f) { return f.properties.level !== "prefecture"; }, pointToLayer: label
      }).addTo(countyLabels);
    }));
    /* County lines and seats only where they can be read. */
    function byZoom() {
      var show = map.getZoom() >= COUNTY_MIN_ZOOM;
      [counties, countyLabels].forEach(function (g) {
        if (show && !map.hasLayer(g)) { g.addTo(map); }
        if (!show && map.hasLayer(g)) { map.removeLayer(g); }
      });
    }
    map.on("zoomend", byZoom);
    byZoom();
    /* Settles once every base layer is drawn (a failed file still settles: the map stays usable). */
    return Promise.all(loads.map(function (p) { return p.catch(function () { return null; }); }));
  }

  window.GufeiMap = {
    create: function (el) {
      el.style.height = (el.dataset.height || "400") + "px";
      var online = Boolean(el.dataset.tileUrl);
      /* The offline layers are drawn for a province, not a street: past zoom 12 they show nothing more,
         and below zoom 5 the province shrinks to a blob of piled-up labels in an empty grey field. */
      var map = L.map(el, { attributionControl: true, minZoom: online ? 0 : 5, maxZoom: online ? 18 : 12 })
        .setView([47.8, 128.5], 6);
      if (online) {
        L.tileLayer(el.dataset.tileUrl, { maxZoom: 18, attribution: el.dataset.tileAttribution || "" }).addTo(map);
      }
      map.gufeiBase = addBase(map, online);
      return map;
    },
    /* Show the data once, at its final view: the view is set without animation *before* the marker
       group joins the map, so clusters are built once at the final zoom and never re-clustered away
       by a zoom animation. When the base layers are drawn too, the container gets data-map-ready
       (what the browser tests, and anything else that must see a settled map, wait for). */
    show: function (map, group, view) {
      if (view) { view(); }
      if (group) { group.addTo(map); }
      return GufeiMap.whenSettled(map);
    },
    whenSettled: function (map) {
      return (map.gufeiBase || Promise.resolve()).then(function () {
        map.getContainer().dataset.mapReady = "true";
        return map;
      });
    },
    /* Markers grouped with counts when the vendored Leaflet.markercluster is on the page. */
    markerGroup: function () {
      return L.markerClusterGroup ? L.markerClusterGroup({ showCoverageOnHover: false, maxClusterRadius: 40 })
        : L.featureGroup();
    },
    /* A centred message over the map, e.g. "no deliveries in this run" (text comes translated). */
    emptyMessage: function (map, text) {
      var box = L.control({ position: "topright" });
      box.onAdd = function () {
        var div = L.DomUtil.create("div", "gufei-map-empty");
        div.textContent = text;
        return div;
      };
      box.addTo(map);
      return box;
    },
    /* Legend: line width = tonnes (three sample widths), colour = mode. */
    flowLegend: function (map, opts) {
      var legend = L.control({ position: "bottomright" });
      legend.onAdd = function () {
        var div = L.DomUtil.create("div", "gufei-map-legend");
        var title = document.createElement("strong");
        title.textContent = opts.title;
        div.appendChild(title);
        opts.samples.forEach(function (s) { div.appendChild(legendRow(s.width, "#555", s.text)); });
        opts.modes.forEach(function (m) { div.appendChild(legendRow(4, m.color, m.text)); });
        return div;
      };
      legend.addTo(map);
      return legend;
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

  function legendRow(width, color, text) {
    var row = document.createElement("div");
    var swatch = document.createElement("span");
    swatch.className = "gufei-legend-line";
    swatch.style.borderTopWidth = width + "px";
    swatch.style.borderTopColor = color;
    var caption = document.createElement("span");
    caption.textContent = text;
    row.appendChild(swatch);
    row.appendChild(caption);
    return row;
  }
})();
