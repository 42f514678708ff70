"""Open a page in Debian's headless chromium through Playwright, with every request recorded and any request
that would leave the machine refused. Skips (with the reason) only where no browser is installed."""

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

CHROMIUM = os.environ.get("SYNTHAUDIO_CHROMIUM", "/usr/bin/chromium")
# as root chromium needs --no-sandbox; the rest keep it from calling home (updates, sync, field trials)
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-default-apps", "--mute-audio",
        "--autoplay-policy=no-user-gesture-required"]


@dataclass
class PageLog:
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


@contextmanager
def open_page(url: str) -> Iterator[tuple[object, PageLog]]:
    """(Playwright page at `url`, its log)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no browser: {CHROMIUM} is not installed (`apt-get install chromium`; `make test` does)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (dev extra)")
    log = PageLog()
    with sync_api.sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary profile of its own (it refuses --user-data-dir)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()

            def route(route_, request):
                if request.url.startswith(("file://", "data:", "blob:")):
                    route_.continue_()
                else:
                    log.refused.append(request.url)
                    route_.abort()

            page.on("request", lambda request: log.requests.append(request.url))
            page.route("**/*", route)  # a request for anything but a local file is refused (and recorded)
            page.on("console", lambda message: log.console_errors.append(message.text)
                    if message.type == "error" else None)
            page.on("pageerror", lambda error: log.console_errors.append(str(error)))
            page.goto(url)
            yield page, log
        finally:
            browser.close()
