"""The pages' rough edges of issue 17 (item 13) in headless Chromium, against a server that needs a token: the
token box, an image job shown as an annotated image, warnings, processing time without "~", the column chooser,
a delete that asks first, polling that survives failed requests, the no-face notice on /live, the favicon."""

from __future__ import annotations

import cv2
import httpx
import numpy as np
import pytest

from tests.helpers import astronaut_frames
from tests.web.server import Server
from tests.web.test_browser import CHROMEDRIVER, CHROMIUM, chrome, wait

TOKEN = "ux-token"

pytestmark = pytest.mark.skipif(not (__import__("pathlib").Path(CHROMIUM).exists()
                                     and __import__("pathlib").Path(CHROMEDRIVER).exists()),
                                reason="Debian's chromium and chromium-driver not installed (setup.sh --test-tools)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("ux") / "data", "--token", TOKEN)
    yield srv
    assert srv.stop(), srv.log()[-3000:]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ux-files")
    cv2.imwrite(str(root / "face.jpg"), astronaut_frames(1, size=(480, 360))[0])
    cv2.imwrite(str(root / "wall.png"), np.full((240, 320, 3), 90, np.uint8))
    return root


def _login(driver, server) -> None:
    """A shared link with the token: the page trades it for the session cookie and drops it from the address."""
    driver.get(f"{server.url}/?token={TOKEN}")
    wait(driver, lambda d: any(c["name"] == "emotrace_session" for c in d.get_cookies()))
    assert "token" not in driver.current_url


def _upload(driver, path) -> None:
    driver.find_element("id", "file").send_keys(str(path))
    driver.find_element("id", "submit").click()
    wait(driver, lambda d: "/jobs/" in d.current_url)
    wait(driver, lambda d: d.find_element("id", "status").get_attribute("data-status") in ("done", "failed"), 300)


def test_token_image_job_warnings_columns_and_delete(server, files):
    driver = chrome()
    try:
        driver.get(server.url + "/")
        box = wait(driver, lambda d: d.find_elements("id", "token-input"))[0]  # the server needs a token
        box.send_keys(TOKEN)
        driver.find_element("css selector", "#token-form button").click()
        wait(driver, lambda d: not d.find_elements("id", "token-form") and d.find_element("id", "limits").text)

        _upload(driver, files / "face.jpg")
        assert driver.find_element("id", "status").get_attribute("data-status") == "done"
        wait(driver, lambda d: d.execute_script(
            "const i = document.getElementById('image'); return i.complete && i.naturalWidth > 0;"))
        assert driver.find_element("id", "annotated-title").text == "Annotated image"
        assert not driver.find_element("id", "video").is_displayed()
        frames = driver.find_element("id", "frames").text
        assert "~" not in frames and frames.startswith("1 frame, processed in ")
        assert not driver.find_element("id", "warnings").is_displayed()
        # Issue 24, item 1: the token is a session cookie the page cannot read, and never part of an address.
        addresses = driver.execute_script("return [...document.querySelectorAll('[src], [href]')]"
                                          ".map((e) => e.src || e.href);")
        assert addresses and not [a for a in addresses if "token" in a]
        session = [c for c in driver.get_cookies() if c["name"] == "emotrace_session"]
        assert session and session[0]["httpOnly"] and session[0]["sameSite"] == "Strict"
        assert TOKEN not in session[0]["value"] and TOKEN not in server.log()
        wait(driver, lambda d: d.find_elements("css selector", "#table tbody tr"))
        shown = lambda d: {th.get_attribute("data-column") for th in d.find_elements("css selector", "#table th")}  # noqa: E731
        assert "temporal_happy" in shown(driver) and "frame_happy" not in shown(driver)
        driver.find_element("css selector", "#columns input[data-group='frame']").click()
        assert "frame_happy" in shown(driver)
        driver.find_element("css selector", "#columns input[data-group='temporal']").click()
        assert "temporal_happy" not in shown(driver) and "label" in shown(driver)

        job_url = driver.current_url
        driver.find_element("id", "delete").click()
        driver.switch_to.alert.dismiss()  # asked first; "cancel" keeps the job
        assert driver.current_url == job_url
        driver.find_element("id", "delete").click()
        driver.switch_to.alert.accept()
        wait(driver, lambda d: d.current_url.rstrip("/") == server.url)

        _upload(driver, files / "wall.png")
        wait(driver, lambda d: d.find_element("id", "warnings").is_displayed())
        assert driver.find_element("id", "warnings").text == "no face found in the image"
    finally:
        driver.quit()


def test_job_page_keeps_polling_after_failed_requests(server, files):
    with httpx.Client(base_url=server.url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        job = c.post("/api/v1/jobs", files={"file": ("face.jpg", (files / "face.jpg").read_bytes())}).json()
    driver = chrome()
    try:
        # The first three status requests fail as if the network dropped; the page must retry, not stop.
        _login(driver, server)
        script = """
            const real = window.fetch; let failures = 0;
            window.fetch = (url, opts) => (String(url).includes('/api/v1/jobs/') && failures++ < 3)
                ? Promise.reject(new TypeError('Failed to fetch')) : real(url, opts);"""
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": script})
        driver.get(f"{server.url}/jobs/{job['id']}")
        wait(driver, lambda d: "retrying" in d.find_element("id", "error").text)
        wait(driver, lambda d: d.find_element("id", "status").get_attribute("data-status") == "done", 120)
        assert driver.find_element("id", "error").text == ""
    finally:
        driver.quit()


def test_live_page_says_when_no_face_is_found(server):
    driver = chrome("--use-fake-device-for-media-stream")  # Chromium's built-in test pattern: no face in it
    try:
        _login(driver, server)
        driver.get(server.url + "/live")
        driver.find_element("id", "start").click()
        wait(driver, lambda d: d.find_element("id", "no-face").is_displayed())
        assert "No face found" in driver.find_element("id", "no-face").text
    finally:
        driver.quit()


def test_favicon(server):
    resp = httpx.get(server.url + "/favicon.ico", timeout=60)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in resp.content
    page = httpx.get(server.url + "/", timeout=60).text
    assert 'rel="icon"' in page and httpx.get(server.url + "/static/favicon.svg", timeout=60).status_code == 200
