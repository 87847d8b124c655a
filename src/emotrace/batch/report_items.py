"""The parts of report.html that grow with the collection: the items table (folder then name, sortable and
filterable in the page, fitted to its width) and the breakdowns of folder, or a manifest column, against the
predicted label, the table a study laid out in labelled folders is read by first (issue 24)."""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from emotrace.batch.collection import ITEM_FIELDS

MAX_GROUPS = 60  # a column with more distinct values (a subject id, a file name) is no breakdown
TOP = "(top)"  # the folder of items directly under the inputs' common folder
TOP_FOLDER = "top folder"  # the first folder under the common one (a label, when sessions sit inside it)
NO_FACE, FAILED = "no face", "failed"
# Not manifest columns: the collection row's own fields.
OWN = {*ITEM_FIELDS, "track_results", "outputs", "finished_utc", "collection_person_ids", "persons_note"}

SCRIPT = """(function(){
var t=document.getElementById('items');if(!t)return;var tb=t.tBodies[0],rows=Array.prototype.slice.call(tb.rows);
var f=document.getElementById('filter'),n=document.getElementById('shown');
function show(){var q=f.value.toLowerCase(),k=0;rows.forEach(function(r){
var ok=!q||r.textContent.toLowerCase().indexOf(q)>=0||(r.title||'').toLowerCase().indexOf(q)>=0;
r.style.display=ok?'':'none';if(ok)k++;});n.textContent=k+' of '+rows.length+' shown';}
f.addEventListener('input',show);
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){th.addEventListener('click',function(){
var up=th.getAttribute('aria-sort')!=='ascending';
Array.prototype.forEach.call(t.tHead.rows[0].cells,function(h){h.removeAttribute('aria-sort');});
th.setAttribute('aria-sort',up?'ascending':'descending');
function key(r){var c=r.cells[i],v=c.getAttribute('data-v');return v===null?c.textContent:v;}
var num=th.classList.contains('num');
rows.sort(function(a,b){var x=key(a),y=key(b),d;
if(num){x=x===''?-1:parseFloat(x);y=y===''?-1:parseFloat(y);d=x-y;}else{d=x<y?-1:x>y?1:0;}
return up?d:-d;});rows.forEach(function(r){tb.appendChild(r);});});});show();})();"""

CSS = """#items{table-layout:fixed}#items td{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
#items th{cursor:pointer;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;user-select:none}
#items th[aria-sort=ascending]::after{content:" \\25B2"}#items th[aria-sort=descending]::after{content:" \\25BC"}
#items td.links{white-space:normal;font-size:12px}#items .bar{min-width:0;height:12px;margin-top:3px}
.breakdown td.cell{text-align:right;white-space:nowrap}.breakdown small{color:#666}
input#filter{font:inherit;padding:3px 6px;width:24em;margin-right:1em}.incomplete{color:#8a5a00}"""

# Column widths of the items table (it fits the page: long paths end in an ellipsis, the full path is the tooltip).
COLUMNS = [("folder", "15%", ""), ("item", "22%", ""), ("status", "8%", ""), ("frames", "7%", "num"),
           ("faces", "5%", "num"), ("tracks", "6%", "num"), ("dominant", "8%", ""), ("labels", "10%", ""),
           ("outputs", "19%", "")]


def _e(v: Any) -> str:
    return html.escape("" if v is None else str(v))


def common_folder(rows: list[dict[str, Any]]) -> str:
    """The deepest folder holding every item: folders are named from there, so a study's own layout shows."""
    parents = [os.path.dirname(str(r["path"])) for r in rows]
    try:
        return os.path.commonpath(parents) if parents else ""
    except ValueError:  # relative and absolute paths mixed (never from collect_items)
        return ""


def folder_of(row: dict[str, Any], root: str) -> str:
    """The item's folder relative to `root`, `(top)` for an item directly in it."""
    parent = os.path.dirname(str(row["path"]))
    rel = os.path.relpath(parent, root) if root else parent
    return TOP if rel in (".", "") else PurePath(rel).as_posix()


def sort_items(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Folder, then name: each folder's items together, in the order a file browser shows them."""
    root = common_folder(rows)
    return sorted(rows, key=lambda r: (folder_of(r, root) != TOP, folder_of(r, root).lower(),
                                       os.path.basename(str(r["path"])).lower(), str(r["path"])))


def group_columns(rows: list[dict[str, Any]]) -> list[str]:
    """What the items can be broken down by: the folder when there are several, then every manifest column with
    2 to MAX_GROUPS distinct values and two items a value on average (not an id such as a subject per item)."""
    root = common_folder(rows)
    folders = {folder_of(r, root) for r in rows}
    out = ["folder"] if len(folders) > 1 else []
    if 1 < len({_top(f) for f in folders}) < len(folders):  # labelled folders with sessions (or more) inside
        out.append(TOP_FOLDER)
    meta = [k for r in rows for k in r if k not in OWN and not k.startswith("share_")]
    for k in dict.fromkeys(meta):
        if 1 < len({_group_value(r.get(k)) for r in rows}) <= min(MAX_GROUPS, len(rows) / 2):
            out.append(k)
    return out


def _top(folder: str) -> str:
    return folder.split("/", 1)[0]


def _group_value(v: Any) -> str:
    return "(none)" if v is None or v != v else str(v)  # v != v: NaN


def breakdown(rows: list[dict[str, Any]], column: str, classes: list[str]) -> dict[str, dict[str, int]]:
    """Items per (group, predicted label): for each value of `column` ('folder' or a manifest column), how many
    finished items have each dominant emotion, how many no face, how many failed; in sorted group order."""
    root = common_folder(rows)
    key: Callable[[dict[str, Any]], str] = (
        (lambda r: folder_of(r, root)) if column == "folder" else (lambda r: _top(folder_of(r, root)))
        if column == TOP_FOLDER else (lambda r: _group_value(r.get(column))))
    table: dict[str, dict[str, int]] = {}
    for r in rows:
        counts = table.setdefault(key(r), dict.fromkeys([*classes, NO_FACE, FAILED], 0))
        if r["status"] == "failed":
            counts[FAILED] += 1
        elif r["status"] == "done":
            dom = r.get("dominant_emotion")
            counts[dom if dom in counts else NO_FACE] += 1
    return dict(sorted(table.items(), key=lambda kv: (kv[0] != TOP, kv[0].lower())))


def breakdown_html(rows: list[dict[str, Any]], column: str, classes: list[str], color: Callable[[str], str]) -> str:
    """The breakdown as a table: counts, and each label's share of the group's finished items (shaded by it)."""
    table = breakdown(rows, column, classes)
    cols = [*classes, NO_FACE]
    head = "".join(f"<th class='num'>{_e(c)}</th>" for c in [*cols, FAILED])
    out = [f"<table class='breakdown'><tr><th>{_e(column)}</th><th class='num'>items</th>{head}</tr>"]
    total = {c: sum(counts[c] for counts in table.values()) for c in [*cols, FAILED]}
    for group, counts in [*table.items(), ("all", total)]:
        finished = sum(counts[c] for c in cols)
        cells = []
        for c in cols:
            share = counts[c] / finished if finished else 0.0
            shade = f" style='background:{color(c)}{int(share * 0x66):02x}'" if c in classes and share else ""
            cells.append(f"<td class='cell'{shade}>{counts[c]} <small>{100 * share:.0f}%</small></td>")
        name = f"<b>{_e(group)}</b>" if counts is total else _e(group)
        out.append(f"<tr><td>{name}</td><td class='num'>{finished + counts[FAILED]}</td>{''.join(cells)}"
                   f"<td class='cell'>{counts[FAILED]}</td></tr>")
    return "".join(out) + "</table>"


def link_label(name: str) -> str:
    """A short link text: emotions.csv -> csv, summary.json -> summary, item.json -> item."""
    stem, _, ext = name.partition(".")
    return ext if stem == "emotions" else stem


def items_table(rows: list[dict[str, Any]], classes: list[str], bar: Callable[[dict[str, float]], str]) -> str:
    """Every item (folder, then name), with a filter box; a click on a heading sorts by it, in the page."""
    root = common_folder(rows)
    cols = "".join(f"<col style='width:{w}'>" for _, w, _ in COLUMNS)
    head = "".join(f"<th class='{cls}' title='sort by {n}'>{n}</th>" for n, _, cls in COLUMNS)
    out = ["<p><input id='filter' type='search' placeholder='filter: any text of a row (folder, name, status, "
           "label)'><span id='shown'></span></p>",
           f"<table id='items'><colgroup>{cols}</colgroup><thead><tr>{head}</tr></thead><tbody>"]
    paths = {r["item_id"]: r["path"] for r in rows}
    for r in rows:
        path, folder = str(r["path"]), folder_of(r, root)
        sh = {c: r.get(f"share_{c}") or 0 for c in classes}
        status, cls, why = r["status"], r["status"], r.get("reason")
        if status == "done" and r.get("complete") is False:
            status, cls, why = "incomplete", "incomplete", r.get("incomplete_reason")
        if r.get("duplicate_of"):
            why = f"same bytes as {paths.get(r['duplicate_of'], r['duplicate_of'])} (analysed once, as that item)"
        base = f"items/{r['item_id']}/"
        links = " ".join(f"<a href='{_e(base + o)}' title='{_e(o)}'>{_e(link_label(o))}</a>"
                         for o in r.get("outputs") or [])
        out.append(f"<tr title='{_e(path)}'><td title='{_e(folder)}'>{_e(folder)}</td>"
                   f"<td title='{_e(path)}'>{_e(os.path.basename(path))}</td>"
                   f"<td class='{_e(cls)}' title='{_e(why)}'>{_e(status)}</td>"
                   + "".join(f"<td class='num' data-v='{_e(r.get(k))}'>{_e(r.get(k))}</td>"
                             for k in ("frames", "faces", "tracks"))
                   + f"<td>{_e(r.get('dominant_emotion'))}</td>"
                   f"<td data-v='{max(sh.values()) if any(sh.values()) else ''}'>"
                   f"{bar(sh) if any(sh.values()) else ''}</td><td class='links'>{links}</td></tr>")
    return "".join(out) + "</tbody></table>"
