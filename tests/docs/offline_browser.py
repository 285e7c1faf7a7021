"""Render pages of a fresh server in headless Chromium inside a network namespace with no network.

Run as ``unshare -n python offline_browser.py OUT_DIR PAGE...`` (root): the namespace has only a
loopback interface, which this script brings up; the server binds 127.0.0.1 in it, and each page's
DOM after its scripts ran is written to ``OUT_DIR/<page>.html``. ``OUT_DIR/interfaces.txt`` lists
the namespace's interfaces, so the caller can check that nothing but loopback existed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, as pytest has it
from clients.live_server import running_server

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # Virtual time runs until the page is idle (scripts loaded, the spec fetched and rendered), at most this.
    "--virtual-time-budget=20000",
)


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    raise SystemExit("chromium is not installed (apt-get install chromium)")


def dump_dom(browser: str, url: str) -> str:
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
            capture_output=True,
            text=True,
            timeout=120,
        )
    if done.returncode != 0:
        raise SystemExit(f"chromium exited with {done.returncode}:\n{done.stderr[-2000:]}")
    return done.stdout


def main(out: Path, pages: list[str]) -> int:
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    (out / "interfaces.txt").write_text("\n".join(name for _, name in socket.if_nameindex()) + "\n")
    browser = chromium()
    with running_server() as url:
        for page in pages:
            (out / f"{page.strip('/')}.html").write_text(dump_dom(browser, url + page))
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2:]))
