"""An evaluation report in Markdown and HTML: every figure, the metrics table, the command, the config (YAML),
the git commit and the package version, so a number can always be traced back to the run that made it.

The Markdown references figures by relative path (they are copied next to it); the HTML embeds them as base64 so
it is one self-contained file that can be mailed or attached.
"""

from __future__ import annotations

import base64
import html
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from emotrace.provenance import provenance


def flatten_metrics(metrics: Mapping[str, Any], prefix: str = "") -> dict[str, float | int | str]:
    """Nested metric dicts -> {'a.b': scalar}; lists (confusion, per-class arrays) are left to the figures."""
    flat: dict[str, float | int | str] = {}
    for key, value in metrics.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_metrics(value, name + "."))
        elif isinstance(value, (int, float, str)) and not isinstance(value, bool):
            flat[name] = value
    return flat


def _fmt(v: float | int | str) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def write_report(out_dir: str | Path, metrics: Mapping[str, Any], figures: Sequence[str | Path] = (),
                 title: str = "emotrace evaluation", command: str | None = None,
                 config: Mapping[str, Any] | None = None, commit: str | None = None,
                 name: str = "report") -> tuple[Path, Path]:
    """Write `<name>.md` and `<name>.html` into `out_dir`; returns their paths.

    `command` and `commit` default to this process's (emotrace.provenance); `config` is written as YAML.
    Figures outside `out_dir` are copied in so the Markdown's relative links hold.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prov = provenance(dict(config or {}))
    command = prov["command"] if command is None else command
    commit = prov["commit"] if commit is None else commit
    config_yaml = yaml.safe_dump(dict(config or {}), sort_keys=False).strip() or "{}"
    figs: list[Path] = []
    for f in figures:
        src = Path(f)
        dst = out / src.name
        if src.resolve() != dst.resolve():
            shutil.copyfile(src, dst)
        figs.append(dst)
    rows = flatten_metrics(metrics)
    facts = [("command", command), ("commit", commit), ("emotrace", prov["emotrace_version"]),
             ("created (UTC)", prov["created_utc"]), ("machine", prov["machine"])]

    md = [f"# {title}", ""] + [f"- **{k}**: `{v}`" for k, v in facts] + ["", "## Metrics", "",
                                                                          "| metric | value |", "|---|---|"]
    md += [f"| {k} | {_fmt(v)} |" for k, v in rows.items()]
    md += ["", "## Figures", ""] + [f"![{p.stem}]({p.name})\n" for p in figs]
    md += ["## Config", "", "```yaml", config_yaml, "```", ""]
    md_path = out / f"{name}.md"
    md_path.write_text("\n".join(md))

    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(title)}</title>",
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}td,th{border:1px solid #ccc;"
             "padding:2px 8px}table{border-collapse:collapse}img{max-width:100%}pre{background:#f4f4f4;"
             "padding:1em}</style></head><body>", f"<h1>{e(title)}</h1><ul>"]
    parts += [f"<li><b>{e(k)}</b>: <code>{e(str(v))}</code></li>" for k, v in facts]
    parts += ["</ul><h2>Metrics</h2><table><tr><th>metric</th><th>value</th></tr>"]
    parts += [f"<tr><td>{e(k)}</td><td>{e(_fmt(v))}</td></tr>" for k, v in rows.items()]
    parts += ["</table><h2>Figures</h2>"]
    for p in figs:
        data = base64.b64encode(p.read_bytes()).decode("ascii")
        parts.append(f"<figure><img alt='{e(p.stem)}' src='data:image/png;base64,{data}'>"
                     f"<figcaption>{e(p.name)}</figcaption></figure>")
    parts += [f"<h2>Config</h2><pre>{e(config_yaml)}</pre></body></html>"]
    html_path = out / f"{name}.html"
    html_path.write_text("\n".join(parts))
    return md_path, html_path
