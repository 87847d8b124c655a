// Live page: webcam frames over a WebSocket, at most MAX_IN_FLIGHT unanswered at a time (so the rate follows what
// the server keeps up with and no queue builds up), each new camera frame sent once, answers drawn over the video,
// measured latency shown. A lost connection (a server restart) is retried with backoff, the camera kept on and the
// old answers cleared from the video meanwhile. The "face signals" choice is this session's own: sent as a config
// message when it changes and whenever a (new) socket starts with another setting.
"use strict";
(() => {
  const $ = (x) => document.getElementById(x);
  const video = $("video");
  const overlay = $("overlay");
  const grab = document.createElement("canvas");
  const MAX_WIDTH = 640;  // frames are sent at most this wide
  const MAX_IN_FLIGHT = 2;  // two, so encoding the next frame overlaps the server's work on this one
  let stream = null;
  let ws = null;
  let running = false;
  let inflight = 0;
  let fresh = false;  // a camera frame not sent yet
  const grabbedAt = [];  // grab times of the frames sent and not yet answered, in send order
  let count = 0;
  let ready = false;
  let classes = [];  // the server's emotion names, in its order (the "ready" message)
  let held = new Map();  // track id -> its last measured face signals (read every N frames: shown in between)
  const latencies = [];
  const arrivals = [];
  const FINAL_CLOSES = new Set([1000, 1008, 1009]);  // idle, refused (token, origin), frame too big: retrying won't help
  let retry = 1000;  // the next reconnect's wait, doubled up to 10 s, as the job page polls
  let reconnect = null;

  function status(text, bad) {
    $("status").textContent = text;
    $("status").className = bad ? "error" : "muted";
  }

  /** Figures start afresh with every Start: a session's latencies are not mixed with the last one's. */
  function resetFigures() {
    latencies.length = 0;
    arrivals.length = 0;
    count = 0;
    for (const id of ["ups", "p50", "lat", "p95", "srv"]) $(id).textContent = "–";
    $("count").textContent = "0";
  }

  async function start() {
    $("start").disabled = true;
    resetFigures();
    status("starting the camera…");
    try {
      stream = await navigator.mediaDevices.getUserMedia({ video: { width: { ideal: 640 }, height: { ideal: 480 } },
                                                           audio: false });
    } catch (e) {
      status("camera unavailable: " + e.message, true);
      $("start").disabled = false;
      return;
    }
    video.srcObject = stream;
    await video.play().catch(() => {});
    running = true;
    retry = 1000;
    connect();
    watchFrames();
    $("stop").disabled = false;
  }

  /** A new socket (the session cookie authenticates it); the camera and the figures carry on. */
  function connect() {
    reconnect = null;
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    ws = new WebSocket(`${proto}//${location.host}/api/v1/live`);
    ws.binaryType = "arraybuffer";
    ready = false;
    inflight = 0;
    grabbedAt.length = 0;
    ws.onmessage = onMessage;
    ws.onclose = onClose;
    status("connecting…");
  }

  function onClose(e) {
    if (!running) return;
    clearOverlay();  // answers to frames of before would be drawn over a live video
    if (FINAL_CLOSES.has(e.code)) {
      stop(e.reason ? "closed: " + e.reason : "connection closed", true);
      if (e.code === 1008 && e.reason.includes("token")) Emo.askToken("This server needs an API token.");
      return;
    }
    const wait = retry;
    retry = Math.min(10000, retry * 2);
    status(`connection lost${e.reason ? ": " + e.reason : ""}; reconnecting in ${Math.round(wait / 1000)} s…`, true);
    reconnect = setTimeout(connect, wait);
  }

  /** No box, bars or "no face" notice: nothing is being analysed. */
  function clearOverlay() {
    overlay.getContext("2d").clearRect(0, 0, overlay.width, overlay.height);
    overlay.dataset.faces = "0";
    $("faces").replaceChildren();
    $("no-face").classList.add("hidden");
    held = new Map();
  }

  function stop(reason, bad) {
    running = false;
    clearTimeout(reconnect);
    reconnect = null;
    if (ws && ws.readyState <= 1) ws.close();
    if (stream) stream.getTracks().forEach((t) => t.stop());
    stream = null;
    $("start").disabled = false;
    $("stop").disabled = true;
    status(reason || "stopped", bad);
  }

  function watchFrames() {
    // Marks each new camera frame; without requestVideoFrameCallback, assume one every 33 ms.
    const mark = () => { fresh = true; pump(); };
    if ("requestVideoFrameCallback" in video) {
      const loop = () => { if (!running) return; mark(); video.requestVideoFrameCallback(loop); };
      video.requestVideoFrameCallback(loop);
    } else {
      const timer = setInterval(() => { if (running) mark(); else clearInterval(timer); }, 33);
    }
  }

  function pump() {
    if (!running || !fresh || inflight >= MAX_IN_FLIGHT || !ws || ws.readyState !== WebSocket.OPEN) return;
    if (!video.videoWidth || !ready) return;
    fresh = false;
    inflight += 1;
    const scale = Math.min(1, MAX_WIDTH / video.videoWidth);
    grab.width = Math.round(video.videoWidth * scale);
    grab.height = Math.round(video.videoHeight * scale);
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    const t = performance.now();
    const sock = ws;
    grab.toBlob((blob) => {
      if (sock !== ws) return;  // the socket was replaced meanwhile: its count started afresh
      if (!blob || !running || ws.readyState !== WebSocket.OPEN) { inflight -= 1; return; }
      grabbedAt.push(t);
      ws.send(blob);
    }, "image/jpeg", 0.8);
  }

  function answered() {
    inflight = Math.max(0, inflight - 1);
    const t = grabbedAt.shift();
    pump();
    return t;
  }

  /** The face-signals choice: every Nth frame of each face, 0 off, null the server's setting. */
  function chosenSignals() {
    const v = $("signals").value;
    return v === "" ? null : Number(v);
  }

  /** Ask the server for the chosen signals; frames wait for its "ready" (the session starts afresh). */
  function sendConfig() {
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    ready = false;
    ws.send(JSON.stringify({ type: "config", signals: chosenSignals() }));
    status("switching face signals…");
  }

  function onMessage(ev) {
    const msg = JSON.parse(ev.data);
    if (msg.type === "ready") {
      const want = chosenSignals();
      if (want !== null && msg.signals !== want) { sendConfig(); return; }
      ready = true;
      retry = 1000;
      classes = msg.classes;
      held = new Map();
      status("connected: analysing" + (msg.signals ? `, face signals every ${msg.signals} frames` : ""));
      pump();
      return;
    }
    if (msg.type === "error") {
      status(msg.detail, true);
      if (msg.config) { ready = true; pump(); return; }  // a refused config: the session goes on as it was
      if (msg.status === 400) answered();  // a bad frame; fatal errors close the socket
      return;
    }
    if (msg.type !== "result") return;
    const sent = answered();
    const now = performance.now();
    latencies.push(now - sent);
    arrivals.push(now);
    if (latencies.length > 120) latencies.shift();
    while (arrivals.length && now - arrivals[0] > 2000) arrivals.shift();
    count += 1;
    draw(msg);
    stats(msg);
  }

  function draw(msg) {
    overlay.width = video.videoWidth || msg.width;
    overlay.height = video.videoHeight || msg.height;
    const s = overlay.width / msg.width;
    const ctx = overlay.getContext("2d");
    ctx.clearRect(0, 0, overlay.width, overlay.height);
    const font = Math.max(14, Math.round(overlay.width / 40));
    ctx.font = `600 ${font}px system-ui, sans-serif`;
    held = holdSignals(msg.faces);
    for (const f of msg.faces) {
      const [x1, y1, x2, y2] = [f.x1, f.y1, f.x2, f.y2].map((v) => v * s);
      if (held.has(f.track_id)) drawSignals(ctx, held.get(f.track_id), x1, y2, font);
      const color = Emo.COLORS[f.label] || "#ffffff";
      ctx.lineWidth = 3;
      ctx.strokeStyle = color;
      ctx.strokeRect(x1, y1, x2 - x1, y2 - y1);
      const text = `#${f.track_id} ${f.label} ${f.label_prob.toFixed(2)}`;
      const w = ctx.measureText(text).width + 8;
      const ty = Math.max(font + 6, y1);
      ctx.fillStyle = color;
      ctx.fillRect(x1, ty - font - 6, w, font + 6);
      ctx.fillStyle = "#000";
      ctx.fillText(text, x1 + 4, ty - 5);
    }
    overlay.dataset.faces = String(msg.faces.length);
    $("faces").replaceChildren(...msg.faces.map((f) => Emo.el("li", { "data-track": f.track_id, "data-label": f.label },
      Emo.el("strong", {}, `#${f.track_id} ${f.label} ${f.label_prob.toFixed(2)}`), Emo.bars(temporal(f)),
      held.has(f.track_id) ? Emo.el("div", { class: "signals muted" }, signalLines(held.get(f.track_id)).join(" · "))
        : null)));
    $("no-face").classList.toggle("hidden", msg.faces.length > 0);
  }

  /** Each face's signals: measured on this frame, or its track's last reading while it is skipped. */
  function holdSignals(faces) {
    const next = new Map();
    for (const f of faces) {
      if (f.signals === "measured") next.set(f.track_id, f);
      else if (f.signals === "skipped" && held.has(f.track_id)) next.set(f.track_id, held.get(f.track_id));
    }
    return next;
  }

  /** Head pose, then the top three blendshapes (`bs_*` fields, neutral left out). */
  function signalLines(f) {
    const deg = (v) => (v >= 0 ? "+" : "") + Math.round(v) + "°";
    const top = Object.keys(f).filter((k) => k.startsWith("bs_") && k !== "bs_neutral" && f[k] !== null)
      .sort((a, b) => f[b] - f[a]).slice(0, 3).map((k) => `${k.slice(3)} ${f[k].toFixed(2)}`);
    const pose = f.yaw === null ? [] : [`yaw ${deg(f.yaw)} pitch ${deg(f.pitch)} roll ${deg(f.roll)}`];
    return [...pose, ...top];
  }

  /** The signal lines under a face box, on a dark backing so they read over any video. */
  function drawSignals(ctx, f, x, y, font) {
    const lines = signalLines(f), size = Math.round(font * 0.75), row = size + 4;
    ctx.font = `${size}px system-ui, sans-serif`;
    const w = Math.max(...lines.map((l) => ctx.measureText(l).width)) + 8;
    const top = Math.min(y + 4, overlay.height - row * lines.length - 4);
    ctx.fillStyle = "rgba(32, 32, 32, 0.85)";
    ctx.fillRect(x, top, w, row * lines.length + 4);
    ctx.fillStyle = "#f0f0f0";
    lines.forEach((l, i) => ctx.fillText(l, x + 4, top + (i + 1) * row));
    ctx.font = `600 ${font}px system-ui, sans-serif`;
  }

  /** A face's temporal probabilities by emotion name (its `temporal_<emotion>` fields, as in the tables). */
  function temporal(f) {
    return Object.fromEntries(classes.map((c) => [c, f["temporal_" + c]]));
  }

  function stats(msg) {
    const sorted = latencies.slice().sort((a, b) => a - b);
    const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
    const p95 = sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))];
    const p50 = sorted[Math.floor(0.5 * (sorted.length - 1))];
    const span = arrivals.length > 1 ? (arrivals[arrivals.length - 1] - arrivals[0]) / 1000 : 0;
    $("ups").textContent = span > 0 ? ((arrivals.length - 1) / span).toFixed(1) : "–";
    $("p50").textContent = p50.toFixed(0);
    $("lat").textContent = mean.toFixed(0);
    $("p95").textContent = p95.toFixed(0);
    $("srv").textContent = msg.server_ms.toFixed(0);
    $("count").textContent = String(count);
  }

  $("start").addEventListener("click", start);
  $("stop").addEventListener("click", () => stop("stopped"));
  $("signals").addEventListener("change", () => { if (running) sendConfig(); });
})();
