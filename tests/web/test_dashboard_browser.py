"""The dashboard in a real headless browser (Debian's chromium through chromedriver) against a real worker:
train from the page and watch it reach 100%, start a stream and watch the rows landed grow, cancel one.

Chromium and chromedriver come from Debian (scripts/test_tools.sh installs them); the test fails, and says
so, when either is missing. A screenshot of the page is saved under the test's tmp dir and copied to
var/test-artifacts/dashboard.png.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from tests.harness import ROOT, Worker, wait_for

pytestmark = pytest.mark.integration
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
TOKEN = "dashboard-test-token"
ARTIFACT = ROOT / "var" / "test-artifacts" / "dashboard.png"


@pytest.fixture(scope="module")
def worker(kafka_broker, tmp_path_factory):
    # API_TOKEN guards the changing requests: the page must ask for it, keep it, and send it
    w = Worker(kafka_broker, tmp_path_factory.mktemp("dashboard"), API_TOKEN=TOKEN).start()
    yield w
    w.stop()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.is_file()]
    if missing:
        pytest.fail(f"{' and '.join(missing)} missing: run scripts/test_tools.sh as root "
                    "(apt-get install chromium chromium-driver)", pytrace=False)
    options = webdriver.ChromeOptions()
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.binary_location = str(CHROMIUM)  # with the driver's path below, Selenium Manager downloads nothing
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run", "--window-size=1440,1300",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    service = Service(executable_path=str(CHROMEDRIVER),
                      log_output=str(tmp_path_factory.getbasetemp() / "chromedriver.log"))
    try:
        driver = webdriver.Chrome(service=service, options=options)
    except WebDriverException as exc:
        pytest.fail(f"chromium did not start through chromedriver: {exc.msg}", pytrace=False)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def in_page(predicate, timeout: float, what: str):
    """wait_for, reading the page: an element the page replaced between two reads is read again."""
    def read():
        try:
            return predicate()
        except StaleElementReferenceException:
            return None

    return wait_for(read, timeout, what, interval=0.2)


def text(driver, css: str) -> str:
    return driver.find_element(By.CSS_SELECTOR, css).text


def fill(driver, element_id: str, value: str) -> None:
    field = driver.find_element(By.ID, element_id)
    field.clear()
    field.send_keys(value)


def feedback(driver, form: str, timeout: float = 60) -> tuple[str, str]:
    """The class ("ok" or "error") and text the form shows after a submit."""
    def shown():
        box = driver.find_element(By.ID, f"{form}-feedback")
        return (box.get_attribute("class"), box.text) if box.text else None

    return in_page(shown, timeout, f"the {form} form's answer")


def training_row(driver, model_name: str):
    for row in driver.find_elements(By.CSS_SELECTOR, "#tasks-table tbody tr"):
        if row.find_element(By.CSS_SELECTOR, "td.name").text == model_name:
            return row
    return None


def stream_rows(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#streams-table tbody tr")


def landed(row) -> int | None:
    value = row.find_element(By.CSS_SELECTOR, "td.landed .bar-cell").get_attribute("data-rows-landed")
    return int(value) if value else None


def test_train_and_stream_from_the_dashboard(worker, browser, tmp_path):
    driver = browser
    driver.get(f"{worker.url}/")
    assert driver.title.startswith("cardiosynth")
    in_page(lambda: text(driver, "#health-text") == "healthy", 30, "the page to show the service healthy")
    method = Select(driver.find_element(By.ID, "train-method"))
    in_page(lambda: "gaussian_copula" in [o.get_attribute("value") for o in method.options], 30,
             "the training methods in the page")
    method.select_by_value("gaussian_copula")
    assert not driver.find_element(By.ID, "train-epochs").is_enabled()  # gaussian_copula trains in no epochs
    fill(driver, "train-model", "dash")

    # without the token the API answers 401: the page says so and offers the token field
    driver.find_element(By.ID, "train-submit").click()
    tone, message = feedback(driver, "train")
    assert "error" in tone and "bearer token" in message
    assert driver.find_element(By.ID, "token-panel").is_displayed()
    fill(driver, "token-input", TOKEN)
    driver.find_element(By.ID, "token-save").click()
    assert driver.execute_script("return localStorage.getItem('cardiosynth.apiToken')") == TOKEN

    driver.find_element(By.ID, "train-submit").click()
    in_page(lambda: "Training started" in driver.find_element(By.ID, "train-feedback").text, 60,
             "the page to report the training started")

    def trained():
        row = training_row(driver, "dash")
        if row is None or row.get_attribute("data-status") != "completed":
            return None
        return row.find_element(By.CSS_SELECTOR, "td.progress").text, row.find_element(By.CSS_SELECTOR, "td.status").text

    progress, status = in_page(trained, 300, "the training to reach 100% in the page")
    assert progress == "100%" and status == "completed"
    bar = training_row(driver, "dash").find_element(By.CSS_SELECTOR, "[role=progressbar]")
    assert bar.get_attribute("aria-valuenow") == "100"

    # the model appears with its quality score (evaluated on held-out rows)
    def model_quality():
        for row in driver.find_elements(By.CSS_SELECTOR, "#models-table tbody tr"):
            if row.find_element(By.CSS_SELECTOR, "td.name strong").text == "dash":
                score = row.find_elements(By.CSS_SELECTOR, "td .bar-label")[0].text
                return score if re.fullmatch(r"\d{1,3}%", score) else None
        return None

    score = in_page(model_quality, 30, "the model's quality score in the page")
    assert 50 <= int(score.rstrip("%")) <= 100, score

    # a 422 from the API names the field in the page
    Select(driver.find_element(By.ID, "stream-model")).select_by_value("dash")
    fill(driver, "stream-rows", "0")
    driver.find_element(By.ID, "stream-submit").click()
    tone, message = feedback(driver, "stream")
    assert "error" in tone and "num_samples" in message and "greater than or equal to 1" in message
    assert driver.find_element(By.ID, "stream-rows").get_attribute("aria-invalid") == "true"

    # a paced stream of 20,000 rows: the rows landed the page shows grow until all have landed
    fill(driver, "stream-rows", "20000")
    fill(driver, "stream-batch", "1000")
    fill(driver, "stream-interval", "0.5")  # about 10 s: the page polls every second, so it sees the count grow
    driver.find_element(By.ID, "stream-submit").click()
    in_page(lambda: "started" in driver.find_element(By.ID, "stream-feedback").text, 60, "the stream to start")
    seen: list[int] = []

    def all_landed():
        rows = stream_rows(driver)
        count = landed(rows[0]) if rows else None
        if count is not None and (not seen or count != seen[-1]):
            seen.append(count)
        return rows and rows[0].get_attribute("data-state") == "completed" and count == 20_000

    in_page(all_landed, 300, "the stream's 20,000 rows to land, in the page")
    growing = [c for c in seen if c > 0]
    assert len(growing) >= 2 and growing == sorted(growing), seen
    row = stream_rows(driver)[0]
    assert "20,000 / 20,000" in row.find_element(By.CSS_SELECTOR, "td.landed").text
    assert re.fullmatch(r"[\d,]+", row.find_element(By.CSS_SELECTOR, "td.rate").text)
    assert not row.find_element(By.CSS_SELECTOR, "button.cancel").is_displayed()
    in_page(lambda: len(driver.find_elements(By.CSS_SELECTOR, "#rows-table tbody tr")) == 8, 30,
             "the latest rows in the page")
    # the totals come from /warehouse/summary, an answer shared for WAREHOUSE_READ_SECONDS: up to that old
    in_page(lambda: int(text(driver, "#kpi-rows").replace(",", "")) >= 20_000, 30, "the rows landed in the totals")

    # a slow stream, cancelled from its row
    fill(driver, "stream-rows", "100000")
    fill(driver, "stream-batch", "100")
    fill(driver, "stream-interval", "1")
    driver.find_element(By.ID, "stream-submit").click()
    in_page(lambda: len(stream_rows(driver)) == 2 and stream_rows(driver)[0].get_attribute("data-state") == "running",
             60, "the second stream in the page")
    stream_rows(driver)[0].find_element(By.CSS_SELECTOR, "button.cancel").click()
    in_page(lambda: stream_rows(driver)[0].get_attribute("data-state") == "cancelled", 60,
             "the page to show the stream cancelled")

    path = tmp_path / "dashboard.png"
    driver.set_window_size(1440, driver.execute_script("return document.documentElement.scrollHeight") + 140)
    assert driver.save_screenshot(str(path)), "chromium took no screenshot"
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, ARTIFACT)
    print(f"\ndashboard screenshot: {path}\n                 and: {ARTIFACT}")
    # no script error and no blocked resource; the 401 and 422 answers above are the only failed loads
    errors = [e["message"] for e in driver.get_log("browser")
              if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]]
    assert errors == []
