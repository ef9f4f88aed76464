"""The web page in a real browser (Debian's chromium through chromedriver) against a real `rag serve`.

Without chromium the tests skip with the reason, except in CI, where they must run.
Set RAG_SCREENSHOTS=<folder> to save the answered page and the open reader as PNG files.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import rag_serve

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
KEY = "page-test-key"
QUESTION = "How long is the border that Kazakhstan shares with Russia?"
TRUE_CLAIM = "Kazakhstan shares a border of 6,846 kilometers with Russia."
FALSE_CLAIM = "Kazakhstan shares a 9,000-kilometre border with China."

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (Path(CHROMIUM).exists() and Path(DRIVER).exists()) and not os.environ.get("CI"),
                       reason="chromium and chromium-driver are not installed: apt-get install chromium chromium-driver"),
]


@pytest.fixture(scope="module")
def server(seeds_index: Path) -> Iterator[str]:
    with rag_serve(RAG_INDEX_DIR=str(seeds_index), RAG_LLM="extractive", RAG_API_KEY=KEY) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,860"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _wait(driver: Any, css: str, timeout: float = 60) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout).until(ec.visibility_of_element_located((By.CSS_SELECTOR, css)))


def _ask(driver: Any, question: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    before = len(driver.find_elements(By.CSS_SELECTOR, ".turn .meta"))
    box = driver.find_element(By.ID, "question")
    box.clear()
    box.send_keys(question, Keys.ENTER)
    deadline = time.time() + 60
    while len(driver.find_elements(By.CSS_SELECTOR, ".turn .meta")) <= before:
        assert time.time() < deadline, "no answer appeared"
        time.sleep(0.2)


def _turns(driver: Any) -> list[dict[str, Any]]:
    return json.loads(driver.execute_script("return localStorage.getItem('rag.conversation')") or "[]")


def _enter_key(browser: Any, server: str) -> None:
    """A fresh page asks for the API key; a wrong one is named wrong, the right one hides the form."""
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    browser.execute_script("localStorage.clear()")
    browser.get(server + "/")
    _wait(browser, "#api-key").send_keys("wrong-key")
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    _wait(browser, "#key-status")
    time.sleep(0.5)
    assert "wrong" in browser.find_element(By.ID, "key-status").text
    key = browser.find_element(By.ID, "api-key")
    key.clear()
    key.send_keys(KEY)
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    time.sleep(0.5)
    assert not browser.find_element(By.ID, "key-form").is_displayed()


def test_page_asks_cites_refuses_and_follows_up(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    _enter_key(browser, server)
    _ask(browser, "Which team won the 2018 Tour de France?")
    assert "Not in the corpus" in browser.find_elements(By.CSS_SELECTOR, ".turn")[-1].text

    _ask(browser, QUESTION)
    answer = _turns(browser)[-1]["answer"]
    assert not answer["refused"] and "6,846" in browser.find_element(By.CSS_SELECTOR, ".answer").text
    assert "answered by extractive" in browser.find_elements(By.CSS_SELECTOR, ".turn .meta")[-1].text
    bold = browser.find_element(By.CSS_SELECTOR, ".answer strong.short").text  # the short answer, in bold
    assert bold == answer["short_answer"]["text"] and "6,846" in bold
    shots = os.environ.get("RAG_SCREENSHOTS")
    if shots:
        browser.save_screenshot(str(Path(shots) / "page-answer.png"))
    browser.find_elements(By.CSS_SELECTOR, ".answer .marker")[-1].click()
    mark = _wait(browser, "#reader mark")
    first = answer["citations"][-1]
    assert mark.text == " ".join(first["quote"].split()) and first["id"] in browser.find_element(By.ID, "reader-meta").text
    assert "verified" in browser.find_element(By.ID, "reader-meta").text
    if shots:
        browser.save_screenshot(str(Path(shots) / "page-reader.png"))
    browser.find_element(By.ID, "close-reader").click()

    _ask(browser, "and what share of its people are Russian?")  # the follow-up goes with the conversation's history
    follow = _turns(browser)[-1]["answer"]
    assert follow["standalone_question"].startswith(QUESTION) and not follow["refused"]  # asked with the first question

    browser.refresh()  # the conversation survives a reload
    _wait(browser, ".turn")
    assert len(browser.find_elements(By.CSS_SELECTOR, ".turn")) == 3
    browser.find_element(By.ID, "new-conversation").click()
    assert browser.find_elements(By.CSS_SELECTOR, ".turn") == [] and _turns(browser) == []


def test_corpus_list_opens_documents_and_errors_keep_the_question(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    browser.execute_script(f"localStorage.setItem('rag.apiKey', '{KEY}')")
    browser.get(server + "/")
    browser.find_element(By.ID, "show-corpus").click()
    links = [a for a in browser.find_elements(By.CSS_SELECTOR, ".documents a") if a.text] or [_wait(browser, ".documents a")]
    assert len(browser.find_elements(By.CSS_SELECTOR, ".documents li")) == 5
    links[0].click()
    time.sleep(0.5)
    assert len(browser.find_elements(By.CSS_SELECTOR, "#reader-body p")) > 3

    browser.execute_script(f"localStorage.setItem('rag.apiKey', 'not-{KEY}')")  # the next request is refused
    box = browser.find_element(By.ID, "question")
    box.clear()
    box.send_keys("Where is the border?")
    browser.find_element(By.ID, "send").click()
    status = _wait(browser, "#status.error")
    assert "API key" in status.text and box.get_attribute("value") == "Where is the border?"


def test_check_mode_marks_each_sentence_and_its_citations_open_the_reader(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    browser.execute_script(f"localStorage.setItem('rag.apiKey', '{KEY}')")
    browser.get(server + "/")
    browser.find_element(By.ID, "mode-check").click()
    assert not browser.find_element(By.ID, "question").is_displayed()
    box = _wait(browser, "#check-text")
    box.send_keys(f"{TRUE_CLAIM} {FALSE_CLAIM}")
    browser.find_element(By.ID, "check-send").click()
    _wait(browser, "#check-results .sentence")
    sentences = browser.find_elements(By.CSS_SELECTOR, "#check-results .sentence")
    assert [s.get_attribute("class").split()[-1] for s in sentences] == ["supported", "unsupported"]
    assert sentences[0].text.startswith("SUPPORTED") and sentences[1].text.startswith("NOT SUPPORTED")
    assert "1 of 2 sentences supported" in browser.find_element(By.ID, "check-results").text
    if os.environ.get("RAG_SCREENSHOTS"):
        browser.save_screenshot(str(Path(os.environ["RAG_SCREENSHOTS"]) / "page-check.png"))
    sentences[0].find_elements(By.CSS_SELECTOR, ".marker")[0].click()
    mark = _wait(browser, "#reader mark")
    assert "6,846" in mark.text and "verified" in browser.find_element(By.ID, "reader-meta").text
    browser.find_element(By.ID, "close-reader").click()
    browser.find_element(By.ID, "mode-ask").click()
    assert browser.find_element(By.ID, "question").is_displayed() and not box.is_displayed()


def test_filters_keep_answers_and_checks_to_the_chosen_outlet(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server + "/")
    browser.execute_script(f"localStorage.setItem('rag.apiKey', '{KEY}'); localStorage.removeItem('rag.conversation')")
    browser.get(server + "/")
    browser.find_element(By.CSS_SELECTOR, "#filters summary").click()
    outlets = Select(_wait(browser, "#sources"))
    deadline = time.time() + 30
    while len(outlets.options) < 5:
        assert time.time() < deadline, "the outlet list did not fill"
        time.sleep(0.2)
    outlets.select_by_value("001_4e18fd9c259265ac.txt")
    assert "1 outlet" in browser.find_element(By.ID, "filters-summary").text
    _ask(browser, QUESTION)
    answer = _turns(browser)[-1]["answer"]
    assert not answer["refused"] and {c["source"] for c in answer["citations"]} == {"001_4e18fd9c259265ac.txt"}
    outlets.deselect_all()
    outlets.select_by_value("002_48ee19e3c13b1132.txt")  # an outlet that does not report the border
    browser.find_element(By.ID, "mode-check").click()
    _wait(browser, "#check-text").send_keys(TRUE_CLAIM)
    browser.find_element(By.ID, "check-send").click()
    _wait(browser, "#check-results .sentence")
    assert browser.find_element(By.CSS_SELECTOR, "#check-results .sentence").get_attribute("class").split()[-1] == "unsupported"
    browser.find_element(By.ID, "clear-filters").click()
    assert browser.find_element(By.ID, "filters-summary").text == ""
    browser.find_element(By.ID, "mode-ask").click()


def test_the_offline_answer_shows_labelled_until_the_model_answer_replaces_it(seeds_index: Path, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    from tests import fake_llm

    with fake_llm.serve() as fake, rag_serve(RAG_INDEX_DIR=str(seeds_index), RAG_LLM="openai", RAG_LLM_DESIGN="evidence",
                                             OPENAI_BASE_URL=fake.url, OPENAI_API_KEY="k") as base:
        fake.enqueue(("slow", 4))  # the model takes its time, then writes a sentence that does not verify
        browser.get(base + "/")
        browser.execute_script("localStorage.clear()")
        browser.get(base + "/")
        browser.find_element(By.ID, "question").send_keys(QUESTION)
        browser.find_element(By.ID, "send").click()
        offline = _wait(browser, ".turn .offline", timeout=30)
        assert offline.text.lower().startswith("offline answer") and "6,846" in offline.text
        assert not browser.find_elements(By.CSS_SELECTOR, ".turn .meta")  # not yet the verified answer
        offline.find_elements(By.CSS_SELECTOR, ".marker")[0].click()
        assert "6,846" in _wait(browser, "#reader mark").text
        browser.find_element(By.ID, "close-reader").click()
        _wait(browser, ".turn .meta", timeout=60)
        assert not browser.find_elements(By.CSS_SELECTOR, ".turn .offline") and "6,846" in browser.find_element(By.CSS_SELECTOR, ".answer").text
        assert "answered by openai" in browser.find_element(By.CSS_SELECTOR, ".turn .meta").text


def test_readable_at_360_pixels(server: str, browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.set_window_size(360, 740)
    try:
        browser.get(server + "/")
        width = browser.execute_script("return document.documentElement.scrollWidth")
        assert width <= 360 + 1, f"the page is {width}px wide at 360px"
        assert browser.find_element(By.ID, "question").is_displayed()
        labels = browser.execute_script("return [...document.querySelectorAll('label')].map(l => l.htmlFor)")
        assert "question" in labels
    finally:
        browser.set_window_size(1280, 860)
