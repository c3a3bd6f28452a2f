#!/usr/bin/env python3
"""Regenerate the README's screenshots of the chat page.

Starts the daemon with the demo agent on a free 127.0.0.1 port, holds a short conversation
in headless Debian Chromium (``apt-get install -y chromium``) through Playwright, and writes:

    docs/chat.png             /chat at 1100x720, light theme
    docs/chat-embed-dark.png  /chat/embed at 400x700, dark theme

    .venv/bin/python scripts/screenshot.py [--out DIR]
"""

from __future__ import annotations

import argparse
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO_ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_daemon(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "agentapi", "server", "--port", str(port), "--type", "demo"]
    command += ["--", sys.executable, "-m", "agentapi.demo_agent", "--think", "0.6"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/status").json()["status"] == "stable":
                return proc
        except (httpx.HTTPError, ValueError, KeyError):
            pass
        time.sleep(0.1)
    proc.terminate()
    raise SystemExit("the daemon did not become stable")


def turn(page, text: str) -> None:
    count = page.locator("#messages > li").count()
    page.locator("#draft").fill(text)
    page.locator("#draft").press("Enter")
    page.wait_for_function(
        "n => document.querySelectorAll('#messages > li').length >= n", arg=count + 2
    )
    page.locator("body[data-status='stable']").wait_for()
    page.locator("#draft:not(:disabled)").wait_for()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        print("no Chromium: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    port = free_port()
    daemon = start_daemon(port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium)
            page = browser.new_page(viewport={"width": 1100, "height": 720}, color_scheme="light")
            page.goto(f"http://127.0.0.1:{port}/chat")
            page.locator("body[data-synced]").wait_for()
            turn(page, "What can you do?")
            turn(page, "/lines 4")
            turn(page, "Summarise https://github.com/coder/agentapi in one line")
            time.sleep(0.3)  # the last scroll and the status dot settle
            page.screenshot(path=str(args.out / "chat.png"))
            embed = browser.new_page(viewport={"width": 400, "height": 700}, color_scheme="dark")
            embed.goto(f"http://127.0.0.1:{port}/chat/embed")
            embed.locator("body[data-synced]").wait_for()
            time.sleep(0.3)
            embed.screenshot(path=str(args.out / "chat-embed-dark.png"))
            browser.close()
    finally:
        daemon.terminate()
        daemon.wait(15)
    for name in ("chat.png", "chat-embed-dark.png"):
        print(args.out / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
