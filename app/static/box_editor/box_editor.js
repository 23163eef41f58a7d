// Box editor of the Sound-source boxes page: a Streamlit component (plain postMessage protocol, no
// external library). Boxes are [x1, y1, x2, y2] fractions of the frame, as the database keeps them.
(function () {
  "use strict";
  const MIN_WIDTH = 640;     // px: the frame is never shown narrower
  const MAX_HEIGHT = 640;    // px of canvas at most (a square frame still shows 640 px wide)
  const HANDLE = 8;          // px (screen) around a corner that grabs it
  const MIN_BOX = 3;         // px (image) a side at least, smaller drags are discarded
  const REPORT_MS = 250;     // edits are sent to the app this long after the last one

  const canvas = document.getElementById("canvas");
  const ctx = canvas.getContext("2d");
  const $ = (id) => document.getElementById(id);
  const frame = new Image();
  const heat = new Image();
  let heatReady = false;
  let args = null;           // the last render's arguments
  let resetToken = null;
  let boxes = [];            // image px [x1, y1, x2, y2]
  let selected = -1;
  let scale = 1, offsetX = 0, offsetY = 0;  // screen = image * scale + offset
  let drag = null;           // {mode: draw|move|resize|pan, ...}
  let spaceHeld = false;
  let seq = 0;
  let reportTimer = null;
  let reported = "[]";       // the boxes the app last heard of (JSON of normalised())

  function post(type, data) {
    window.parent.postMessage(Object.assign({isStreamlitMessage: true, type: type}, data), "*");
  }

  // ---- geometry ----
  const iw = () => frame.naturalWidth || 1;
  const ih = () => frame.naturalHeight || 1;
  const toImage = (sx, sy) => [(sx - offsetX) / scale, (sy - offsetY) / scale];
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);

  function normalised() {
    return boxes.map(([x1, y1, x2, y2]) => [x1 / iw(), y1 / ih(), x2 / iw(), y2 / ih()]
      .map((v) => Math.round(clamp(v, 0, 1) * 10000) / 10000));
  }

  function fromNormalised(list) {
    return (list || []).map((b) => [b[0] * iw(), b[1] * ih(), b[2] * iw(), b[3] * ih()]);
  }

  function layout() {
    const width = Math.max(MIN_WIDTH, document.body.clientWidth || MIN_WIDTH);
    const height = Math.min(Math.round(width * ih() / iw()), MAX_HEIGHT);
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    post("streamlit:setFrameHeight", {height: document.documentElement.scrollHeight});
  }

  function fit() {
    scale = Math.min(canvas.width / iw(), canvas.height / ih());
    offsetX = (canvas.width - iw() * scale) / 2;
    offsetY = (canvas.height - ih() * scale) / 2;
    draw();
  }

  function zoomAt(factor, sx, sy) {
    const [x, y] = toImage(sx, sy);
    scale = clamp(scale * factor, 0.1, 40);
    offsetX = sx - x * scale;
    offsetY = sy - y * scale;
    draw();
  }

  // ---- drawing ----
  function strokeBox(box, colour, width, dashed) {
    const [x1, y1, x2, y2] = box;
    ctx.setLineDash(dashed ? [6, 4] : []);
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.strokeRect(x1 * scale + offsetX, y1 * scale + offsetY, (x2 - x1) * scale, (y2 - y1) * scale);
  }

  function draw() {
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!frame.complete || !frame.naturalWidth) return;
    ctx.imageSmoothingEnabled = scale < 2;
    ctx.drawImage(frame, offsetX, offsetY, iw() * scale, ih() * scale);
    if (heatReady && $("heat-on").checked) {
      ctx.globalAlpha = parseFloat($("heat-opacity").value);
      ctx.drawImage(heat, offsetX, offsetY, iw() * scale, ih() * scale);
      ctx.globalAlpha = 1;
    }
    if ($("model-on").checked) {
      fromNormalised(args && args.model_boxes).forEach((b) => strokeBox(b, "#ff8800", 1.5, true));
    }
    boxes.forEach((b, i) => strokeBox(b, i === selected ? "#00e5ff" : "#00ff66", i === selected ? 3 : 2, false));
    if (selected >= 0 && boxes[selected]) {
      ctx.setLineDash([]);
      ctx.fillStyle = "#00e5ff";
      corners(boxes[selected]).forEach(([x, y]) => ctx.fillRect(x * scale + offsetX - 4, y * scale + offsetY - 4, 8, 8));
    }
    $("zoom-level").textContent = Math.round(scale * 100) + "%";
    $("delete").disabled = selected < 0;
    $("status").textContent = boxes.length + " box" + (boxes.length === 1 ? "" : "es") +
      (selected >= 0 ? " · box " + (selected + 1) + " selected" : "");
  }

  const corners = ([x1, y1, x2, y2]) => [[x1, y1], [x2, y1], [x2, y2], [x1, y2]];

  function cornerAt(sx, sy) {
    if (selected < 0) return -1;
    return corners(boxes[selected]).findIndex(([x, y]) =>
      Math.abs(x * scale + offsetX - sx) <= HANDLE && Math.abs(y * scale + offsetY - sy) <= HANDLE);
  }

  function boxAt(x, y) {
    const inside = (b) => x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3];
    if (selected >= 0 && inside(boxes[selected])) return selected;
    for (let i = boxes.length - 1; i >= 0; i--) if (inside(boxes[i])) return i;
    return -1;
  }

  function ordered([x1, y1, x2, y2]) {
    return [clamp(Math.min(x1, x2), 0, iw()), clamp(Math.min(y1, y2), 0, ih()),
            clamp(Math.max(x1, x2), 0, iw()), clamp(Math.max(y1, y2), 0, ih())];
  }

  // ---- talking to the app ----
  function report(save) {
    clearTimeout(reportTimer);
    reportTimer = null;
    const now = normalised();
    if (!save && JSON.stringify(now) === reported) return;  // a selection alone changes nothing to store
    reported = JSON.stringify(now);
    seq += 1;
    post("streamlit:setComponentValue", {
      value: {boxes: now, reset: resetToken, seq: seq, save: !!save}, dataType: "json"});
  }

  // edits are sent after a pause (one rerun for a burst of nudges); leaving the frame sends them at once
  function edited() {
    draw();
    clearTimeout(reportTimer);
    reportTimer = setTimeout(() => report(false), REPORT_MS);
  }

  window.addEventListener("blur", () => {  // the pointer left for the page: send what is pending first
    spaceHeld = false;
    if (reportTimer) report(false);
  });

  function save() {
    if (!boxes.length) {
      $("status").textContent = "Draw at least one box, or use 'Cannot be localised' on the page.";
      return;
    }
    $("save").disabled = true;
    report(true);
  }

  // ---- mouse ----
  function screenPoint(event) {
    const rect = canvas.getBoundingClientRect();
    return [event.clientX - rect.left, event.clientY - rect.top];
  }

  canvas.addEventListener("contextmenu", (e) => e.preventDefault());
  canvas.addEventListener("mousedown", (event) => {
    canvas.focus();
    const [sx, sy] = screenPoint(event);
    const [x, y] = toImage(sx, sy);
    if (event.button !== 0 || spaceHeld) {
      drag = {mode: "pan", sx: sx, sy: sy, ox: offsetX, oy: offsetY};
      return;
    }
    const corner = cornerAt(sx, sy);
    if (corner >= 0) {
      const b = boxes[selected];
      const opposite = corners(b)[(corner + 2) % 4];
      drag = {mode: "resize", fx: opposite[0], fy: opposite[1]};
      return;
    }
    const hit = boxAt(x, y);
    if (hit >= 0) {
      selected = hit;
      drag = {mode: "move", x: x, y: y, box: boxes[hit].slice()};
    } else {
      boxes.push([x, y, x, y]);
      selected = boxes.length - 1;
      drag = {mode: "draw", fx: x, fy: y};
    }
    draw();
  });

  window.addEventListener("mousemove", (event) => {
    if (!drag) return;
    if (event.buttons === 0) { endDrag(); return; }  // released outside the frame
    const [sx, sy] = screenPoint(event);
    const [x, y] = toImage(sx, sy);
    if (drag.mode === "pan") {
      offsetX = drag.ox + sx - drag.sx;
      offsetY = drag.oy + sy - drag.sy;
    } else if (drag.mode === "move") {
      const [x1, y1, x2, y2] = drag.box;
      const dx = clamp(x - drag.x, -x1, iw() - x2), dy = clamp(y - drag.y, -y1, ih() - y2);
      boxes[selected] = [x1 + dx, y1 + dy, x2 + dx, y2 + dy];
    } else {
      boxes[selected] = ordered([drag.fx, drag.fy, x, y]);
    }
    draw();
  });

  function endDrag() {
    if (!drag) return;
    const mode = drag.mode;
    drag = null;
    if (mode === "pan") return;
    const b = boxes[selected];
    if (b && (b[2] - b[0] < MIN_BOX || b[3] - b[1] < MIN_BOX)) {
      if (mode === "draw") { boxes.splice(selected, 1); selected = -1; draw(); return; }
      if (mode === "resize") boxes[selected] = atLeastMin(b);
    }
    edited();
  }

  function atLeastMin([x1, y1, x2, y2]) {
    const w = Math.max(x2 - x1, MIN_BOX), h = Math.max(y2 - y1, MIN_BOX);
    const left = clamp(x1, 0, iw() - w), top = clamp(y1, 0, ih() - h);
    return [left, top, left + w, top + h];
  }

  window.addEventListener("mouseup", endDrag);

  canvas.addEventListener("wheel", (event) => {
    event.preventDefault();
    const [sx, sy] = screenPoint(event);
    zoomAt(event.deltaY < 0 ? 1.2 : 1 / 1.2, sx, sy);
  }, {passive: false});

  // ---- keyboard ----
  document.addEventListener("keydown", (event) => {
    if (event.target.tagName === "INPUT" && event.target.type === "range") return;
    const key = event.key;
    const onFrame = event.target === canvas || event.target === document.body;  // not on a toolbar control
    if (key === " " && onFrame) { spaceHeld = true; event.preventDefault(); return; }
    const arrows = {ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1]};
    if (arrows[key] && selected >= 0) {
      event.preventDefault();
      const step = event.shiftKey ? 10 : 1;
      const [dx, dy] = arrows[key].map((v) => v * step);
      const [x1, y1, x2, y2] = boxes[selected];
      if (event.altKey) {  // the right and bottom edges: grow or shrink
        boxes[selected] = ordered([x1, y1, Math.max(x2 + dx, x1 + MIN_BOX), Math.max(y2 + dy, y1 + MIN_BOX)]);
      } else {
        const mx = clamp(dx, -x1, iw() - x2), my = clamp(dy, -y1, ih() - y2);
        boxes[selected] = [x1 + mx, y1 + my, x2 + mx, y2 + my];
      }
      edited();
    } else if ((key === "Delete" || key === "Backspace") && selected >= 0) {
      event.preventDefault();
      boxes.splice(selected, 1);
      selected = boxes.length ? Math.min(selected, boxes.length - 1) : -1;
      edited();
    } else if (key === "Tab" && boxes.length && onFrame) {
      event.preventDefault();
      selected = (selected + (event.shiftKey ? boxes.length - 1 : 1)) % boxes.length;
      draw();
    } else if (key === "Escape") {
      selected = -1;
      draw();
    } else if (key === "s" || key === "S") {
      event.preventDefault();
      save();
    } else if (key === "+" || key === "=") {
      zoomAt(1.25, canvas.width / 2, canvas.height / 2);
    } else if (key === "-") {
      zoomAt(0.8, canvas.width / 2, canvas.height / 2);
    } else if (key === "0") {
      fit();
    }
  });
  document.addEventListener("keyup", (event) => { if (event.key === " ") spaceHeld = false; });

  $("zoom-in").addEventListener("click", () => zoomAt(1.25, canvas.width / 2, canvas.height / 2));
  $("zoom-out").addEventListener("click", () => zoomAt(0.8, canvas.width / 2, canvas.height / 2));
  $("fit").addEventListener("click", fit);
  $("delete").addEventListener("click", () => {
    if (selected < 0) return;
    boxes.splice(selected, 1);
    selected = -1;
    edited();
  });
  $("save").addEventListener("click", save);
  ["heat-on", "heat-opacity", "model-on"].forEach((id) => $(id).addEventListener("input", draw));

  // ---- rendering what the app sends ----
  function reset() {
    clearTimeout(reportTimer);  // a report about the boxes of before is not sent after them
    reportTimer = null;
    boxes = fromNormalised(args.boxes);
    reported = JSON.stringify(normalised());
    selected = boxes.length ? 0 : -1;
    $("save").disabled = false;
    layout();
    fit();
  }

  window.addEventListener("message", (event) => {
    if (!event.data || event.data.type !== "streamlit:render") return;
    const incoming = event.data.args;
    const newFrame = !args || incoming.image !== args.image;
    const newHeat = !args || incoming.heatmap !== args.heatmap;
    const newToken = incoming.reset !== resetToken;
    args = incoming;
    if (newHeat) {
      heatReady = false;
      if (args.heatmap) { heat.onload = () => { heatReady = true; draw(); }; heat.src = args.heatmap; }
    }
    if (newToken) resetToken = args.reset;
    if (newFrame) {
      frame.onload = () => { if (newToken) reset(); else { layout(); fit(); } };
      frame.src = args.image;
    } else if (newToken) {
      reset();
    } else {
      $("save").disabled = false;
      draw();
    }
  });
  window.addEventListener("resize", () => { layout(); fit(); });

  post("streamlit:componentReady", {apiVersion: 1});
})();
