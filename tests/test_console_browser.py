"""The console in a real browser (Debian's headless Chromium, driven by Selenium) against `auditor serve` as a
separate process: an officer appraises and a leader approves a dossier with their certificates, `auditor verify`
passes afterwards; an operator is refused the approval; a leader reads the dashboard and downloads the annual
report's PDF, which verifies. Screenshots of the main pages go to test-screenshots/ (look at them)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from auditor import clock
from tests.conftest import AUDITOR_BIN, REPO, Result, run_auditor
from tests.console_helpers import PASSWORD, ConsoleWorkspace, make_console_workspace
from tests.dossier_helpers import PASSPHRASE, officer_p12

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SHOTS = REPO / "test-screenshots"


@pytest.fixture
def console(flow_ws: Path, cli: Callable[..., Result]) -> ConsoleWorkspace:
    return make_console_workspace(cli, flow_ws)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(console: ConsoleWorkspace) -> Iterator[str]:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AUDITOR_") or k == clock.FREEZE_ENV}
    proc = subprocess.Popen([str(AUDITOR_BIN), "serve", "--port", str(port), "--workspace", str(console.ws)],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                assert time.monotonic() < deadline, "the console did not start"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def downloads(tmp_path: Path) -> Path:
    d = tmp_path / "downloads"
    d.mkdir()
    return d


@pytest.fixture
def browser(downloads: Path) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1000", "--lang=vi"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def shot(driver: WebDriver, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1400, min(max(int(height), 800), 6000))
    driver.save_screenshot(str(SHOTS / f"{name}.png"))
    driver.set_window_size(1400, 1000)


def sign_in(driver: WebDriver, base: str, name: str) -> None:
    driver.delete_all_cookies()
    driver.get(f"{base}/login")
    driver.find_element(By.ID, "name").send_keys(name)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "sign-in").click()
    WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.ID, "who") or d.find_elements(By.ID, "login-failed"))
    assert driver.find_elements(By.ID, "who"), f"{name} could not sign in"


def sign(driver: WebDriver, form: str, officer: str, ws: Path) -> None:
    """Fill a signed step's certificate and passphrase, and submit it."""
    driver.find_element(By.ID, f"{form}-p12").send_keys(str(officer_p12(ws, officer)))
    driver.find_element(By.ID, f"{form}-passphrase").send_keys(PASSPHRASE)
    click_and_load(driver, driver.find_element(By.ID, form))


def click_and_load(driver: WebDriver, element: WebElement) -> None:
    """Click, and wait for the next page to replace this one."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced(_driver: WebDriver) -> bool:
        # the old page's element is stale once the new one has loaded; chromedriver sometimes says so as "node
        # does not belong to the document" rather than as a stale reference
        try:
            page.is_enabled()
        except WebDriverException:  # StaleElementReferenceException is one
            return True
        return False

    WebDriverWait(driver, 60).until(replaced)
    WebDriverWait(driver, 60).until(lambda d: d.execute_script("return document.readyState") == "complete")


def state_of(driver: WebDriver) -> str:
    return str(driver.find_element(By.ID, "dossier-state").text)


def test_appraise_approve_refuse_and_verify(console: ConsoleWorkspace, server: str, browser: WebDriver) -> None:
    ws, d = console.ws, console.dossier
    sign_in(browser, server, "canbo")
    browser.get(f"{server}/dossiers")
    shot(browser, "dossiers")
    click_and_load(browser, browser.find_element(By.LINK_TEXT, str(d)))
    assert state_of(browser) == "đã gửi thẩm định"
    assert not browser.find_elements(By.ID, "form-approve")
    shot(browser, "dossier-submitted")
    sign(browser, "appraise", "attt-so", ws)
    assert state_of(browser) == "đã thẩm định", browser.page_source[:600]

    # the operator sees no approval form, and a forged one is refused
    sign_in(browser, server, "vanhanh")
    browser.get(f"{server}/dossiers/{d}")
    assert not browser.find_elements(By.ID, "form-approve")
    browser.execute_script("""
        const f = document.createElement('form'); f.method = 'post'; f.action = arguments[0];
        for (const [k, v] of [['csrf', document.querySelector('input[name=csrf]').value], ['decision', '9/QĐ']]) {
          const i = document.createElement('input'); i.type = 'hidden'; i.name = k; i.value = v; f.appendChild(i);
        }
        document.body.appendChild(f); f.submit();""", f"/dossiers/{d}/approve")
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "error-message"))
    assert browser.find_element(By.ID, "error-message").text
    shot(browser, "operator-refused")
    browser.get(f"{server}/dossiers/{d}")
    assert state_of(browser) == "đã thẩm định"

    # the leader of the provincial People's Committee approves with their certificate
    sign_in(browser, server, "lanhdao")
    browser.get(f"{server}/dossiers/{d}")
    browser.find_element(By.ID, "decision").send_keys("1234/QĐ-UBND")
    sign(browser, "approve", "chu-quan", ws)
    assert state_of(browser) == "đã được phê duyệt", browser.page_source[:600]
    assert "1234/QĐ-UBND" in browser.find_element(By.ID, "approved-level").text
    parties = browser.find_element(By.ID, "parties").text
    assert "canbo" in parties and "lanhdao" in parties  # the console accounts, as the ledger has them
    shot(browser, "dossier-approved")

    r = run_auditor("verify", "--json", "--workspace", ws)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = json.loads(r.stdout)
    assert doc["ok"] and doc["dossiers"] >= 1 and doc["signatures"] >= 2
    r = run_auditor("dossier", "show", str(d), "--workspace", ws)
    parties_json = json.loads(r.stdout)["parties"]
    assert parties_json["appraisal"]["account"] == "canbo" and parties_json["approval"]["account"] == "lanhdao"


def test_leader_reads_the_dashboard_and_downloads_the_annual_pdf(console: ConsoleWorkspace, server: str,
                                                                 browser: WebDriver, downloads: Path) -> None:
    sign_in(browser, server, "lanhdao")
    kpis = browser.find_element(By.ID, "kpis").text
    assert "Hệ thống" in kpis
    assert browser.find_elements(By.CSS_SELECTOR, "img.chart")
    risks = browser.find_element(By.ID, "top-risks").text
    assert "dvc-web:443" in risks and "Trung tâm Chuyển đổi số tỉnh An Giang" in risks  # where, and who must act
    shot(browser, "dashboard")
    click_and_load(browser, browser.find_element(By.ID, "nav-systems"))
    shot(browser, "systems")
    click_and_load(browser, browser.find_element(By.LINK_TEXT, "Cổng dịch vụ công tỉnh An Giang"))
    assert "cong-dvc" in browser.page_source
    shot(browser, "system")
    browser.get(f"{server}/findings/{console.finding}")
    assert browser.find_element(By.ID, "remediation").text not in ("", "—")
    shot(browser, "finding")
    click_and_load(browser, browser.find_element(By.ID, "nav-reports"))
    click_and_load(browser, browser.find_element(By.ID, "write-annual"))
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(By.CSS_SELECTOR, "a.report-file")
                                     or d.find_elements(By.ID, "error-message"))
    assert not browser.find_elements(By.ID, "error-message"), browser.find_element(By.ID, "error-message").text
    link = next(a for a in browser.find_elements(By.CSS_SELECTOR, "a.report-file") if a.text.endswith(".pdf"))
    name = link.text
    shot(browser, "reports")
    link.click()
    pdf = downloads / name
    deadline = time.monotonic() + 30
    while not pdf.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert pdf.read_bytes().startswith(b"%PDF")
    r = run_auditor("verify", pdf, "--json", "--workspace", console.ws)
    assert r.returncode == 0, r.stdout + r.stderr
    assert json.loads(r.stdout)["file"]["matches"]
    # the same file, uploaded to the console, verifies there too
    browser.find_element(By.CSS_SELECTOR, "#form-verify input[type=file]").send_keys(str(pdf))
    click_and_load(browser, browser.find_element(By.CSS_SELECTOR, "#form-verify button"))
    assert browser.find_elements(By.ID, "verify-ok"), browser.find_element(By.ID, "verify-result").text
    # and English, for this reader
    click_and_load(browser, browser.find_element(By.ID, "switch-lang"))
    assert browser.find_element(By.ID, "nav-systems").text == "Systems"
    shot(browser, "reports-en")
