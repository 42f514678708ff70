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


def check_page_offline(index_html, clips: int) -> None:
    """In the browser: no console error, no request but for local files, every image loads, the `clips` players
    load nothing until played, then every one plays."""
    with open_page(index_html.as_uri()) as (page, log):
        images = page.locator("img")
        assert images.count() >= 2 + clips  # plots + one thumbnail per clip
        for index in range(images.count()):
            image = images.nth(index)
            image.scroll_into_view_if_needed()  # thumbnails load lazily
            page.wait_for_function("image => image.complete", arg=image.element_handle(), timeout=5000)
            assert image.evaluate("image => image.naturalWidth") > 0, image.get_attribute("src")
        players = page.locator("audio")
        assert players.count() == clips
        assert all(preload == "none" for preload in page.eval_on_selector_all("audio", "a => a.map(x => x.preload)"))
        # nothing loads before it is played
        assert page.eval_on_selector_all("audio", "a => a.filter(x => x.readyState > 0).length") == 0
        played = page.evaluate("""async () => {
            const players = Array.from(document.querySelectorAll('audio'));
            return await Promise.all(players.map(player => new Promise(resolve => {
                player.muted = true;
                const start = performance.now();
                const check = () => {
                    if (player.currentTime > 0.05) { player.pause(); resolve([player.src, true, player.error]); }
                    else if (performance.now() - start > 8000) {
                        resolve([player.src, false, player.error && player.error.message]); }
                    else { setTimeout(check, 50); }
                };
                player.play().then(check, error => resolve([player.src, false, String(error)]));
            })));
        }""")
        failed = [item for item in played if not item[1]]
        assert not failed, failed
        assert log.console_errors == []
        assert log.refused == []
        assert log.requests and all(url.startswith("file://") for url in log.requests)
