"""The upload form's face-signals choice in a real browser: the default names the server's setting, a job asked for
"every frame" says so on its page and shows the signal charts, one asked for "off" shows none."""

from __future__ import annotations

import pytest

from tests.helpers import MEDIA, needs_shared
from tests.web.server import Server
from tests.web.test_browser import CHROMEDRIVER, CHROMIUM, chrome, wait

pytestmark = [needs_shared, pytest.mark.skipif(
    not (__import__("pathlib").Path(CHROMIUM).exists() and __import__("pathlib").Path(CHROMEDRIVER).exists()),
    reason="Debian's chromium and chromium-driver not installed (scripts/setup.sh --test-tools)")]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("browser-signals") / "data", "--signals", "2")
    yield srv
    assert srv.stop(), srv.log()[-3000:]


def _submit(driver, url: str, choice: str) -> None:
    """Upload the shared one-face photo with the form's face-signals `choice` and wait for the job to finish."""
    from selenium.webdriver.support.ui import Select

    driver.get(url + "/")
    preset = driver.find_element("css selector", '#signals option[value=""]')
    wait(driver, lambda d: "every 2nd frame" in preset.text)  # the default says what the server does
    Select(driver.find_element("id", "signals")).select_by_value(choice)
    driver.find_element("id", "file").send_keys(str(MEDIA / "single_face.jpg"))
    driver.find_element("id", "submit").click()
    wait(driver, lambda d: "/jobs/" in d.current_url)
    wait(driver, lambda d: d.find_element("id", "status").get_attribute("data-status") in ("done", "failed"), 300)
    assert driver.find_element("id", "status").get_attribute("data-status") == "done", \
        driver.find_element("id", "error").text
    wait(driver, lambda d: d.find_elements("css selector", "#table tbody tr"))


def test_the_form_choice_reaches_the_job_page(server):
    driver = chrome()
    try:
        _submit(driver, server.url, "1")
        assert "face signals every frame" in driver.find_element("id", "frames").text
        wait(driver, lambda d: d.find_element("id", "signals").is_displayed())
        _submit(driver, server.url, "0")
        assert "face signals off" in driver.find_element("id", "frames").text
        header = [th.get_attribute("data-column") for th in
                  driver.find_elements("css selector", "#table thead tr:last-child th")]
        assert "label" in header and not any(c.startswith("bs_") for c in header)
        assert not driver.find_element("id", "signals").is_displayed()
    finally:
        driver.quit()
