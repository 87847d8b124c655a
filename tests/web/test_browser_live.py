"""The live page across a server restart (issue 24, item 2): it reconnects with backoff, and while it is
disconnected it draws no answers of before over the video. Only a browser can check the page's socket handling."""

from __future__ import annotations

import pytest

from tests.helpers import astronaut_frames, write_video
from tests.web.server import Server
from tests.web.test_browser import CHROMEDRIVER, CHROMIUM, chrome, wait

pytestmark = pytest.mark.skipif(not (__import__("pathlib").Path(CHROMIUM).exists()
                                     and __import__("pathlib").Path(CHROMEDRIVER).exists()),
                                reason="Debian's chromium and chromium-driver not installed (setup.sh --test-tools)")

OVERLAY_DRAWN = """
const o = document.getElementById('overlay');
return o.width > 0 && o.getContext('2d').getImageData(0, 0, o.width, o.height).data.some((v) => v !== 0);"""


def test_live_page_reconnects_after_a_restart_and_clears_its_overlay(tmp_path):
    # The camera shows a face (a looping clip), so the page draws boxes and bars until the server goes away.
    camera = write_video(tmp_path / "face.y4m", astronaut_frames(30, size=(640, 480)), fps=15,
                         codec=["-pix_fmt", "yuv420p"])
    data = tmp_path / "data"
    srv = Server(data)
    driver = chrome("--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}")
    status = lambda d: d.find_element("id", "status").text  # noqa: E731
    try:
        driver.get(srv.url + "/live")
        driver.find_element("id", "start").click()
        wait(driver, lambda d: d.find_elements("css selector", "#faces li") and d.execute_script(OVERLAY_DRAWN))
        assert srv.stop(), srv.log()[-3000:]
        wait(driver, lambda d: "reconnecting" in status(d))
        assert not driver.execute_script(OVERLAY_DRAWN)
        assert not driver.find_elements("css selector", "#faces li")
        srv = Server(data, port=srv.port)
        wait(driver, lambda d: status(d).startswith("connected"), 180)
        assert driver.find_element("id", "stop").is_enabled()
    finally:
        driver.quit()
        srv.stop()


def test_live_page_chooses_its_own_face_signals(tmp_path):
    """The page's "face signals" choice on a server without them: chosen before Start it is asked for as the
    socket opens, the faces' list then shows pose and blendshapes; switched off mid-session, they go."""
    from selenium.webdriver.support.ui import Select

    camera = write_video(tmp_path / "face.y4m", astronaut_frames(30, size=(640, 480)), fps=15,
                         codec=["-pix_fmt", "yuv420p"])
    srv = Server(tmp_path / "data")
    driver = chrome("--use-fake-device-for-media-stream", f"--use-file-for-fake-video-capture={camera}")
    status = lambda d: d.find_element("id", "status").text  # noqa: E731
    signal_lines = lambda d: [e.text for e in d.find_elements("css selector", "#faces li .signals")]  # noqa: E731
    try:
        driver.get(srv.url + "/live")
        Select(driver.find_element("id", "signals")).select_by_value("1")
        driver.find_element("id", "start").click()
        wait(driver, lambda d: "face signals every 1 frames" in status(d))
        wait(driver, lambda d: any("yaw" in line for line in signal_lines(d)))
        Select(driver.find_element("id", "signals")).select_by_value("0")
        wait(driver, lambda d: status(d) == "connected: analysing")
        wait(driver, lambda d: d.find_elements("css selector", "#faces li") and not signal_lines(d))
    finally:
        driver.quit()
        assert srv.stop(), srv.log()[-3000:]
