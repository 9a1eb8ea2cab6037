"""A minimal W3C WebDriver client over httpx, driving Debian's headless Chromium through
``chromedriver`` — enough to fill in forms and follow redirects like a person would, without
Selenium.

The flags: headless, no sandbox (containers), no GPU, no background networking, sync or
component updates, and a fresh profile per browser, so the browser talks to nothing but the
loopback addresses the test gives it.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the W3C key of an element reference
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)
INSTALL_HINT = "apt-get install -y chromium chromium-driver"


def chromium_paths() -> tuple[str, str] | None:
    """(chromium, chromedriver) when both are installed."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


class WebDriverError(RuntimeError):
    pass


class Browser:
    """One headless Chromium session: ``open(url)``, ``fill(css, text)``, ``click(css)``,
    ``url``, ``text(css)``, ``wait_for(predicate)``."""

    def __init__(self, *, port: int, timeout: float = 20.0) -> None:
        paths = chromium_paths()
        if paths is None:
            raise WebDriverError(f"chromium is not installed: {INSTALL_HINT}")
        browser, driver = paths
        self._profile = Path(tempfile.mkdtemp(prefix="gosstand-chromium-"))
        self._driver = subprocess.Popen(
            [driver, f"--port={port}", "--allowed-ips=127.0.0.1"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=timeout)
        self.timeout = timeout
        self._wait_ready()
        capabilities = {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": browser, "args": [*CHROMIUM_FLAGS, f"--user-data-dir={self._profile}"]},
        }
        self.session = self._call("POST", "/session", {"capabilities": {"alwaysMatch": capabilities}})["sessionId"]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if self._http.get("/status").json()["value"]["ready"]:
                    return
            except (httpx.HTTPError, ValueError, KeyError):
                pass
            if self._driver.poll() is not None:
                raise WebDriverError("chromedriver exited at start")
            time.sleep(0.05)
        raise WebDriverError("chromedriver did not become ready")

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = self._http.request(
            method, path, json=body if body is not None else ({} if method == "POST" else None)
        )
        value = response.json().get("value")
        if response.status_code >= 400:
            raise WebDriverError(f"{method} {path}: {value}")
        return value

    def _session(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        return self._call(method, f"/session/{self.session}{path}", body)

    def open(self, url: str) -> None:
        self._session("POST", "/url", {"url": url})

    @property
    def url(self) -> str:
        return str(self._session("GET", "/url"))

    def find(self, css: str) -> str:
        found = self._session("POST", "/element", {"using": "css selector", "value": css})
        if not isinstance(found, dict) or ELEMENT not in found:
            raise WebDriverError(f"no element {css}: {found}")
        return found[ELEMENT]

    def fill(self, css: str, text: str) -> None:
        self._session("POST", f"/element/{self.find(css)}/value", {"text": text})

    def paste(self, css: str, text: str) -> None:
        """Put ``text`` into a field at once, as pasting (or a signature plug-in) does: typing a
        few kilobytes key by key costs seconds."""
        self._session("POST", "/execute/sync", {"script": "document.querySelector(arguments[0]).value = arguments[1];",
                                                "args": [css, text]})

    def clear_cookies(self) -> None:
        """Forget the cookies of the page's site (a new person at the same browser)."""
        self._session("DELETE", "/cookie")

    def click(self, css: str) -> None:
        self._session("POST", f"/element/{self.find(css)}/click", {})

    def text(self, css: str) -> str:
        return str(self._session("GET", f"/element/{self.find(css)}/text"))

    def wait_for(self, predicate: Any, what: str) -> None:
        """Poll ``predicate(self)`` until it is true (pages load asynchronously)."""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            try:
                if predicate(self):
                    return
            except WebDriverError:
                pass
            time.sleep(0.05)
        raise WebDriverError(f"timed out waiting for {what}; the browser is at {self.url}")

    def close(self) -> None:
        try:
            self._session("DELETE", "")
        except (WebDriverError, httpx.HTTPError):
            pass
        finally:
            self._http.close()
            self._driver.terminate()
            try:
                self._driver.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._driver.kill()
            shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
