"""The report of a training or evaluation, in Markdown and self-contained HTML: numbers, figures, the command,
the config and the commit, so that anyone can rerun it."""

from __future__ import annotations

import base64
import html
import os
from pathlib import Path
from typing import Any

import yaml

from emotrace.provenance import provenance

_SCALARS = ("n", "rows", "accuracy", "war", "uar", "macro_f1", "ccc", "ccc_valence", "ccc_arousal", "rmse",
            "pearson", "va_n", "va_proxy", "dropped_no_class", "best_epoch", "split", "dataset", "model")


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text(text)
    os.replace(tmp, path)
    return path


def write_report(out: str | Path, title: str, metrics: dict[str, Any], figures: dict[str, Path], command: str,
                 config: dict[str, Any] | None = None, notes: list[str] | None = None) -> list[Path]:
    """report.md (figures linked) and report.html (figures embedded) in `out`."""
    out = Path(out)
    prov = provenance(config)
    rows = [(k, _fmt(metrics[k])) for k in _SCALARS if k in metrics]
    cfg_yaml = yaml.safe_dump(config, sort_keys=False) if config else "(none: evaluation of a saved model)\n"
    md = [f"# {title}", "", "| metric | value |", "|---|---|", *[f"| {k} | {v} |" for k, v in rows], ""]
    if metrics.get("per_class_recall") is not None:
        md += ["Per-class recall: " + ", ".join(f"{x:.3f}" for x in metrics["per_class_recall"]), ""]
    for note in notes or []:
        md.append(f"- {note}")
    md += ["", *[f"## {name}\n\n![{name}]({p.name})\n" for name, p in figures.items()],
           "## Reproduce", "", "```bash", command, "```", "",
           f"commit `{prov['commit']}`, emotrace {prov['emotrace_version']}, {prov['machine']}, "
           f"{prov['created_utc']}", "", "## Config", "", "```yaml", cfg_yaml.rstrip(),
           "```", ""]
    paths = [_write(out / "report.md", "\n".join(md))]
    imgs = "".join(
        f"<h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' src='data:image/png;base64,"
        f"{base64.b64encode(p.read_bytes()).decode()}'/>" for name, p in figures.items())
    table = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in rows)
    notes_html = "".join(f"<li>{html.escape(n)}</li>" for n in notes or [])
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td{padding:2px 12px}"
            "img{max-width:100%}pre{background:#f4f4f4;padding:1em}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><table>{table}</table><ul>{notes_html}</ul>{imgs}"
            f"<h2>Reproduce</h2><pre>{html.escape(command)}</pre><p>commit <code>{html.escape(str(prov.get('commit')))}"
            f"</code></p><h2>Config</h2><pre>{html.escape(cfg_yaml)}</pre></body></html>")
    paths.append(_write(out / "report.html", page))
    return paths
