"""The audit and record checks as HTML pages (pgolf.review.output.page), read as files and opened in headless Chromium.

The browser tests skip, naming what to install, where Chromium, chromedriver or Selenium is missing
(tests/browser.py); the file tests run everywhere.
"""

from __future__ import annotations

import csv
import json
import re
import shutil

import pytest

from pgolf.review.judge.loose import LooseOptions
from pgolf.review.judge.record import RecordResult, compare
from pgolf.review.model import ParsedRun
from pgolf.review.output.page import PR_URL, audit_page, script_json
from pgolf.review.read.record import RecordCheck
from pgolf.review.verbs import audit_git_to, audit_to, check_logs_to, check_record_to
from tests.browser import Unavailable, chrome, no_alert
from tests.data import gitstream as gs
from tests.data.records import make_records as mr

# `/` cannot be in a folder name; the closest a folder gets to `<script>alert(1)</script>`, plus an img
# whose onerror would fire if it became an element
HOSTILE = "2026-04-11_<script>alert(1)<\\script><img src=x onerror=alert(1)>"
SCRIPT_NAME = "</script><script>alert(1)</script>"  # through audit_page as a record's name


@pytest.fixture(scope="module")
def audited(tmp_path_factory):
    root = tmp_path_factory.mktemp("page")
    records = mr.write_leaderboard(root / "records")
    shutil.copytree(records / "2026-04-10_Selection", records / HOSTILE)
    out = root / "audit"
    judged = audit_to(out, records)
    return out, json.loads((out / "records.json").read_text())["records"], judged


@pytest.fixture(scope="module")
def streamed(tmp_path_factory):
    out = tmp_path_factory.mktemp("stream") / "audit"
    audit_git_to(out, gs.build_stream(tmp_path_factory.mktemp("repo")))
    with open(out / "submissions.csv", newline="") as fh:
        subs = list(csv.DictReader(fh))
    return out, subs, json.loads((out / "records.json").read_text())


@pytest.fixture(scope="module")
def browser():
    try:
        driver = chrome()
    except Unavailable as exc:
        pytest.skip(f"no browser to open the pages in: {exc}")
    yield driver
    driver.quit()


# --------------------------------------------------------------------------- the files


def test_index_html_is_self_contained_and_escapes_every_name(audited):
    out, records, _ = audited
    html = (out / "index.html").read_text()
    assert len(records) == 13 and (out / "index.html").stat().st_size < 500_000
    # nothing fetched: no external script, style, image or font; the only URLs are PR links and the SVG namespace
    assert not re.search(r"<link|\bsrc=\"|@import|url\(", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) <= {"http://www.w3.org/2000/svg"}
    assert HOSTILE not in html  # the name only as text: its < and > escaped, in the markup and in the JSON
    assert "2026-04-11_&lt;script&gt;alert(1)&lt;\\script&gt;&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<script") == 2 and html.count("<img") == 0


def test_a_script_name_cannot_end_the_script_block():
    assert str(script_json(["</script><!--\u2028&"])) == '["\\u003c/script\\u003e\\u003c!--\\u2028\\u0026"]'
    rec = RecordCheck(folder=SCRIPT_NAME, name=SCRIPT_NAME, claim=None, runs=[], date="2026-04-01")
    html = audit_page([RecordResult(rec, compare(rec))], 0.1)
    assert SCRIPT_NAME not in html and html.count("</script>") == 2


def test_the_page_is_the_same_bytes_twice(audited):
    judged = audited[2].results
    assert audit_page(judged, 1.0) == audit_page(judged, 1.0)


def test_the_frontier_marks_every_dated_record_and_the_flagged_ones(audited):
    out, records, _ = audited
    html = (out / "index.html").read_text()
    dated = [d for d in records if d["date"] and d["values"]]
    flagged = [d for d in dated if d["n_errors"] > 0 or d["claim_supported"] is False]
    assert len(re.findall(r'<g class="mark', html)) == len(dated)
    assert len(re.findall(r'<g class="mark flagged', html)) == len(flagged) > 0
    assert re.search(r'<polyline class="progression" points="[\d., ]+"', html)


def test_check_record_and_check_logs_write_report_html(audited, tmp_path):
    out = audited[0]
    records = out.parent / "records"
    check_record_to(tmp_path / "rec", records / "2026-04-07_OverCap")
    check_logs_to(tmp_path / "logs", [str(p) for p in sorted((records / "2026-04-01_Prev").glob("*.log"))],
                  LooseOptions(threshold=1.08))
    for page in (tmp_path / "rec" / "report.html", tmp_path / "logs" / "report.html"):
        html = page.read_text()
        assert html.startswith("<!DOCTYPE html>") and "<h4>Runs</h4>" in html and "<h4>Evidence checks</h4>" in html


# --------------------------------------------------------------------------- in the browser

VISIBLE = """return Array.from(document.querySelectorAll('#subs tbody tr[data-i]')).filter(r => !r.hidden)
  .map(r => Array.from(r.cells).slice(1).map(c => c.textContent));"""


def _open(driver, page):
    driver.get(page.as_uri())
    assert driver.execute_script("return document.documentElement.dataset.ready") == "1"


def _column(driver, label):
    labels = driver.execute_script("return Array.from(document.querySelectorAll('#subs thead button'))"
                                   ".map(b => b.textContent)")
    return labels.index(label)


def _select(driver, element_id, value):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    Select(driver.find_element(By.ID, element_id)).select_by_value(value)


def _sort(driver, label):
    from selenium.webdriver.common.by import By

    driver.find_element(By.XPATH, f"//table[@id='subs']/thead//button[text()='{label}']").click()


def _type(driver, text):
    from selenium.webdriver.common.by import By

    box = driver.find_element(By.ID, "f-text")
    box.clear()
    if text:
        box.send_keys(text)
    else:  # clear() fires no input event
        driver.execute_script("document.getElementById('f-text').dispatchEvent(new Event('input'))")


def test_audit_page_counts_filters_sorts_and_opens_a_submission(browser, audited, tmp_path):
    from selenium.webdriver.common.by import By

    out, records, _ = audited
    _open(browser, out / "index.html")
    name, mean = _column(browser, "record"), _column(browser, "mean bpb")
    rows = browser.execute_script(VISIBLE)
    assert [r[name] for r in rows] == [d["record"] for d in records]  # every record, in the audit's order

    _select(browser, "f-verdict", "error flag")
    rows = browser.execute_script(VISIBLE)
    assert [r[name] for r in rows] == [d["record"] for d in records if d["n_errors"]]
    _sort(browser, "mean bpb")
    errors = sorted((d["mean"], d["record"]) for d in records if d["n_errors"])
    assert [(float(r[mean]), r[name]) for r in browser.execute_script(VISIBLE)] == [
        (round(m, 5), n) for m, n in errors]
    _sort(browser, "mean bpb")  # again: descending
    assert [r[name] for r in browser.execute_script(VISIBLE)] == [n for _, n in reversed(errors)]
    assert browser.find_element(By.ID, "shown").text == f"{len(errors)} of {len(records)} shown"

    _select(browser, "f-verdict", "")
    _select(browser, "f-severity", "none")
    assert browser.execute_script(VISIBLE) == []  # every fixture record carries a warning at least
    _select(browser, "f-severity", "error")
    assert len(browser.execute_script(VISIBLE)) == sum(1 for d in records if d["n_errors"])
    _select(browser, "f-severity", "")
    _type(browser, "overcap")  # free text, any case: the record, and the one that names it as its previous
    rows = browser.execute_script(VISIBLE)
    assert [r[name] for r in rows] == ["2026-04-07_OverCap", "2026-04-08_LateGPTQ"]

    browser.find_element(By.CSS_SELECTOR, "#subs tbody tr[data-i]:not([hidden])").click()
    detail = browser.find_element(By.CSS_SELECTOR, "#subs tr.detail")
    rec = next(d for d in records if d["record"] == "2026-04-07_OverCap")
    seeds = [tr.find_elements(By.TAG_NAME, "td")[1].text for tr in detail.find_elements(By.CSS_SELECTOR,
                                                                                          "table.runs tbody tr")]
    assert seeds == [str(r["seed"]) for r in rec["runs"]]
    flags = [li.text for li in detail.find_elements(By.CSS_SELECTOR, "ul.flags li")]
    assert len(flags) == len(rec["flags"])
    assert sum(t.startswith("ERROR") for t in flags) == rec["n_errors"] == 4
    assert any("is over 16,000,000 by 25,000" in t for t in flags)
    assert len(detail.find_elements(By.CSS_SELECTOR, "ul.flags dl.numbers")) == sum(1 for f in rec["flags"]
                                                                                  if f["numbers"])
    evidence = [li.text for li in detail.find_elements(By.CSS_SELECTOR, "ul.evidence li")]
    assert [e.split(":")[0] for e in evidence] == ["bytes", "code", "config", "time"]
    shot = tmp_path / "audit.png"
    assert browser.save_screenshot(str(shot)) and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_hostile_folder_name_renders_as_text(browser, audited, tmp_path):
    from selenium.webdriver.common.by import By

    out = audited[0]
    _open(browser, out / "index.html")
    assert no_alert(browser)
    _type(browser, "onerror")
    rows = browser.execute_script(VISIBLE)
    assert [r[_column(browser, "record")] for r in rows] == [HOSTILE]
    browser.find_element(By.CSS_SELECTOR, "#subs tbody tr[data-i]:not([hidden])").click()  # its details too
    assert HOSTILE in browser.find_element(By.CSS_SELECTOR, "#subs tr.detail").text
    assert no_alert(browser)
    assert browser.execute_script("return [document.images.length, document.scripts.length]") == [0, 2]
    browser.save_screenshot(str(tmp_path / "hostile.png"))


def test_stream_page_shows_the_leaderboard_the_diff_and_every_submission(browser, streamed, tmp_path):
    from selenium.webdriver.common.by import By

    out, subs, data = streamed
    _open(browser, out / "index.html")
    board = browser.find_elements(By.CSS_SELECTOR, "table.board tbody tr")
    assert len(board) == len(data["leaderboard"]) > 0
    for tr, row in zip(board, data["leaderboard"], strict=True):
        link = tr.find_elements(By.TAG_NAME, "a")[0]
        assert link.get_attribute("href") == PR_URL.format(row["pr"]) and link.text == f"#{row['pr']}"
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.diff tbody tr")) == len(data["diff"])
    pr, verdict = _column(browser, "PR"), _column(browser, "verdict")
    assert [r[pr] for r in browser.execute_script(VISIBLE)] == [f"#{s['pr']}" for s in subs]

    _select(browser, "f-verdict", "accepted")
    _sort(browser, "PR")
    _sort(browser, "PR")
    rows = browser.execute_script(VISIBLE)
    accepted = sorted((int(s["pr"]) for s in subs if s["verdict"] == "accepted"), reverse=True)
    assert [r[pr] for r in rows] == [f"#{n}" for n in accepted] and {r[verdict] for r in rows} == {"accepted"}

    _select(browser, "f-verdict", "")
    _type(browser, "SLOT_Trick")
    browser.find_element(By.CSS_SELECTOR, "#subs tbody tr[data-i]:not([hidden])").click()
    detail = browser.find_element(By.CSS_SELECTOR, "#subs tr.detail")
    rec = next(d for d in data["records"] if d["record"] == "2026-03-26_SLOT_Trick")
    assert len(detail.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")) == len(rec["runs"]) == 3
    assert len(detail.find_elements(By.CSS_SELECTOR, "ul.flags li")) == len(rec["flags"])
    browser.save_screenshot(str(tmp_path / "stream.png"))


def test_record_page_opens_with_its_runs_and_flags(browser, audited, tmp_path):
    from selenium.webdriver.common.by import By

    out = audited[0]
    result = check_record_to(tmp_path, out.parent / "records" / "2026-04-07_OverCap")
    browser.get((tmp_path / "report.html").as_uri())
    assert len(browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")) == len(result["runs"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "ul.flags li.sev-error")) == result["n_errors"] == 4
    assert browser.find_element(By.CSS_SELECTOR, "p.verdict").text == result["verdict"].replace("`", "")


def test_every_stream_row_opens_its_own_folder(streamed):
    out, subs, _ = streamed
    html = (out / "index.html").read_text()
    data = json.loads(re.search(r'<script type="application/json" id="rows">(.*?)</script>', html).group(1))
    folder = {int(k): v for k, v in re.findall(r'<template id="rec-(\d+)">.*?<dt>folder</dt><dd>(.*?)</dd>', html,
                                               re.DOTALL)}
    assert len(data["record"]) == len(subs)
    read = set()
    for i, s in enumerate(subs):  # a folder pushed unchanged again (#8 copies #4's files) opens the first reading
        read.add(f"PR #{s['pr']} {s['folder']}")
        assert folder[data["record"][i]] in read, (s["pr"], s["folder"])
    assert sum(folder[data["record"][i]] != f"PR #{s['pr']} {s['folder']}" for i, s in enumerate(subs)) == 1


def test_the_git_figure_draws_the_rebuilt_leaderboard_and_keeps_outliers_in_range():
    from pgolf.review.output.figure import frontier_png
    recs = [_judged(f"r{i}", f"2026-03-{20 + i}", v) for i, v in enumerate([[1.2, 1.21], [1.15, 1.16], [10.0], [1.1, 1.12]])]
    board, chain = frontier_png(recs, {0, 1, 3}), frontier_png(recs)
    assert board.startswith(b"\x89PNG") and board != chain  # the leaderboard's line, not the practice chain


def _judged(name, date, values):
    """A record whose counted runs scored `values` (no previous record), judged."""
    runs = [ParsedRun(file=f"{name}/s{k}.log", val_bpb=v, metric="final") for k, v in enumerate(values)]
    rec = RecordCheck(folder=name, name=name, claim=None, runs=runs, date=date, counted=runs)
    return RecordResult(rec, compare(rec))


def test_markdown_cells_read_as_written_and_carry_no_tag_or_entity():
    from pgolf.review.output.markdown import md_cell

    assert md_cell("over the cap: 16,059,704 bytes > 16,000,000 & more") == \
        "over the cap: 16,059,704 bytes > 16,000,000 & more"
    assert md_cell("<img src=x onerror=alert(1)> &lt; a|b\nc") == "&lt;img src=x onerror=alert(1)> &amp;lt; a\\|b c"
