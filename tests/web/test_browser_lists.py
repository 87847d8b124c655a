"""Issue 24 (web 3, 4, 5, 6) in headless Chromium: a long file name no longer pushes the job list's status and
delete columns off screen (ellipsis, full name in a tooltip); the list says how many jobs there are and pages
through them; the results page shows a colour legend by the player, no file column for a one-file job, and its
download links save rather than open the file, one of them a zip of everything."""

from __future__ import annotations

from pathlib import Path

import cv2
import httpx
import pytest

from emotrace.web.store import Job, JobStore
from tests.helpers import astronaut_frames
from tests.web.server import Server, wait_job
from tests.web.test_browser import CHROMEDRIVER, CHROMIUM, chrome, wait

pytestmark = pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                                reason="Debian's chromium and chromium-driver not installed (setup.sh --test-tools)")
LONG = "an extremely long recording name from a conference room camera, with the date and the speaker " + "x" * 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    data = tmp_path_factory.mktemp("lists") / "data"
    store = JobStore(data / "jobs.sqlite3")  # 22 old failed jobs, so that the list has two pages
    for i in range(22):
        store.add(Job(id=f"{i:032x}", status="queued", filename=f"old{i}.mp4", kind="video", media="MP4",
                      input="input.mp4", size=10, created=1000.0 + i), max_queued=100)
        store.update(f"{i:032x}", status="failed", error="cannot decode")
    store.close()
    srv = Server(data)
    yield srv
    assert srv.stop(), srv.log()[-3000:]


def test_long_names_paging_legend_and_downloads(server, tmp_path):
    path = tmp_path / "face.png"
    cv2.imwrite(str(path), astronaut_frames(1, size=(480, 360))[0])
    with httpx.Client(base_url=server.url, timeout=60) as c:
        job = c.post("/api/v1/jobs", files={"file": (LONG + ".png", path.read_bytes())}).json()
        assert wait_job(c, job["id"])["status"] == "done"
    driver = chrome()
    try:
        driver.set_window_size(900, 900)
        driver.get(server.url + "/")
        wait(driver, lambda d: "of 23" in d.find_element("id", "jobs-range").text)
        assert driver.find_element("id", "jobs-range").text == "jobs 1-20 of 23"
        row = driver.find_element("css selector", f"tr[data-job='{job['id']}']")
        link = row.find_element("css selector", "td a")
        assert link.get_attribute("title") == LONG + ".png"
        width = driver.execute_script("return document.documentElement.clientWidth")
        delete = row.find_element("css selector", "button.danger")
        assert delete.rect["x"] + delete.rect["width"] <= width  # on screen, not pushed off by the name
        assert driver.execute_script("return document.documentElement.scrollWidth") <= width
        driver.find_element("id", "jobs-next").click()
        wait(driver, lambda d: d.find_element("id", "jobs-range").text == "jobs 21-23 of 23")
        assert len(driver.find_elements("css selector", "#jobs tbody tr")) == 3
        assert driver.find_element("id", "jobs-next").get_attribute("disabled")
        driver.find_element("id", "jobs-prev").click()
        wait(driver, lambda d: d.find_element("id", "jobs-range").text == "jobs 1-20 of 23")

        driver.get(f"{server.url}/jobs/{job['id']}")
        wait(driver, lambda d: d.find_elements("css selector", "#table tbody tr"))
        columns = {th.get_attribute("data-column") for th in driver.find_elements("css selector", "#table th")}
        assert "file" not in columns and "frame" in columns  # one file: no column repeating its name
        legend = [s.get_attribute("data-emotion") for s in driver.find_elements("css selector", "#legend span")]
        assert "happy" in legend and "neutral" in legend
        links = driver.find_elements("css selector", "#downloads a")
        assert links and all(a.get_attribute("download") is not None for a in links)
        assert {"image", "csv", "zip"} <= {a.get_attribute("data-format") for a in links}  # zip: every file at once
    finally:
        driver.quit()


def test_search_and_delete_the_selected_jobs(server):
    """Issue 24's suggestions: the list filters by file name (on the server, with the count) and ticked jobs are
    deleted together."""
    driver = chrome()
    try:
        driver.get(server.url + "/")
        wait(driver, lambda d: "of" in d.find_element("id", "jobs-range").text)
        driver.find_element("id", "jobs-search").send_keys("OLD1")  # old1, old10 ... old19: any case
        wait(driver, lambda d: d.find_element("id", "jobs-range").text == 'jobs 1-11 of 11 matching "OLD1"')
        assert driver.find_element("id", "jobs-delete").get_attribute("disabled")
        driver.find_element("id", "jobs-all").click()
        wait(driver, lambda d: d.find_element("id", "jobs-delete").text == "delete selected (11)")
        driver.find_element("id", "jobs-delete").click()
        driver.switch_to.alert.accept()
        wait(driver, lambda d: d.find_element("id", "jobs-range").text == 'no job matches "OLD1"')
    finally:
        driver.quit()
    with httpx.Client(base_url=server.url, timeout=60) as c:
        left = [j["filename"] for j in c.get("/api/v1/jobs", params={"limit": 100}).json()]
    assert not any(n.startswith("old1") for n in left) and "old2.mp4" in left


def test_an_upload_can_be_cancelled(server, tmp_path):
    big = tmp_path / "big.mp4"
    big.write_bytes(b"\0" * (4 << 20))  # never sent whole: the upload is slowed to 64 kB/s below
    with httpx.Client(base_url=server.url, timeout=60) as c:
        before = c.get("/api/v1/jobs").headers["x-total-count"]
    driver = chrome()
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                    "downloadThroughput": -1,
                                                                    "uploadThroughput": 64 * 1024})
        driver.get(server.url + "/")
        driver.find_element("id", "file").send_keys(str(big))
        driver.find_element("id", "submit").click()
        wait(driver, lambda d: d.find_element("id", "cancel").is_displayed())
        driver.find_element("id", "cancel").click()
        wait(driver, lambda d: d.find_element("id", "message").text == "Upload cancelled.")
        assert not driver.find_element("id", "cancel").is_displayed()
        assert driver.find_element("id", "submit").is_enabled()
    finally:
        driver.quit()
    with httpx.Client(base_url=server.url, timeout=60) as c:
        assert c.get("/api/v1/jobs").headers["x-total-count"] == before  # no job came of it
