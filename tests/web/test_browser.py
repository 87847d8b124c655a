"""The pages in a real browser: headless Chromium (Debian's, driven through /usr/bin/chromedriver) uses the live
page with its fake camera fed from a clip of ../shared/media, and the upload flow with a clip from there too.
Screenshots go to artifacts/web/ (gitignored) so a person can look at the boxes and labels."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from emotrace.labels import EMOTIONS
from tests.helpers import MEDIA, REPO, ffmpeg, needs_shared
from tests.web.server import Server

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = REPO / "artifacts" / "web"

pytestmark = [
    needs_shared,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
                       reason="Debian's chromium and chromium-driver not installed (scripts/setup.sh --test-tools)"),
]
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium not installed (pip install -e .[dev])")


def chrome(*extra: str):
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--mute-audio",
                "--window-size=1280,1100", "--use-fake-ui-for-media-stream", *extra):
        opts.add_argument(arg)
    # An explicit driver path: Selenium Manager is never asked to download a driver or a browser.
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=opts)


def wait(driver, cond, limit_s: float = 120.0):
    """Poll `cond` until it holds; a page that re-renders a list between finding an element and reading it
    (the live page, every frame) makes that poll stale, not failed: it is polled again."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, limit_s, poll_frequency=0.2,
                         ignored_exceptions=(StaleElementReferenceException,)).until(cond)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("browser") / "data")
    yield srv
    assert srv.stop(), srv.log()[-3000:]


@pytest.fixture(scope="module")
def artifacts():
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


def test_live_page_draws_boxes_and_labels_from_the_fake_camera(server, tmp_path, artifacts):
    clip = tmp_path / "clip.y4m"  # Chromium's fake camera plays y4m (raw 4:2:0) in a loop
    subprocess.run([ffmpeg(), "-y", "-loglevel", "error", "-i", str(MEDIA / "WolfgangLanger_Pexels.mp4"), "-t", "3",
                    "-vf", "scale=640:480,fps=30", "-pix_fmt", "yuv420p", str(clip)], check=True)
    driver = chrome("--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={clip}")
    try:
        driver.get(server.url + "/live")
        driver.find_element("id", "start").click()
        wait(driver, lambda d: int(d.find_element("id", "count").text) >= 90
             and d.find_elements("css selector", "#faces li"))
        # One snapshot of the page (the list and the overlay are redrawn on every answer).
        snap = driver.execute_script("""
            const c = document.getElementById('overlay');
            const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0; for (let i = 3; i < px.length; i += 4) if (px[i] > 0) n++;
            const li = document.querySelector('#faces li');
            return {faces: Number(c.dataset.faces), painted: n, w: c.width, h: c.height,
                    label: li && li.dataset.label, text: li && li.querySelector('strong').textContent};""")
        ups = driver.find_element("id", "ups").text
        latency = driver.find_element("id", "lat").text
        p50 = driver.find_element("id", "p50").text
        driver.save_screenshot(str(artifacts / "live.png"))
        seen = int(driver.find_element("id", "count").text)
        driver.find_element("id", "stop").click()
        driver.find_element("id", "start").click()  # a new session: its figures start afresh
        restarted = int(driver.find_element("id", "count").text)
        (artifacts / "live.txt").write_text(f"updates/s {ups}, latency mean {latency} ms, label {snap['label']}\n")
    finally:
        driver.quit()
    assert snap["label"] in EMOTIONS
    assert snap["text"].startswith("#") and snap["label"] in snap["text"]
    assert snap["faces"] >= 1, "no face in the last answer"
    assert snap["painted"] > 500, "nothing drawn on the overlay"
    assert (snap["w"], snap["h"]) == (640, 480)
    assert float(ups) > 0 and float(latency) > 0 and float(p50) > 0
    assert restarted < seen


def test_upload_flow_shows_video_charts_table_and_downloads(server, artifacts):
    driver = chrome()
    try:
        driver.get(server.url + "/")
        driver.find_element("id", "file").send_keys(str(MEDIA / "single_face.mp4"))
        driver.find_element("id", "submit").click()
        wait(driver, lambda d: "/jobs/" in d.current_url)
        wait(driver, lambda d: d.find_element("id", "status").get_attribute("data-status") in ("done", "failed"), 300)
        status = driver.find_element("id", "status").get_attribute("data-status")
        error = driver.find_element("id", "error").text
        assert status == "done", error
        wait(driver, lambda d: d.find_elements("css selector", "#table tbody tr"))
        wait(driver, lambda d: d.execute_script(
            "const i = document.querySelector('#timelines img'); return i && i.complete && i.naturalWidth > 0;"))
        # The annotated H.264 video must decode in the browser: seek into it and wait for the frame.
        wait(driver, lambda d: d.execute_script("return document.getElementById('video').readyState >= 1;"))
        driver.execute_script("const v = document.getElementById('video'); v.currentTime = v.duration / 2;")
        wait(driver, lambda d: d.execute_script(
            "const v = document.getElementById('video'); return !v.seeking && v.readyState >= 2 && v.videoWidth > 0;"))
        mostly = [td.text for td in driver.find_elements("css selector", "#tracks tbody td:last-child")]
        # Person linking is on by default: one row per person above the tracks, each track naming its person.
        persons = [tr.get_attribute("data-person") for tr in driver.find_elements("css selector", "#persons tbody tr")]
        track_persons = [td.get_attribute("data-person") for td in
                         driver.find_elements("css selector", "#tracks tbody td[data-person]")]
        shares = driver.find_elements("css selector", "#persons tbody .shares span")
        header = [th.text for th in driver.find_elements("css selector", "#table thead tr:last-child th")]
        first_row = [td.text for td in driver.find_elements("css selector", "#table tbody tr:first-child td")]
        formats = {a.get_attribute("data-format") for a in driver.find_elements("css selector", "#downloads a")}
        driver.save_screenshot(str(artifacts / "upload_results.png"))
        driver.find_element("id", "video").screenshot(str(artifacts / "upload_video.png"))
    finally:
        driver.quit()
    assert mostly and all(m in EMOTIONS for m in mostly)
    assert persons and set(track_persons) == set(persons) and len(track_persons) == len(mostly) and shares
    assert first_row[header.index("label")] in EMOTIONS
    assert {"csv", "parquet", "json", "video"} <= formats


def test_artifacts_folder_is_ignored_by_git():
    if shutil.which("git") is None or not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "check-ignore", "-q", str(ARTIFACTS / "live.png")], cwd=REPO)
    assert out.returncode == 0
