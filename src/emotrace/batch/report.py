"""report.html: one self-contained page for a collection (its own inline style and script, nothing fetched):
counts, emotion distributions, folder (or manifest column) against predicted label, the slowest, failed and
incomplete items, the people seen across items (`persons.py`), and every item with links to its outputs
(`report_items.py`)."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from emotrace.batch.duplicates import DUPLICATE
from emotrace.batch.report_items import CSS as ITEMS_CSS
from emotrace.batch.report_items import (
    SCRIPT,
    breakdown_html,
    common_folder,
    group_columns,
    items_table,
    sort_items,
)
from emotrace.outputs import output_file
from emotrace.sinks.report import css_color

MAX_LISTED = 2000  # items listed one by one; the rest are in collection.parquet

_CSS = """body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}
h1{font-size:22px}h2{font-size:17px;margin-top:1.8em}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}th{background:#f4f4f4}
.num{text-align:right}.bar{display:flex;height:18px;border-radius:3px;overflow:hidden;min-width:300px}
.bar span{display:block;height:100%}.failed{color:#b00020}.kv td:first-child{color:#666;width:220px}
.legend span{display:inline-block;width:11px;height:11px;margin:0 4px 0 12px;vertical-align:middle}
code{font-size:12px;background:#f4f4f4;padding:1px 3px}td.path{overflow-wrap:anywhere}"""


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def _bar(shares: dict[str, float]) -> str:
    parts = "".join(f'<span style="width:{100 * v:.2f}%;background:{css_color(c)}" '
                    f'title="{_e(c)} {100 * v:.1f}%"></span>' for c, v in shares.items() if v)
    return f'<div class="bar">{parts}</div>'


def _legend(classes: list[str]) -> str:
    return '<p class="legend">' + "".join(f'<span style="background:{css_color(c)}"></span>{_e(c)}'
                                          for c in classes) + "</p>"


def write_report(root: Path, rows: list[dict[str, Any]], classes: list[str], meta: dict[str, Any],
                 persons: list[dict[str, Any]] | None = None) -> Path:
    """Write `root/report.html` (temp file then rename) and return its path. `persons`: the collection's people
    (persons.parquet's rows), listed in their own section."""
    done = [r for r in rows if r["status"] == "done"]
    failed = [r for r in rows if r["status"] == "failed"]
    dups = [r for r in rows if r["status"] == DUPLICATE]
    pending = [r for r in rows if r["status"] not in ("done", "failed", DUPLICATE)]
    paths = {r["item_id"]: r["path"] for r in rows}
    frames = sum(r["frames"] or 0 for r in done)
    faces = sum(r["faces"] or 0 for r in done)
    duration = sum(r["duration_s"] or 0 for r in done)
    secs = sum(r["seconds"] or 0 for r in done)
    totals = dict.fromkeys(classes, 0.0)
    by_item = dict.fromkeys(classes, 0)
    for r in done:
        for c in classes:
            totals[c] += (r.get(f"share_{c}") or 0) * (r["faces"] or 0)
        if r.get("dominant_emotion") in by_item:
            by_item[r["dominant_emotion"]] += 1
    face_total = sum(totals.values())
    shares = {c: totals[c] / face_total for c in classes} if face_total else {}
    out: list[str] = [f"<!doctype html><html><head><meta charset='utf-8'><title>emotrace collection: "
                      f"{_e(root.name)}</title><style>{_CSS}\n{ITEMS_CSS}</style></head><body>",
                      f"<h1>emotrace collection — {_e(root.name)}</h1>"]
    prov = meta.get("provenance", {})
    kv = [("items", len(rows)), ("done", len(done)), ("failed", len(failed)), ("pending (rerun to finish)",
          len(pending)), ("duplicates (same bytes as another item: analysed and counted once)", len(dups)),
          ("frames analysed", frames), ("faces (rows with a face)", faces),
          ("media duration", f"{duration:.1f} s"), ("analysis time (sum over items)", f"{secs:.1f} s"),
          ("engine", meta.get("engine", {}).get("engine")), ("command", prov.get("command")),
          ("emotrace", prov.get("emotrace_version")), ("commit", prov.get("commit")),
          ("written", prov.get("created_utc"))]
    out.append('<table class="kv">' + "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in kv)
               + "</table>")
    out.append("<h2>Emotions over all faces</h2>")
    if shares:
        out.append(_legend(classes) + _bar(shares) + "<table><tr>" + "".join(f"<th>{_e(c)}</th>" for c in classes)
                   + "</tr><tr>" + "".join(f'<td class="num">{100 * shares[c]:.1f}%</td>' for c in classes)
                   + "</tr></table>")
        out.append("<h2>Items by their dominant emotion</h2><table><tr>"
                   + "".join(f"<th>{_e(c)}</th>" for c in classes) + "</tr><tr>"
                   + "".join(f'<td class="num">{by_item[c]}</td>' for c in classes) + "</tr></table>")
    else:
        out.append("<p>No faces in any finished item.</p>")
    for column in group_columns(rows):
        out.append(f"<h2>Predicted label by {_e(column)}</h2><p>Items by their dominant emotion; the share is of "
                   "the group's finished items (those with no face included). A file under several names counts "
                   "once, where the copy analysed lies (the others are listed under Duplicates).</p>"
                   + breakdown_html(rows, column, classes, css_color))
    out += people_html(persons or [], rows, classes)
    out += _listed("Failed items", "", ["path", "reason"], failed, lambda r: (
        f'<td class="path">{_e(r["path"])}</td><td class="failed">{_e(r["reason"])}</td>'))
    out += _listed("Incomplete items", "<p>Truncated or damaged: the frames that decoded are analysed and in the "
                   "rows.</p>", ["path", "frames", "why"], [r for r in done if r.get("complete") is False],
                   lambda r: (f'<td class="path">{_e(r["path"])}</td><td class="num">{_e(r["frames"])}</td>'
                              f'<td>{_e(r.get("incomplete_reason"))}</td>'))
    out += _listed("Duplicates", "<p>The same bytes as another item: analysed once, as that item; their rows and "
                   "counts are its own.</p>", ["path", "same as"], dups,
                   lambda r: (f'<td class="path">{_e(r["path"])}</td>'
                              f'<td class="path">{_e(paths.get(r["duplicate_of"]))}</td>'))
    out += slowest_html(done)
    more = f" (first {MAX_LISTED}; all are in collection.parquet)" if len(rows) > MAX_LISTED else ""
    out.append(f"<h2>Items{more}</h2>" + _legend(classes)
               + items_table(sort_items(rows)[:MAX_LISTED], classes, _bar))
    out.append("<p>Files: <code>collection.parquet</code> / <code>collection.json</code> (one row per item), "
               "<code>rows/</code> (Parquet dataset, one row per item, frame and face), <code>items/&lt;id&gt;/"
               "</code> (each item's outputs and record)" + ("; <code>persons.parquet</code> (one row per person "
               "across items), <code>person_items.parquet</code> (each item's persons with their collection person: "
               "join with <code>rows/</code> on item_id and person_id)" if persons else "") + ".</p>")
    out.append(f"<script>{SCRIPT}</script></body></html>")
    path = root / output_file("report")  # the collection's page, named like a run's report (the registry's name)
    tmp = path.with_name(f".{path.name}.part")
    tmp.write_text("\n".join(out), encoding="utf-8")
    os.replace(tmp, path)
    return path


SLOWEST = 15


def people_html(persons: list[dict[str, Any]], rows: list[dict[str, Any]], classes: list[str]) -> list[str]:
    """The collection's people: each with its identity or how it was linked, the items it was seen in, its time
    on screen and its emotions over all those items' frames. Nothing when person linking was off everywhere."""
    if not persons:
        return []
    paths = {r["item_id"]: r["path"] for r in rows}
    root = common_folder(rows)
    unlinked = sum(1 for r in rows if r.get("persons_note"))
    out = [f"<h2>People across items ({len(persons)})</h2><p>Each item's persons linked by face (average "
           "linkage of their mean descriptors; two persons of one item are never joined) or by the identity "
           "column. One person may still be two ids (another pose or light); see persons.parquet and "
           "person_items.parquet." + (f" {unlinked} item(s) not linked (their person ids stay per item: "
                                      "see collection.parquet's persons_note)." if unlinked else "") + "</p>",
           _legend(classes), "<table><tr><th>person</th><th>identity / linked by</th><th>items</th>"
           "<th>seen in</th><th>on screen (s)</th><th>frames</th><th>emotions</th><th>mostly</th></tr>"]
    for p in persons[:MAX_LISTED]:
        seen = [os.path.relpath(str(paths.get(i, i)), root) if root else str(paths.get(i, i))
                for i in dict.fromkeys(p["item_ids"])]
        shares = {c: p.get(f"share_{c}") or 0.0 for c in classes}
        out.append(f'<tr><td>P{p["collection_person_id"]}</td><td>{_e(p["identity"] or p["basis"])}</td>'
                   f'<td class="num">{p["items"]}</td><td class="path">{_e(", ".join(seen[:5]))}'
                   f'{_e(f" and {len(seen) - 5} more") if len(seen) > 5 else ""}</td>'
                   f'<td class="num">{p["seconds"]:.1f}</td><td class="num">{p["frames"]}</td>'
                   f'<td>{_bar(shares)}</td><td>{_e(p["dominant_emotion"])}</td></tr>')
    out.append("</table>")
    return out


def slowest_html(done: list[dict[str, Any]]) -> list[str]:
    """The slowest videos by frames/s and the slowest photos by seconds (a one-frame item's frames/s says nothing
    of speed), each worker's first item left out: its time includes the worker's warm-up."""
    timed = [r for r in done if r["seconds"] and not r.get("first_on_worker")]
    videos = sorted((r for r in timed if (r["frames"] or 0) > 1), key=lambda r: r["frames"] / r["seconds"])
    photos = sorted((r for r in timed if (r["frames"] or 0) <= 1), key=lambda r: -r["seconds"])
    note = ("<p>Each worker's first item is left out: its time includes the worker's warm-up (first inference, "
            f"caches). {sum(1 for r in done if r.get('first_on_worker'))} such item(s).</p>")
    out = []
    if videos:
        out.append("<h2>Slowest videos (fewest frames per second)</h2>" + note + "<table><tr><th>path</th>"
                   "<th>frames/s</th><th>frames</th><th>seconds</th></tr>")
        out += [f'<tr><td class="path">{_e(r["path"])}</td><td class="num">{r["frames"] / r["seconds"]:.1f}</td>'
                f'<td class="num">{r["frames"]}</td><td class="num">{r["seconds"]:.2f}</td></tr>'
                for r in videos[:SLOWEST]]
        out.append("</table>")
    if photos:
        out.append("<h2>Slowest photos (seconds each)</h2>" + ("" if videos else note)
                   + "<table><tr><th>path</th><th>seconds</th></tr>")
        out += [f'<tr><td class="path">{_e(r["path"])}</td><td class="num">{r["seconds"]:.2f}</td></tr>'
                for r in photos[:SLOWEST]]
        out.append("</table>")
    return out


def _listed(title: str, intro: str, headers: list[str], items: list[dict[str, Any]],
            cells: Callable[[dict[str, Any]], str]) -> list[str]:
    """A titled table of some items (failed, incomplete, duplicates): the first `MAX_LISTED`; nothing if none."""
    if not items:
        return []
    head = "".join(f"<th>{h}</th>" for h in headers)
    return [f"<h2>{title} ({len(items)})</h2>{intro}<table><tr>{head}</tr>",
            *(f"<tr>{cells(r)}</tr>" for r in items[:MAX_LISTED]), "</table>"]
