"""A headless Chromium driven by Selenium, for the tests and the bench script that open pgolf's HTML pages.

`chrome()` returns a driver, or raises Unavailable naming what to install: Debian's `chromium` and
`chromium-driver` (apt-get install chromium chromium-driver) and Selenium (pip install selenium,
in the `test` extras). `.ci/run` installs all three.
"""

from __future__ import annotations

import shutil
from typing import Any

INSTALL = "apt-get install chromium chromium-driver; pip install selenium (the `test` extras)"
BROWSERS = ("chromium", "chromium-browser", "google-chrome")


class Unavailable(RuntimeError):
    pass


def chrome(width: int = 1400, height: int = 1000) -> Any:
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        raise Unavailable(f"no selenium: {INSTALL}") from None
    browser = next((p for p in map(shutil.which, BROWSERS) if p), None)
    driver = shutil.which("chromedriver")
    if browser is None or driver is None:
        raise Unavailable(f"no {'chromium' if browser is None else 'chromedriver'} on PATH: {INSTALL}")
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    # --no-sandbox: CI runs as root in a container, where Chromium's sandbox cannot start
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=Service(driver))


def no_alert(driver: Any) -> bool:
    """True when no JavaScript dialog is open (an injected alert() would leave one)."""
    from selenium.common.exceptions import NoAlertPresentException

    try:
        driver.switch_to.alert.text  # noqa: B018
    except NoAlertPresentException:
        return True
    return False
