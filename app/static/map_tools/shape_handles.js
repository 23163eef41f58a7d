// Move and rotate handles for the selected shape on the geometry review map, plus vertex snapping.
//
// The shape lives in leaflet-draw's edit layer. Dragging the move handle (at its centre) shifts it,
// dragging the rotate handle (above it) turns it about its centre; both redraw the shape as the mouse
// moves and end by firing `draw:edited`, which streamlit-folium reports like any other edit.
// Vertices dragged in leaflet-draw's edit mode, and the shape while it is moved, snap to the other
// shapes' vertices within SNAP_PX screen pixels (hold Alt to place freely).
// Coordinates are Leaflet CRS.Simple: lng = raster column, lat = -row, so the frame is isotropic.
(function () {
  "use strict";
  var SNAP_PX = 8;

  function ringsOf(shape) {
    // a polygon's rings or a line's single run of points, as arrays of LatLng
    var latlngs = shape.getLatLngs();
    return shape instanceof L.Polygon ? latlngs : [latlngs];
  }

  function mapPoints(shape, fn) {
    var rings = ringsOf(shape).map(function (ring) { return ring.map(fn); });
    shape.setLatLngs(shape instanceof L.Polygon ? rings : rings[0]);
  }

  function nearestTarget(map, latlng, targets) {
    var here = map.latLngToContainerPoint(latlng), best = null, bestPx = SNAP_PX;
    targets.forEach(function (t) {
      var px = here.distanceTo(map.latLngToContainerPoint(t));
      if (px <= bestPx) { best = t; bestPx = px; }
    });
    return best;
  }

  function attach(map, editLayer, options) {
    var shape = editLayer.getLayers()[0];
    var targets = (options.snapTo || []).map(function (p) { return L.latLng(p[1], p[0]); });
    var altDown = false;
    ["keydown", "keyup", "pointermove", "mousemove"].forEach(function (type) {
      document.addEventListener(type, function (e) { altDown = e.altKey; }, true);
    });

    // leaflet-draw's vertex markers: snap the dragged one before leaflet-draw reads its position
    var vertexEdit = L.Edit && L.Edit.PolyVerticesEdit && L.Edit.PolyVerticesEdit.prototype;
    if (vertexEdit && !vertexEdit._snapWrapped) {
      var onDrag = vertexEdit._onMarkerDrag;
      vertexEdit._onMarkerDrag = function (e) {
        var snapped = altDown ? null : nearestTarget(this._map, e.target.getLatLng(), targets);
        if (snapped) { e.target.setLatLng(snapped); }
        return onDrag.call(this, e);
      };
      vertexEdit._snapWrapped = true;
    }
    if (!shape || !shape.getLatLngs) { return; }

    function icon(text, cls) {
      return L.divIcon({className: "shape-handle " + cls, html: text, iconSize: [22, 22], iconAnchor: [11, 11]});
    }
    var moveHandle = L.marker([0, 0], {draggable: true, icon: icon("&#10021;", "shape-move"),
                                       title: "Drag to move the shape", zIndexOffset: 1000});
    var rotateHandle = L.marker([0, 0], {draggable: true, icon: icon("&#10227;", "shape-rotate"),
                                         title: "Drag to rotate the shape", zIndexOffset: 1000});
    var start = null;  // {latlngs, centre, from}: the shape as it was when a drag began

    function centre() { return shape.getBounds().getCenter(); }
    function place() {
      var bounds = shape.getBounds(), c = bounds.getCenter();
      var top = map.latLngToContainerPoint(L.latLng(bounds.getNorth(), c.lng)).subtract([0, 24]);
      moveHandle.setLatLng(c);
      rotateHandle.setLatLng(map.containerPointToLatLng(top));
    }
    function begin(e) {
      start = {rings: ringsOf(shape).map(function (r) { return r.map(L.latLng); }), centre: centre(),
               from: e.target.getLatLng()};
    }
    function restore() {
      var rings = start.rings.map(function (r) { return r.map(L.latLng); });
      shape.setLatLngs(shape instanceof L.Polygon ? rings : rings[0]);
    }
    function finish() {
      start = null;
      place();
      map.fire("draw:edited", {layers: L.layerGroup([shape])});
    }

    moveHandle.on("dragstart", begin).on("drag", function (e) {
      var dLat = e.target.getLatLng().lat - start.from.lat, dLng = e.target.getLatLng().lng - start.from.lng;
      if (!altDown) {  // the shift that brings the vertex nearest to a target onto it
        var best = null;
        start.rings.forEach(function (r) {
          r.forEach(function (p) {
            var moved = L.latLng(p.lat + dLat, p.lng + dLng), t = nearestTarget(map, moved, targets);
            var px = t && map.latLngToContainerPoint(moved).distanceTo(map.latLngToContainerPoint(t));
            if (t && (best === null || px < best.px)) { best = {px: px, dLat: t.lat - p.lat, dLng: t.lng - p.lng}; }
          });
        });
        if (best) { dLat = best.dLat; dLng = best.dLng; }
      }
      restore();
      mapPoints(shape, function (p) { return L.latLng(p.lat + dLat, p.lng + dLng); });
    }).on("dragend", finish);

    rotateHandle.on("dragstart", begin).on("drag", function (e) {
      var c = start.centre, now = e.target.getLatLng();
      var angle = Math.atan2(now.lat - c.lat, now.lng - c.lng) - Math.atan2(start.from.lat - c.lat, start.from.lng - c.lng);
      var cos = Math.cos(angle), sin = Math.sin(angle);
      restore();
      mapPoints(shape, function (p) {
        var x = p.lng - c.lng, y = p.lat - c.lat;
        return L.latLng(c.lat + sin * x + cos * y, c.lng + cos * x - sin * y);
      });
    }).on("dragend", finish);

    // leaflet-draw's own edit mode moves vertices; the handles step aside meanwhile
    map.on("draw:editstart", function () { moveHandle.remove(); rotateHandle.remove(); });
    map.on("draw:editstop", function () { place(); moveHandle.addTo(map); rotateHandle.addTo(map); });
    map.on("zoomend", function () { if (!start) { place(); } });
    map.whenReady(function () {
      place();
      moveHandle.addTo(map);
      rotateHandle.addTo(map);
    });
  }

  window.ShapeHandles = {attach: attach, SNAP_PX: SNAP_PX};
})();
