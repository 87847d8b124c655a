"""report.html's face-signal charts, for a run with signals: per track, a few chosen blendshapes and the head pose
(yaw, pitch, roll) over time, as lines of per-window means over the frames measured, in the report's own
self-contained style (inline data and script, wheel zoom, drag, double click to reset, hover values). Kept apart
from `report.py` so a run without signals writes the page it always wrote."""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np

from emotrace.faces.signal_names import BLENDSHAPES
from emotrace.results import POSE_FIELDS, FaceRecord
from emotrace.sinks.series import TrackSeries
from emotrace.sinks.windows import windows

# Smiles, frowning brows, an open jaw and a blink: the blendshapes that move with the seven emotions most plainly.
REPORT_BLENDSHAPES = ("mouthSmileLeft", "mouthSmileRight", "browDownLeft", "browDownRight", "jawOpen",
                      "eyeBlinkLeft")
LINE_COLORS = ("#e6a000", "#b07800", "#2f6fdb", "#1d3f8a", "#c0392b", "#2e9d57")
POSE_COLORS = ("#c0392b", "#2e9d57", "#2f6fdb")
_INDEX = [BLENDSHAPES.index(n) for n in REPORT_BLENDSHAPES]

CSS = """canvas.sig{height:120px;margin-top:4px}.sig-legend{font-size:12px;color:#444}
.sig-legend i{display:inline-block;width:14px;height:3px;margin:0 4px 3px 10px;vertical-align:middle}"""

JS = r"""
const S = JSON.parse(document.getElementById("signals").textContent);
S.tracks.forEach((tr) => {
  const tip = document.getElementById("u" + tr.id), full = [tr.lo, tr.hi];
  let lo = full[0], hi = full[1], drag = null;
  const charts = [["b" + tr.id, tr.bs, S.names, S.colors, 0, 1, ""], ["p" + tr.id, tr.pose, S.pose, S.pose_colors,
    -tr.pose_max, tr.pose_max, "\u00b0"]].map(([id, rows, names, colors, y0, y1, unit]) =>
    ({cv: document.getElementById(id), rows, names, colors, y0, y1, unit}));
  function draw(){
    charts.forEach((c) => {
      const cv = c.cv, ctx = cv.getContext("2d");
      const W = cv.width = cv.clientWidth * devicePixelRatio, H = cv.height = cv.clientHeight * devicePixelRatio;
      const x = (t) => (t - lo) / (hi - lo) * W, y = (v) => H - (v - c.y0) / (c.y1 - c.y0) * H;
      ctx.clearRect(0, 0, W, H); ctx.strokeStyle = "#ddd"; ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(0, y((c.y0 + c.y1) / 2)); ctx.lineTo(W, y((c.y0 + c.y1) / 2)); ctx.stroke();
      ctx.lineWidth = 1.5 * devicePixelRatio;
      c.names.forEach((_, k) => {
        ctx.strokeStyle = c.colors[k]; ctx.beginPath(); let last = -1e9;
        c.rows.forEach((r, i) => {  // read every N frames: windows between readings are empty, gaps over 1 s break
          if (!r) return;
          const px = x(tr.t0 + (i + 0.5) * tr.w), py = y(r[k]);
          if ((i - last) * tr.w <= Math.max(1, 2 * tr.w)) ctx.lineTo(px, py); else ctx.moveTo(px, py); last = i;
        });
        ctx.stroke();
      });
      ctx.fillStyle = "#444"; ctx.font = (11 * devicePixelRatio) + "px sans-serif";
      ctx.fillText(c.y1 + c.unit, 3, 12 * devicePixelRatio); ctx.fillText(c.y0 + c.unit, 3, H - 3);
    });
  }
  function at(ev){
    const r = ev.target.getBoundingClientRect(); return lo + (ev.clientX - r.left) / r.width * (hi - lo);
  }
  charts.forEach((c) => {
    const cv = c.cv;
    cv.addEventListener("wheel", (ev) => {
      ev.preventDefault(); const t = at(ev), f = ev.deltaY < 0 ? 0.8 : 1.25;
      const span = Math.min(full[1] - full[0], Math.max(tr.w * 4, (hi - lo) * f));
      lo = Math.max(full[0], t - (t - lo) / (hi - lo) * span); hi = Math.min(full[1], lo + span); lo = hi - span;
      draw();
    }, {passive: false});
    cv.addEventListener("mousedown", (ev) => { drag = {x: ev.clientX, lo, hi, cv}; });
    cv.addEventListener("dblclick", () => { [lo, hi] = full; draw(); });
    cv.addEventListener("mousemove", (ev) => {
      if (drag) return;
      const i = Math.floor((at(ev) - tr.t0) / tr.w), r = c.rows[i];
      tip.textContent = r ? at(ev).toFixed(2) + " s: " + c.names.map((n, k) => n + " " +
        r[k].toFixed(c.unit ? 0 : 2) + c.unit).join(", ") : "";
    });
  });
  window.addEventListener("mouseup", () => { drag = null; });
  window.addEventListener("mousemove", (ev) => {
    if (!drag) return;
    const r = drag.cv.getBoundingClientRect(), span = drag.hi - drag.lo, dt = (ev.clientX - drag.x) / r.width * span;
    lo = Math.min(Math.max(full[0], drag.lo - dt), full[1] - span); hi = lo + span; draw();
  });
  window.addEventListener("resize", draw); draw();
});
"""


class SignalTracks:
    """Per track, the frames whose signals were measured: time, the chosen blendshapes and the pose (float16 in a
    `TrackSeries`, 2 bytes a value: plenty for a chart)."""

    def __init__(self) -> None:
        self.series: dict[int, TrackSeries] = {}

    def add(self, t: float, face: FaceRecord) -> None:
        if face.signals is None or face.signals[2] != "measured":
            return
        bs, pose = face.signals[0], face.signals[1]
        values = np.concatenate([np.asarray(bs)[_INDEX], np.asarray(pose)])
        if not np.isfinite(values).all():
            return
        series = self.series.get(face.track_id)
        if series is None:
            series = self.series[face.track_id] = TrackSeries(len(values))
        series.append(t, values)

    def track(self, tid: int, lo: float, hi: float, width: float) -> dict[str, Any] | None:
        """A track's chart data: per-window means in the emotion chart's windows (`width` s) on its time axis
        [lo, hi]; None when the track was never measured."""
        series = self.series.get(tid)
        if series is None or not len(series):
            return None
        w = windows(series.t, series.probs, width=width)
        means = w.shares
        nb = len(REPORT_BLENDSHAPES)
        empty = ~np.isfinite(means).all(axis=1)
        bs = [None if e else [round(float(v), 3) for v in m[:nb]] for m, e in zip(means, empty, strict=True)]
        pose = [None if e else [round(float(v), 1) for v in m[nb:]] for m, e in zip(means, empty, strict=True)]
        peak = float(np.nanmax(np.abs(means[:, nb:]))) if (~empty).any() else 0.0
        return {"id": tid, "t0": float(w.start[0]), "w": w.width_s, "lo": lo, "hi": hi, "bs": bs, "pose": pose,
                "pose_max": max(30, int(np.ceil(peak / 15) * 15)), "measured": len(series)}


def legend() -> str:
    """The line colours, once at the top of the page."""
    bs = "".join(f"<i style='background:{c}'></i>{html.escape(n)}"
                 for n, c in zip(REPORT_BLENDSHAPES, LINE_COLORS, strict=True))
    pose = "".join(f"<i style='background:{c}'></i>{n}" for n, c in zip(POSE_FIELDS, POSE_COLORS, strict=True))
    return (f"<p class='sig-legend'>Face signals, means of the frames measured: blendshapes (0–1) {bs}; "
            f"head pose (degrees) {pose}</p>")


def track_html(tr: dict[str, Any] | None, tid: int) -> str:
    """The two charts of one track (or why there are none)."""
    if tr is None:
        return "<p class='sig-legend'>No face signals were measured on this track.</p>"
    return (f"<canvas class='sig' id='b{tid}'></canvas><canvas class='sig' id='p{tid}'></canvas>"
            f"<div class='tip' id='u{tid}'></div>")


def script(tracks: list[dict[str, Any]]) -> str:
    """The charts' data and script."""
    data = {"names": list(REPORT_BLENDSHAPES), "colors": list(LINE_COLORS), "pose": list(POSE_FIELDS),
            "pose_colors": list(POSE_COLORS), "tracks": tracks}
    blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    return f'<script type="application/json" id="signals">{blob}</script><script>{JS}</script>'
