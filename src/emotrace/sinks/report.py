"""report.html for one run: a self-contained page (no network, no external scripts), by person when person linking
is on (each person's emotions over all its tracks' frames, then its tracks), with an interactive timeline per
track: each emotion's share per window as a stacked area, the dominant label as a strip; the mouse wheel zooms,
dragging pans, a double click resets, hovering shows the window's shares. A run with face signals adds, per track,
charts of a few blendshapes and the head pose (`report_signals.py`)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from emotrace.results import FrameResult
from emotrace.sinks import report_signals
from emotrace.sinks.base import RunMeta, Sink, atomic_path, discard, publish
from emotrace.sinks.draw import COLORS
from emotrace.sinks.series import TrackSeries, add_frame
from emotrace.sinks.windows import windows

FINE_WINDOWS = 2000  # per track; zooming shows them down to one window per few pixels

_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}h1{font-size:21px}
h2{font-size:16px;margin:1.6em 0 .3em}h3{font-size:15px;margin:1.2em 0 .3em}
canvas{width:100%;height:206px;border:1px solid #ddd;cursor:grab}
.files a{margin-right:1em}
.legend span{display:inline-block;width:11px;height:11px;margin:0 4px 0 12px;vertical-align:middle}
.tip{font-size:12px;color:#444;min-height:1.4em}table{border-collapse:collapse}td,th{padding:2px 8px;
border-bottom:1px solid #eee;text-align:left}.muted{color:#777}"""

_JS = r"""
const D = JSON.parse(document.getElementById("data").textContent);
const STEPS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400];
function clock(t, whole) {
  if (whole < 60) return (Math.round(t * 10) / 10) + " s";
  const s = Math.round(t), h = Math.floor(s / 3600), m = Math.floor(s / 60) % 60, ss = String(s % 60).padStart(2, "0");
  return whole >= 3600 ? h + ":" + String(m).padStart(2, "0") + ":" + ss : Math.floor(s / 60) + ":" + ss;
}
D.tracks.forEach((tr) => {
  const cv = document.getElementById("c" + tr.id), tip = document.getElementById("t" + tr.id);
  const ctx = cv.getContext("2d"); const n = tr.shares.length;
  let lo = tr.start, hi = Math.max(tr.end, tr.start + tr.w), drag = null;
  const full = [lo, hi];
  function draw(){
    const W = cv.width = cv.clientWidth * devicePixelRatio, H = cv.height = cv.clientHeight * devicePixelRatio;
    const px = devicePixelRatio, axis = 16 * px, strip = 18 * px, h = H - strip - axis - 4 * px;
    ctx.clearRect(0, 0, W, H);
    const x = (t) => (t - lo) / (hi - lo) * W;
    const a = Math.max(0, Math.floor((lo - tr.t0) / tr.w)), b = Math.min(n, Math.ceil((hi - tr.t0) / tr.w));
    for (let i = a; i < b; i++) {
      const s = tr.shares[i]; if (!s) continue;
      const x0 = x(tr.t0 + i * tr.w), x1 = Math.max(x0 + 1, x(tr.t0 + (i + 1) * tr.w));
      let y = h;
      for (let k = 0; k < s.length; k++) {
        const hk = s[k] * h; ctx.fillStyle = D.colors[k]; ctx.fillRect(x0, y - hk, x1 - x0 + 0.5, hk); y -= hk;
      }
      ctx.fillStyle = D.colors[tr.dominant[i]]; ctx.fillRect(x0, h + 4 * px, x1 - x0 + 0.5, strip);
    }
    // time axis: ticks at a round step, labelled as a clock once the track is a minute or longer
    const span = hi - lo, whole = full[1] - full[0];
    const step = STEPS.find((s) => span / s <= Math.max(2, W / (90 * px))) || STEPS[STEPS.length - 1];
    ctx.fillStyle = "#444"; ctx.strokeStyle = "#888"; ctx.font = (11 * px) + "px sans-serif";
    const y0 = H - axis;
    for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9; t += step) {
      const tx = x(t); ctx.beginPath(); ctx.moveTo(tx, y0); ctx.lineTo(tx, y0 + 4 * px); ctx.stroke();
      const label = clock(t, whole), lw = ctx.measureText(label).width;
      ctx.fillText(label, Math.min(Math.max(0, tx - lw / 2), W - lw), H - 2 * px);
    }
  }
  function at(ev){ const r = cv.getBoundingClientRect(); return lo + (ev.clientX - r.left) / r.width * (hi - lo); }
  cv.addEventListener("wheel", (ev) => {
    ev.preventDefault(); const t = at(ev), f = ev.deltaY < 0 ? 0.8 : 1.25;
    const span = Math.min(full[1] - full[0], Math.max(tr.w * 4, (hi - lo) * f));
    lo = Math.max(full[0], t - (t - lo) / (hi - lo) * span); hi = Math.min(full[1], lo + span); lo = hi - span; draw();
  }, {passive: false});
  cv.addEventListener("mousedown", (ev) => { drag = {x: ev.clientX, lo, hi}; cv.style.cursor = "grabbing"; });
  window.addEventListener("mouseup", () => { drag = null; cv.style.cursor = "grab"; });
  window.addEventListener("mousemove", (ev) => {
    if (drag) {
      const r = cv.getBoundingClientRect(), dt = (ev.clientX - drag.x) / r.width * (drag.hi - drag.lo);
      const span = drag.hi - drag.lo; lo = Math.min(Math.max(full[0], drag.lo - dt), full[1] - span); hi = lo + span;
      draw(); return;
    }
    if (ev.target !== cv) return;
    const i = Math.floor((at(ev) - tr.t0) / tr.w), s = tr.shares[i];
    tip.textContent = s ? (clock(at(ev), full[1] - full[0]) + ": " + D.classes.map((c, k) => c + " " +
      Math.round(100 * s[k]) + "%").join(", ")) : "";
  });
  cv.addEventListener("dblclick", () => { [lo, hi] = full; draw(); });
  window.addEventListener("resize", draw); draw();
});
"""


def css_color(name: str) -> str:
    """The emotion's colour in every output (annotated video, timelines, reports), as CSS."""
    b, g, r = COLORS.get(name, (80, 80, 80))
    return f"#{r:02x}{g:02x}{b:02x}"


def _by_person(tracks: list[dict], person: dict[int, int]) -> list[dict]:
    """Tracks grouped by person (people in id order, each person's tracks in id order); unchanged without people."""
    return sorted(tracks, key=lambda t: (person.get(t["id"], 0), t["id"]))


def _person_html(pid: int, tracks: list[dict], counts: np.ndarray, classes: list[str]) -> str:
    """A person's heading: its dominant emotion and label shares over every frame of its tracks, when and how long
    it was on screen (the sum of its tracks' spans)."""
    e = html.escape
    frames = int(counts.sum())
    dist = counts / max(1, frames)
    label = classes[int(np.argmax(dist))]
    top = ", ".join(f"{c} {100 * v:.0f}%" for c, v in sorted(zip(classes, dist, strict=True), key=lambda x: -x[1])
                    if v >= 0.05)
    seconds = sum(t["end"] - t["start"] for t in tracks)
    ids = ", ".join(str(t["id"]) for t in tracks)
    return (f"<h2 id='person{pid}'>Person {pid}: mostly {e(label)}</h2><p class='muted'>"
            f"{len(tracks)} track(s) ({ids}); {min(t['start'] for t in tracks):.2f}–"
            f"{max(t['end'] for t in tracks):.2f} s, {seconds:.2f} s on screen, {frames} frames; {e(top)}</p>")


class ReportSink(Sink):
    """Writes `path` (report.html) with one interactive timeline per track."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        # The run's other outputs in the same folder, linked from the page (`outputs.build_sinks` sets them):
        # output name -> file name; per-track ones with `{track}`.
        self.links: dict[str, str] = {}
        self._series: dict[int, TrackSeries] = {}
        self._file: dict[int, str] = {}
        self._person: dict[int, int] = {}  # track id -> person id (person linking on)
        self.frames = 0
        self._signals: report_signals.SignalTracks | None = None

    def open(self, meta: RunMeta) -> None:
        super().open(meta)
        if meta.analyzer.get("signals"):
            self._signals = report_signals.SignalTracks()

    def write(self, result: FrameResult) -> None:
        self.frames += 1
        faces = result.records()
        add_frame(self._series, len(self.meta.classes), float(result.frame.timestamp), faces)
        for face in faces:
            self._file.setdefault(face.track_id, result.frame.source)
            if face.person_id is not None:
                self._person[face.track_id] = face.person_id
            if self._signals is not None:
                self._signals.add(float(result.frame.timestamp), face)

    def build(self) -> str:
        classes = self.meta.classes
        tracks = []
        counts: dict[int, np.ndarray] = {}  # per track, frames per label
        for tid, series in sorted(self._series.items()):
            ts, probs = series.t, series.probs
            w = windows(ts, probs, max_windows=FINE_WINDOWS)
            shares = [None if not np.isfinite(s).all() else [round(float(v), 3) for v in s] for s in w.shares]
            counts[tid] = np.bincount(np.argmax(probs, 1), minlength=len(classes))
            dist = counts[tid] / len(ts)
            tracks.append({"id": tid, "t0": float(w.start[0]), "w": w.width_s, "shares": shares,
                           "dominant": [int(d) for d in w.dominant], "frames": len(ts), "start": float(ts.min()),
                           "end": float(ts.max()), "file": self._file[tid], "label": classes[int(np.argmax(dist))],
                           "dist": [round(float(v), 3) for v in dist]})
        data = {"classes": classes, "colors": [css_color(c) for c in classes], "tracks": tracks}
        e = html.escape
        legend = '<p class="legend">' + "".join(f'<span style="background:{css_color(c)}"></span>{e(c)}'
                                                for c in classes) + "</p>"
        prov = self.meta.provenance
        out = [f"<!doctype html><html><head><meta charset='utf-8'><title>emotrace: {e(Path(self.meta.source).name)}"
               f"</title><style>{_CSS}</style></head><body><h1>{e(self.meta.source)}</h1>",
               f"<p class='muted'>{self.frames} frames, {len(tracks)} track(s)"
               + (f" of {len(set(self._person.values()))} person(s)" if self._person else "") + "; temporal stage "
               f"{e(str(self.meta.analyzer.get('temporal_stage', '')))}; emotrace "
               f"{e(str(prov.get('emotrace_version')))}, commit {e(str(prov.get('commit')))}; "
               f"command <code>{e(str(prov.get('command')))}</code></p>",
               legend]
        shared = {n: f for n, f in self.links.items() if "{track}" not in f}
        if shared:
            out.append("<p class='files'>Files: " + "".join(f"<a href='{e(f)}'>{e(f)}</a>" for f in shared.values())
                       + "</p>")
        if tracks:
            out.append("<p class='muted'>Each chart: the mouse wheel zooms, dragging pans, a double click shows the "
                       "whole track again; hovering gives the shares at that time.</p>")
        sig, sig_tracks = self._signals, []
        if sig is not None:
            out[0] = out[0].replace("</style>", report_signals.CSS + "</style>", 1)
            out.append(report_signals.legend())
        if not tracks:
            out.append("<p>No face was found.</p>")
        shown = _by_person(tracks, self._person)[:200]
        person = None
        for tr in shown:
            pid = self._person.get(tr["id"])
            if pid is not None and pid != person:
                person = pid
                mine = [t for t in tracks if self._person.get(t["id"]) == pid]
                out.append(_person_html(pid, mine, sum(counts[t["id"]] for t in mine), classes))
            top = ", ".join(f"{c} {100 * v:.0f}%" for c, v in sorted(zip(classes, tr["dist"], strict=True),
                                                                      key=lambda x: -x[1]) if v >= 0.05)
            where = f" — {e(Path(tr['file']).name)}" if tr["file"] != self.meta.source else ""
            per_track = "".join(f" <a href='{e(f.format(track=tr['id']))}'>{e(n)}</a>"
                                for n, f in self.links.items() if "{track}" in f)
            h = "h3" if pid is not None else "h2"
            out.append(f"<{h}>Track {tr['id']}{where}: mostly {e(tr['label'])}</{h}><p class='muted'>"
                       f"{tr['start']:.2f}–{tr['end']:.2f} s, {tr['frames']} frames; {e(top)}; window "
                       f"{tr['w']:g} s{';' + per_track if per_track else ''}</p><canvas id='c{tr['id']}'></canvas>"
                       f"<div class='tip' id='t{tr['id']}'></div>")
            if sig is not None:
                chart = sig.track(tr["id"], tr["t0"], tr["t0"] + len(tr["shares"]) * tr["w"], tr["w"])
                sig_tracks += [chart] if chart is not None else []
                out.append(report_signals.track_html(chart, tr["id"]))
        if len(tracks) > 200:
            out.append(f"<p>{len(tracks) - 200} more tracks are in summary.json.</p>")
        data["tracks"] = shown
        blob = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
        out.append(f'<script type="application/json" id="data">{blob}</script><script>{_JS}</script>'
                   + (report_signals.script(sig_tracks) if sig is not None else "") + "</body></html>")
        return "\n".join(out)

    def close(self) -> list[Path]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = atomic_path(self.path)
        tmp.write_text(self.build(), encoding="utf-8")
        return [publish(tmp, self.path)]

    def abort(self) -> None:
        discard(atomic_path(self.path))
