// Face signals on the results page (jobs run with signals): pick blendshapes, see them and the head pose over
// time per person, next to the emotion chart. The server averages the measured frames in windows (/signals).
"use strict";
const EmoSignals = (() => {
  const PALETTE = ["#e6a000", "#2f6fdb", "#c0392b", "#2e9d57", "#8e44ad", "#16a0a0", "#b07800", "#1d3f8a",
                   "#d35400", "#7f8c8d"];
  const POSE = { yaw: "#c0392b", pitch: "#2e9d57", roll: "#2f6fdb" };
  const DEFAULT = ["mouthSmileLeft", "mouthSmileRight", "browDownLeft", "browDownRight", "jawOpen", "eyeBlinkLeft"];

  /** Lines of `names` over time on a canvas, y from y0 to y1; a gap over 1 s breaks a line. */
  function plot(cv, tr, names, colors, y0, y1, unit) {
    const dpr = window.devicePixelRatio || 1;
    const W = cv.width = cv.clientWidth * dpr, H = cv.height = cv.clientHeight * dpr;
    const ctx = cv.getContext("2d");
    const t = tr.t, lo = t.length ? t[0] - tr.window_s / 2 : 0, hi = t.length ? t[t.length - 1] + tr.window_s / 2 : 1;
    const x = (v) => (v - lo) / Math.max(1e-9, hi - lo) * W, y = (v) => H - (v - y0) / (y1 - y0) * H;
    ctx.clearRect(0, 0, W, H);
    ctx.strokeStyle = "#ddd"; ctx.beginPath(); ctx.moveTo(0, y((y0 + y1) / 2)); ctx.lineTo(W, y((y0 + y1) / 2));
    ctx.stroke();
    ctx.lineWidth = 1.5 * dpr;
    names.forEach((n, k) => {
      const vals = tr.values[n] || [];
      ctx.strokeStyle = colors[k]; ctx.beginPath();
      let prev = null;
      vals.forEach((v, i) => {
        if (v === null) { prev = null; return; }
        if (prev !== null && t[i] - prev <= Math.max(1, 2 * tr.window_s)) ctx.lineTo(x(t[i]), y(v));
        else ctx.moveTo(x(t[i]), y(v));
        prev = t[i];
      });
      ctx.stroke();
    });
    ctx.fillStyle = "#444"; ctx.font = (11 * dpr) + "px sans-serif";
    ctx.fillText(y1 + unit, 3, 12 * dpr); ctx.fillText(y0 + unit, 3, H - 3 * dpr);
    ctx.fillText(lo.toFixed(1) + " s", 40 * dpr, 12 * dpr);
    const r = hi.toFixed(1) + " s"; ctx.fillText(r, W - ctx.measureText(r).width - 3, 12 * dpr);
  }

  function legend(names, colors) {
    return Emo.el("p", { class: "sig-legend" }, ...names.flatMap((n, k) => {
      const sw = Emo.el("i"); sw.style.background = colors[k]; return [sw, n + " "];
    }));
  }

  function charts(data) {
    const bs = data.names.filter((n) => !(n in POSE)), colors = bs.map((_, k) => PALETTE[k % PALETTE.length]);
    const pose = Object.keys(POSE), poseColors = pose.map((n) => POSE[n]);
    const nodes = [legend(bs, colors), legend(pose.map((n) => n + " (°)"), poseColors)];
    for (const tr of data.tracks) {
      const a = Emo.el("canvas", { class: "sig", "data-track": tr.track_id, "data-kind": "blendshapes" });
      const b = Emo.el("canvas", { class: "sig", "data-track": tr.track_id, "data-kind": "pose" });
      let peak = 30;
      for (const n of pose) for (const v of tr.values[n]) if (v !== null) peak = Math.max(peak, Math.abs(v));
      const top = Math.ceil(peak / 15) * 15;
      nodes.push(Emo.el("figure", {}, Emo.el("figcaption", {}, `#${tr.track_id}: ${tr.t.length} windows of ` +
        `${tr.window_s} s`), a, b));
      requestAnimationFrame(() => { plot(a, tr, bs, colors, 0, 1, ""); plot(b, tr, pose, poseColors, -top, top, "°"); });
    }
    if (!data.tracks.length) nodes.push(Emo.el("p", { class: "muted", textContent: "No face was measured." }));
    return nodes;
  }

  /** Fill `box` (hidden until then) with a blendshape chooser and the charts of job `base`. */
  async function show(base, box, onError) {
    const select = box.querySelector("select"), out = box.querySelector(".signal-charts");
    async function load() {
      const names = [...select.selectedOptions].map((o) => o.value);
      let data;
      try { data = await Emo.api(`${base}/signals?names=${encodeURIComponent(names.join(","))}`); }
      catch (e) { onError(e.message); return null; }
      out.replaceChildren(...charts(data));
      return data;
    }
    for (const n of DEFAULT) select.append(Emo.el("option", { value: n, textContent: n, selected: true }));
    const data = await load();
    if (!data) return;
    select.replaceChildren(...data.blendshapes.map((n) => Emo.el("option", { value: n, textContent: n,
      selected: data.names.includes(n) })));
    select.addEventListener("change", load);
    box.classList.remove("hidden");
  }

  return { show, DEFAULT };
})();
