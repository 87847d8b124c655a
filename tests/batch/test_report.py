"""report.html of a collection, without a browser: the page's structure (one file, its own script, a sortable and
filterable items table that fits), the item order (folder, then name) and the numbers of the folder and manifest
column breakdowns, on a small made-up collection."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from emotrace.batch.report import write_report
from emotrace.batch.report_items import breakdown, group_columns, sort_items

CLASSES = ["happy", "sad", "neutral"]


def _row(path: str, status: str = "done", dominant: str | None = "happy", **extra) -> dict:
    shares = {c: (1.0 if c == dominant else 0.0) for c in CLASSES} if dominant else dict.fromkeys(CLASSES)
    done = status == "done"
    return {"item_id": Path(path).stem, "path": path, "status": status, "reason": None if done else "broken",
            "complete": True if done else None, "incomplete_reason": None, "frames": 3 if done else None,
            "faces": 3 if done and dominant else (0 if done else None), "tracks": 1 if done else None,
            "duration_s": 0.3, "seconds": 0.5, "dominant_emotion": dominant if done else None,
            **{f"share_{c}": v if done else None for c, v in shares.items()}, "track_results": [],
            "outputs": ["emotions.csv", "summary.json", "item.json"] if done else ["item.json"],
            "finished_utc": None, **extra}


def _study() -> list[dict]:
    """Two labelled folders and a loose photo, a manifest column `group` (2 values) and `subject` (one each)."""
    s = "/data/study"
    return [_row(f"{s}/sad/b.jpg", dominant="sad", group="B", subject="s1"),
            _row(f"{s}/happy/z.jpg", group="A", subject="s2"),
            _row(f"{s}/sad/a.jpg", dominant="happy", group="A", subject="s3"),
            _row(f"{s}/happy/c.mp4", dominant=None, group="A", subject="s4"),  # no face
            _row(f"{s}/happy/A.jpg", group="B", subject="s5"),
            _row(f"{s}/sad/broken.jpg", status="failed", group="B", subject="s6"),
            _row(f"{s}/loose.jpg", dominant="neutral", group="A", subject="s7"),
            _row(f"{s}/sad/cut.mp4", dominant="sad", group="B", subject="s8", complete=False,
                 incomplete_reason="decoding stopped at frame 23 of 72 (truncated or damaged file)")]


class _Page(HTMLParser):
    """The tags of the page, and the items table's cells row by row."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.in_items = False
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.scripts: list[str] = []
        self._script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "table":
            self.in_items = a.get("id") == "items"
        elif self.in_items and tag == "tr":
            self.rows.append([])
        elif self.in_items and tag in ("td", "th"):
            self.cell = []
        self._script = tag == "script"

    def handle_endtag(self, tag):
        if tag == "table":
            self.in_items = False
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append("".join(self.cell).strip())
            self.cell = None
        self._script = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
        if self._script:
            self.scripts.append(data)


def test_report_structure_order_and_breakdowns(tmp_path):
    rows = _study()
    page = write_report(tmp_path, rows, CLASSES, {"provenance": {"command": "emotrace batch"}})
    text = page.read_text()
    parsed = _Page()
    parsed.feed(text)
    # one self-contained file: its own style and script, nothing fetched
    assert not [a for t, a in parsed.tags if t in ("script", "img", "link") and (a.get("src") or a.get("href"))]
    assert len(parsed.scripts) == 1 and "getElementById('items')" in parsed.scripts[0]
    assert ("input", {"id": "filter", "type": "search",
                      "placeholder": "filter: any text of a row (folder, name, status, label)"}) in parsed.tags
    # the items table: fixed layout with column widths that add up to the page, folder then name
    assert "#items{table-layout:fixed}" in text
    widths = [float(a["style"].split(":")[1].rstrip("%")) for t, a in parsed.tags if t == "col"]
    assert len(widths) == 9 and sum(widths) == pytest.approx(100)
    head, *body = parsed.rows
    assert head[:3] == ["folder", "item", "status"]
    assert [r[:2] for r in body] == [["(top)", "loose.jpg"], ["happy", "A.jpg"], ["happy", "c.mp4"],
                                     ["happy", "z.jpg"], ["sad", "a.jpg"], ["sad", "b.jpg"],
                                     ["sad", "broken.jpg"], ["sad", "cut.mp4"]]
    assert body[-1][2] == "incomplete" and body[-2][2] == "failed"
    assert body[0][-1] == "csv summary item"  # compact links, not file names one per line
    assert "items/loose/emotions.csv" in text and "Incomplete items (1)" in text
    # the breakdowns: folder, and the manifest column with few values (not `subject`: one value per item)
    assert group_columns(rows) == ["folder", "group"]
    assert "Predicted label by folder" in text and "Predicted label by group" in text
    assert "Predicted label by subject" not in text
    folder = breakdown(rows, "folder", CLASSES)
    assert list(folder) == ["(top)", "happy", "sad"]
    assert folder["happy"] == {"happy": 2, "sad": 0, "neutral": 0, "no face": 1, "failed": 0}
    assert folder["sad"] == {"happy": 1, "sad": 2, "neutral": 0, "no face": 0, "failed": 1}
    assert breakdown(rows, "group", CLASSES)["B"] == {"happy": 1, "sad": 2, "neutral": 0, "no face": 0,
                                                      "failed": 1}
    # shares of the group's finished items, and the total row
    table = text[text.index("Predicted label by folder"):text.index("Predicted label by group")]
    cells = re.findall(r"<tr><td>([^<]*|<b>all</b>)</td><td class='num'>(\d+)</td>(.*?)</tr>", table)
    by = {name: (int(n), re.findall(r">(\d+) <small>(\d+)%</small>", rest)) for name, n, rest in cells}
    assert by["happy"] == (3, [("2", "67"), ("0", "0"), ("0", "0"), ("1", "33")])
    assert by["sad"] == (4, [("1", "33"), ("2", "67"), ("0", "0"), ("0", "0")])
    assert by["<b>all</b>"] == (8, [("3", "43"), ("2", "29"), ("1", "14"), ("1", "14")])


def test_one_folder_no_manifest_has_no_breakdown(tmp_path):
    rows = [_row("/x/a.jpg"), _row("/x/b.jpg", dominant="sad")]
    assert group_columns(rows) == []
    nested = [_row(f"/s/{lab}/session{k}/{lab}{k}.jpg", dominant=lab) for lab in ("happy", "sad") for k in (1, 2)]
    assert group_columns(nested) == ["folder", "top folder"]  # labelled folders with sessions inside
    assert breakdown(nested, "top folder", CLASSES)["sad"] == {"happy": 0, "sad": 2, "neutral": 0, "no face": 0,
                                                                "failed": 0}
    assert [r["path"] for r in sort_items(rows[::-1])] == ["/x/a.jpg", "/x/b.jpg"]
    assert "Predicted label by" not in write_report(tmp_path, rows, CLASSES, {}).read_text()


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_the_page_script_parses(tmp_path):
    page = write_report(tmp_path, _study(), CLASSES, {}).read_text()
    script = page[page.index("<script>") + 8:page.index("</script>")]
    (tmp_path / "page.js").write_text(script)
    subprocess.run(["node", "--check", str(tmp_path / "page.js")], check=True)
