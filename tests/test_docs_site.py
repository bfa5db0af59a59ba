"""The documentation site: `mkdocs build --strict` passes, and every page of the nav opens in a real browser.

The build runs where mkdocs is installed (the `docs` extras); the browser test where Chromium,
chromedriver and Selenium are (tests/browser.py says what to install). README.md's own links are
checked as files, since the site does not build it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urldefrag, urlparse

import pytest

from tests.browser import Unavailable, chrome

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    pytest.importorskip("mkdocs", reason="pip install -e '.[docs]' (mkdocs, mkdocs-material)")
    pytest.importorskip("material", reason="pip install -e '.[docs]' (mkdocs, mkdocs-material)")
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _nav_pages() -> list[str]:
    """The .md files the nav of mkdocs.yml names, in order."""
    return re.findall(r":\s*\"?([\w./-]+\.md)\"?\s*$", (REPO / "mkdocs.yml").read_text(), re.M)


def test_every_docs_page_is_in_the_nav_and_built(site):
    pages = _nav_pages()
    on_disk = {p.name for p in (REPO / "docs").glob("*.md")}
    assert set(pages) == on_disk, set(pages) ^ on_disk
    for page in pages:
        assert (site / page.replace(".md", ".html")).is_file(), page


def test_a_broken_link_fails_the_strict_build(tmp_path):
    """The check itself: a page linking to a missing page does not build."""
    pytest.importorskip("mkdocs")
    pytest.importorskip("material")
    copy = tmp_path / "repo"
    shutil.copytree(REPO / "docs", copy / "docs")
    shutil.copy(REPO / "mkdocs.yml", copy / "mkdocs.yml")
    with open(copy / "docs" / "size-cap.md", "a", encoding="utf-8") as fh:
        fh.write("\nSee [the missing page](no-such-page.md).\n")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "s")],
                          cwd=copy, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"}, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode != 0 and "no-such-page.md" in done.stdout + done.stderr


def test_readme_links_point_at_files_that_exist():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [urldefrag(link)[0] for link in links if not urlparse(link).scheme]
    assert len(local) >= 10
    for link in local:
        assert (REPO / link).exists(), link
    # every page of the site is one click from the README
    assert {f"docs/{p}" for p in _nav_pages() if p != "index.md"} <= set(local)


def test_every_nav_link_opens_in_headless_chromium(site):
    try:
        driver = chrome()
    except Unavailable as exc:
        pytest.skip(f"no browser to open the site in: {exc}")
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        driver.get((site / "index.html").as_uri())
        links = driver.execute_script(
            "return Array.from(document.querySelectorAll('nav.md-nav--primary a.md-nav__link[href]'))"
            ".map(a => a.href).filter(h => h.startsWith('file:'));")
        pages = sorted({urldefrag(h)[0] for h in links})
        assert len(pages) == len(_nav_pages()), pages
        for url in pages:
            driver.get(url)
            path = Path(urlparse(url).path)
            assert path.is_file(), url
            # the page's heading, once rendered (a loaded machine can be slow to lay it out)
            h1 = WebDriverWait(driver, 20).until(lambda d, url=url: urldefrag(d.current_url)[0] == url and d.execute_script(
                "const h = document.querySelector('article h1'); return h && h.textContent.trim();"))
            assert h1, url
            assert "404" not in driver.title
            # the page's own nav is there too: material's sidebar with every section
            assert driver.execute_script("return document.querySelectorAll('nav.md-nav--primary a').length") >= len(pages)
    finally:
        driver.quit()
