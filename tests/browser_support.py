"""Browser test support: Debian's Chromium driven by Playwright, and a prefix-stripping proxy.

Playwright's own browser download cannot work offline, so the tests launch the system
Chromium (``apt-get install -y chromium``) and skip, naming that command, without it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.http_helpers import free_port

INSTALL_HINT = "apt-get install -y chromium  (and pip install -e '.[test]' for playwright)"
ARTIFACTS = Path(__file__).parent / "artifacts"
# Network lines Chromium logs for an answer the test provoked on purpose (a 409, a 404 from
# an endpoint an older daemon lacks, a stopped daemon); a real page error is anything else.
NETWORK_NOISE = ("Failed to load resource", "net::ERR_")


def chromium_path() -> str | None:
    for candidate in (os.environ.get("AGENTAPI_CHROMIUM"), "/usr/bin/chromium", "chromium"):
        if candidate and (found := shutil.which(candidate)):
            return found
    return None


def launch_browser() -> Iterator:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"playwright is not installed: {INSTALL_HINT}")
    executable = chromium_path()
    if executable is None:
        pytest.skip(f"no Chromium for the browser tests: {INSTALL_HINT}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            yield browser
        finally:
            browser.close()


class PageLog:
    """What the page said on its console and what it threw."""

    def __init__(self, page) -> None:
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))

    def _console(self, message) -> None:
        if message.type in ("error", "warning"):
            self.errors.append(f"{message.type}: {message.text}")

    def real_errors(self) -> list[str]:
        return [e for e in self.errors if not any(noise in e for noise in NETWORK_NOISE)]


class PrefixProxy:
    """A reverse proxy that strips a path prefix, as Coder's path-based apps do.

    It streams answers chunk by chunk, so Server-Sent Events pass through live.
    """

    def __init__(self, prefix: str, target: str) -> None:
        self.prefix = prefix.rstrip("/")
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.paths: list[str] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PrefixProxy:
        self._thread.start()
        assert self._ready.wait(10), "proxy did not start"
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        from aiohttp import ClientSession, ClientTimeout, web

        hop = {"host", "connection", "keep-alive", "transfer-encoding", "content-length"}
        client = ClientSession(timeout=ClientTimeout(total=None), auto_decompress=False)

        async def forward(request: web.Request) -> web.StreamResponse:
            path = request.path
            self.paths.append(path)
            if not (path == self.prefix or path.startswith(self.prefix + "/")):
                return web.Response(status=404, text=f"not under {self.prefix}\n")
            inner = path[len(self.prefix) :] or "/"
            query = ("?" + request.query_string) if request.query_string else ""
            headers = {k: v for k, v in request.headers.items() if k.lower() not in hop}
            async with client.request(
                request.method,
                self.target + inner + query,
                headers=headers,
                data=await request.read(),
                allow_redirects=False,
            ) as upstream:
                answer = web.StreamResponse(status=upstream.status)
                for key, value in upstream.headers.items():
                    if key.lower() not in hop:
                        answer.headers[key] = value
                await answer.prepare(request)
                try:
                    async for chunk in upstream.content.iter_any():
                        await answer.write(chunk)
                except (ConnectionResetError, asyncio.CancelledError):
                    pass
                return answer

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", forward)
        runner = web.AppRunner(app, shutdown_timeout=1)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        self._stop = asyncio.Event()
        self._ready.set()
        await self._stop.wait()
        await client.close()
        await runner.cleanup()
