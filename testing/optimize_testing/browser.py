"""Headless Chromium for the browser tests: Debian's `chromium`, installed with apt-get when missing and we
run as root (as the local RabbitMQ is), driven by Playwright with that binary (no browser download)."""

import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

CHROMIUM = Path("/usr/bin/chromium")
# Nothing in the background reaches outside the machine; a fresh profile comes with each launch.
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def ensure_chromium() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("the browser tests need Debian's chromium at /usr/bin/chromium: "
                           "apt-get install chromium (as root)")
    log.warning("installing chromium with apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    wait_for_lock = ["-o", "DPkg::Lock::Timeout=600"]
    subprocess.run(["apt-get", *wait_for_lock, "update", "-q"], check=True, env=env, capture_output=True)
    subprocess.run(["apt-get", *wait_for_lock, "install", "-y", "-q", "chromium"], check=True, env=env,
                   capture_output=True)
    return CHROMIUM


@contextmanager
def headless_chromium() -> Iterator[object]:
    """A Playwright Browser on Debian's chromium, headless."""
    from playwright.sync_api import sync_playwright

    executable = ensure_chromium()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True, args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()
