"""One PNG per track. A short track: the temporal model's probability of each emotion over time, with the frame
model's top label as ticks underneath so flicker is visible at a glance. A long track (more frames than fit as
lines): a stacked area of each emotion's share per window, windows sized to the duration, with the dominant
label of each window as a strip underneath, so a 30-minute video stays readable. With person linking on, each
chart's title names the track's person (summary.json and report.html give the person's emotions over all its
tracks)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from emotrace.results import FrameResult
from emotrace.sinks.base import Sink, atomic_path, discard, publish
from emotrace.sinks.draw import COLORS
from emotrace.sinks.series import TrackSeries, add_frame
from emotrace.sinks.windows import windows

LINE_MAX_FRAMES = 600  # above this, lines overlap into a wall: aggregate into windows
CLOCK_STEPS = (10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600)


def clock(seconds: float, span: float) -> str:
    """A time as a reader of that span wants it: seconds under a minute, m:ss under an hour, else h:mm:ss."""
    if span < 60:
        return f"{seconds:g}"
    s = int(round(seconds))
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if span >= 3600 else f"{s // 60}:{s % 60:02d}"


def _time_axis(ax: object, t: np.ndarray) -> None:
    """x axis in seconds, m:ss or h:mm:ss by the track's span, labelled so."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    span = float(t.max() - t.min()) if len(t) else 0.0
    if span >= 60:  # ticks at round clock steps (30 s, 1, 2, 5, 10, 15, 30 min, 1 h, ...), at most 12
        step = next((s for s in CLOCK_STEPS if span / s <= 12), CLOCK_STEPS[-1])
        ax.xaxis.set_major_locator(MultipleLocator(step))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: clock(v, span)))
    ax.set_xlabel("time (h:mm:ss)" if span >= 3600 else "time (m:ss)" if span >= 60 else "time (s)")


def _rgb(name: str) -> tuple[float, float, float]:
    b, g, r = COLORS.get(name, (0, 0, 0))
    return (r / 255, g / 255, b / 255)


def _legend(ax: object) -> None:
    """Beside the chart, not over it."""
    ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=8, frameon=False)


class TimelineSink(Sink):
    """Writes `folder/pattern` (the registry's file name, with `{track}` the track id) for every track seen on at
    least `min_frames` frames."""

    def __init__(self, folder: str | Path, pattern: str, min_frames: int = 2) -> None:
        self.folder, self.pattern = Path(folder), pattern
        self.min_frames = min_frames
        self._series: dict[int, TrackSeries] = {}  # temporal probabilities, frame model's top label
        self._person: dict[int, int] = {}  # track id -> person id (person linking on)
        self._written: list[Path] = []
        self._tmp: Path | None = None  # the chart being saved, for abort

    def write(self, result: FrameResult) -> None:
        faces = result.records()
        add_frame(self._series, len(self.meta.classes), float(result.frame.timestamp), faces)
        for face in faces:
            if face.person_id is not None:
                self._person[face.track_id] = face.person_id

    def _name(self, tid: int) -> str:
        pid = self._person.get(tid)
        return f"track {tid}" if pid is None else f"person {pid}, track {tid}"

    def close(self) -> list[Path]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        classes = self.meta.classes
        self.folder.mkdir(parents=True, exist_ok=True)
        for tid, series in sorted(self._series.items()):
            if len(series) < self.min_frames:
                continue
            t = series.t
            p = series.probs
            long = len(series) > LINE_MAX_FRAMES
            fig, (ax, ax2) = plt.subplots(2, 1, figsize=(14 if long else 10, 4.5), sharex=True,
                                          gridspec_kw={"height_ratios": [5, 1]})
            if long:
                self._windowed(ax, ax2, tid, t, p)
                self._save(fig, tid)
                continue
            for k, c in enumerate(classes):
                b, g, r = COLORS.get(c, (0, 0, 0))
                ax.plot(t, p[:, k], label=c, color=(r / 255, g / 255, b / 255), lw=1.4)
            ax.set_ylim(0, 1)
            ax.set_ylabel("probability")
            ax.set_title(f"{self._name(tid)}: {self.meta.analyzer.get('temporal_stage', '')} probabilities")
            _legend(ax)
            fl = series.labels
            cols = [tuple(v / 255 for v in COLORS.get(classes[k], (0, 0, 0))[::-1]) for k in fl]
            ax2.scatter(t, np.zeros_like(t), c=cols, marker="|", s=200)
            ax2.set_yticks([])
            ax2.set_ylabel("frame\nmodel", fontsize=7)
            _time_axis(ax2, t)
            self._save(fig, tid)
        return list(self._written)

    def _save(self, fig: object, tid: int) -> None:
        import matplotlib.pyplot as plt

        fig.tight_layout()
        final = self.folder / self.pattern.format(track=tid)
        tmp = self._tmp = atomic_path(final)  # remembered, so an abort mid-save removes it
        fig.savefig(tmp, dpi=90, format="png")
        plt.close(fig)
        self._written.append(publish(tmp, final))

    def _windowed(self, ax: object, ax2: object, tid: int, t: np.ndarray, p: np.ndarray) -> None:
        """Stacked shares per window and the dominant-label strip (long tracks)."""
        classes = self.meta.classes
        w = windows(t, p)
        x = np.stack([w.start, w.end], 1).ravel()  # steps: each window flat over its span
        shares = np.nan_to_num(np.repeat(w.shares, 2, axis=0))
        ax.stackplot(x, shares.T, labels=classes, colors=[_rgb(c) for c in classes], linewidth=0)
        ax.set_ylim(0, 1)
        ax.set_ylabel("share")
        ax.set_title(f"{self._name(tid)}: emotion share per {w.width_s:g} s window "
                     f"({self.meta.analyzer.get('temporal_stage', '')}, {len(t)} frames)")
        _legend(ax)
        for s0, s1, d in zip(w.start, w.end, w.dominant, strict=True):
            if d >= 0:
                ax2.axvspan(s0, s1, color=_rgb(classes[d]), lw=0)
        ax2.set_yticks([])
        ax2.set_ylabel("dominant", fontsize=7)
        ax2.set_xlim(float(t.min()), float(t.max()))
        _time_axis(ax2, t)

    def abort(self) -> None:
        discard(*self._written, *([self._tmp] if self._tmp is not None else []))
