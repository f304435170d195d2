"""Browser fixtures: the app served on a free loopback port, and Debian's Chromium driven by Playwright."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
OUTPUT = Path(__file__).resolve().parents[2] / "test-output" / "e2e"


@pytest.fixture
def live_server(app, db):
    """Serve the test app on 127.0.0.1 in a thread; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def browser():
    """Headless Debian Chromium (never a downloaded browser); skips with a clear message without it."""
    if CHROMIUM is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        yield browser
        browser.close()


@pytest.fixture
def screenshots(request):
    """A function saving a numbered screenshot of a page under test-output/e2e/<test name>/."""
    folder = OUTPUT / request.node.name
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 1000))

    def shoot(page, label: str) -> Path:
        path = folder / f"{next(counter):02d}-{label}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
