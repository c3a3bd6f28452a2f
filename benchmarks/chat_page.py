"""Chat page: SSE event -> DOM, a 2,000-message transcript and a 200 KB reply, in Chromium.

The page is the real one (``agentapi.server.chat.ChatPage``: the same HTML, modules, CSS
and CSP) served by uvicorn on 127.0.0.1 next to a scripted API whose ``/events`` stream
sends exactly the frames the benchmark pushes, so the figures are the page's own cost and
not the agent's. Headless Debian Chromium (``apt-get install -y chromium``) is driven by
Playwright. A long transcript gets nodes for its newest 200 messages (the rest wait behind
"Show earlier messages"), so its figure is the time to the newest one on screen. Times run
from the moment a frame is handed to the server to the moment a MutationObserver in the
page sees the DOM holding it ("DOM"), and to the next animation frame after a forced
layout ("frame", which is when a person can see it). Both clocks are the machine's wall
clock (``time.time()`` and ``performance.timeOrigin + now()``).

  python benchmarks/chat_page.py [--quick] [--json PATH]
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import threading
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from _common import Report, Result, base_parser, free_port, percentile
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentapi.messages import (
    AgentStatus,
    ConversationRole,
    EventName,
    MessageUpdateBody,
    StatusChangeBody,
)
from agentapi.server.chat import ChatPage
from agentapi.session.hub import Frame

TARGET_UPDATE_P50_MS = 16.0
TARGET_TRANSCRIPT_MS = 500.0
TARGET_BIG_REPLY_MS = 200.0
NOW = datetime.now(UTC)
PROFILE = bool(os.environ.get("CHAT_BENCH_PROFILE"))


def message_frame(id_: int, role: ConversationRole, text: str) -> bytes:
    body = MessageUpdateBody(id=id_, role=role, message=text, time=NOW)
    return Frame.build(EventName.MESSAGE_UPDATE, body).payload


def status_frame(status: AgentStatus) -> bytes:
    body = StatusChangeBody(status=status, agent_type="claude", agent_name="Claude Code")
    return Frame.build(EventName.STATUS_CHANGE, body).payload


class FeedServer:
    """The real chat page, and an API whose event stream says what it is told."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.connected = threading.Event()
        self._queue: asyncio.Queue[bytes] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        page = ChatPage("/chat")
        app = Starlette(
            routes=[
                Route("/chat", page.page),
                Route("/chat/static/{name}", page.asset),
                Route("/status", self.status),
                Route("/messages", self.messages),
                Route("/events", self.events),
            ]
        )
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> FeedServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the feed server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(10)

    async def status(self, request: Request) -> Response:
        return Response(
            b'{"status":"stable","agent_type":"claude","transport":"pty",'
            b'"agent_name":"Claude Code"}',
            media_type="application/json",
        )

    async def messages(self, request: Request) -> Response:
        return Response(b'{"messages":[]}', media_type="application/json")

    async def events(self, request: Request) -> Response:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._queue, self._loop = queue, asyncio.get_running_loop()
        self.connected.set()

        async def frames() -> AsyncIterator[bytes]:
            while True:
                yield await queue.get()

        return StreamingResponse(frames(), media_type="text/event-stream")

    def push(self, data: bytes) -> float:
        """Hand ``data`` to the open stream; the wall-clock time it was handed over."""
        assert self._loop is not None and self._queue is not None
        sent = time.time()
        self._loop.call_soon_threadsafe(self._queue.put_nowait, data)
        return sent


# Runs in the page (through the DevTools protocol, which the page's CSP does not govern).
OBSERVE = """
() => {
  const now = () => performance.timeOrigin + performance.now();
  const list = document.getElementById('messages');
  const seen = (window.__seen = {});
  const frames = (window.__frames = {});
  window.__wantCount = 0;
  window.__wantLength = 0;
  const mark = (key) => {
    if (key in seen) return;
    seen[key] = now();
    requestAnimationFrame(() => {
      void document.body.offsetHeight;  // the frame's layout, as it will be painted
      frames[key] = now();
    });
  };
  // Kept cheap: it runs after every DOM change and is not the page's own cost.
  new MutationObserver(() => {
    if (window.__wantCount) {
      const last = list.lastElementChild;
      if (last && last.dataset.id === String(window.__wantCount - 1)) mark('count');
      return;
    }
    const last = list.lastElementChild;
    if (!last) return;
    const text = last.lastChild.textContent;
    if (window.__wantLength) {
      if (text.length >= window.__wantLength) mark('length');
      return;
    }
    const m = /^update (\\d+)/.exec(text);
    if (m) mark('u' + m[1]);
  }).observe(list, {childList: true, subtree: true, characterData: true});
}
"""


def open_page(browser, server: FeedServer):
    server.connected.clear()
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server.url + "/chat")
    if not server.connected.wait(10):
        raise RuntimeError("the page never opened /events")
    page.evaluate(OBSERVE)
    return page, errors


def wait_key(page, key: str, timeout: float = 30.0) -> tuple[float, float]:
    page.wait_for_function(f"() => '{key}' in (window.__frames || {{}})", timeout=timeout * 1000)
    seen, frame = page.evaluate(f"() => [window.__seen['{key}'], window.__frames['{key}']]")
    return seen / 1000, frame / 1000


def agent_text(n: int) -> str:
    line = f"● Step {n}: edited src/module_{n}.py, see https://example.com/docs/{n} for details."
    return "\n".join(
        [line, *(f"  {i:3d} | def function_{i}(value): return value * {i}" for i in range(8))]
    )


def bench_updates(browser, server: FeedServer, count: int, gap_s: float) -> tuple[list, list]:
    page, errors = open_page(browser, server)
    server.push(message_frame(0, ConversationRole.AGENT, "✻ Welcome"))
    server.push(message_frame(1, ConversationRole.USER, "do the thing"))
    server.push(status_frame(AgentStatus.RUNNING))
    sent: dict[int, float] = {}
    body = agent_text(1)
    for n in range(count):
        sent[n] = server.push(message_frame(2, ConversationRole.AGENT, f"update {n}\n{body}"))
        time.sleep(gap_s)
    # Updates closer together than a frame are shown together: the older one never reaches
    # the DOM (the reader sees the newer one in its place), so it has no time of its own.
    wait_key(page, f"u{count - 1}")
    page.wait_for_timeout(100)  # the last frame callbacks
    seen, frames = page.evaluate("() => [window.__seen, window.__frames]")
    dom = [(seen[f"u{n}"] / 1000 - sent[n]) * 1000 for n in range(count) if f"u{n}" in seen]
    frame = [(frames[f"u{n}"] / 1000 - sent[n]) * 1000 for n in range(count) if f"u{n}" in frames]
    page.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    return dom, frame


def bench_transcript(browser, server: FeedServer, count: int) -> tuple[float, float]:
    page, errors = open_page(browser, server)
    page.evaluate(f"() => {{ window.__wantCount = {count}; }}")
    frames = []
    for i in range(count):
        if i % 2:
            frames.append(message_frame(i, ConversationRole.AGENT, agent_text(i)))
        else:
            frames.append(message_frame(i, ConversationRole.USER, f"please do step {i}"))
    frames.append(status_frame(AgentStatus.STABLE))
    cdp = page.context.new_cdp_session(page) if PROFILE else None
    if cdp:
        cdp.send("Performance.enable")
        before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
    sent = server.push(b"".join(frames))
    seen_at, frame_at = wait_key(page, "count")
    shown = page.evaluate("() => document.querySelectorAll('#messages > li').length")
    earlier = page.evaluate("() => document.getElementById('earlier').textContent")
    if shown + int(earlier.split()[1] if "earlier" in earlier else 0) != count:
        raise RuntimeError(f"{shown} messages shown and {earlier!r}: not {count}")
    if cdp:
        after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        for key in ("ScriptDuration", "RecalcStyleDuration", "LayoutDuration", "TaskDuration"):
            print(f"  profile {key}: {(after[key] - before[key]) * 1000:.0f} ms", file=sys.stderr)
    page.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    return (seen_at - sent) * 1000, (frame_at - sent) * 1000


def bench_big_reply(browser, server: FeedServer, size: int) -> tuple[float, float]:
    page, errors = open_page(browser, server)
    server.push(message_frame(0, ConversationRole.AGENT, "✻ Welcome"))
    server.push(message_frame(1, ConversationRole.USER, "print the whole log"))
    server.push(status_frame(AgentStatus.RUNNING))
    lines, total, n = [], 0, 0
    while total < size:
        line = f"{n:06d} INFO request served in {n % 97} ms https://example.com/r/{n} ok"
        lines.append(line)
        total += len(line) + 1
        n += 1
    text = "\n".join(lines)
    page.wait_for_function("() => document.querySelectorAll('#messages > li').length === 2")
    page.evaluate(f"() => {{ window.__wantLength = {len(text)}; }}")
    sent = server.push(message_frame(2, ConversationRole.AGENT, text))
    seen_at, frame_at = wait_key(page, "length")
    page.close()
    if errors:
        raise RuntimeError(f"page errors: {errors}")
    return (seen_at - sent) * 1000, (frame_at - sent) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = base_parser(__doc__.split("\n")[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--reply-kb", type=int, default=200)
    parser.add_argument("--gap", type=float, default=0.03, help="seconds between updates")
    parser.add_argument("--repeat", type=int, default=3, help="runs of the one-shot figures")
    args = parser.parse_args(argv)
    if args.quick:
        args.updates, args.messages, args.reply_kb, args.repeat = 20, 200, 20, 1
    chromium = shutil.which("chromium") or shutil.which("/usr/bin/chromium")
    if chromium is None:
        # Still a report, so run_all.py's table says why there are no figures.
        report = Report("chat page in headless Chromium (not run)")
        report.add(Result("Chromium", "missing: apt-get install -y chromium", "installed", False))
        report.print()
        report.save(args.json)
        return 0
    from playwright.sync_api import sync_playwright

    with FeedServer() as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium)
        try:
            if not args.quick:
                # A first page warms the module cache and the browser, as a second visit would.
                open_page(browser, server)[0].close()
            dom, frame = bench_updates(browser, server, args.updates, args.gap)
            lists = [bench_transcript(browser, server, args.messages) for _ in range(args.repeat)]
            bigs = [
                bench_big_reply(browser, server, args.reply_kb * 1024) for _ in range(args.repeat)
            ]
        finally:
            browser.close()

    # One-shot figures: the median of the runs (the machine may be shared and busy).
    list_dom = percentile([d for d, _ in lists], 50)
    list_frame = percentile([f for _, f in lists], 50)
    big_dom = percentile([d for d, _ in bigs], 50)
    big_frame = percentile([f for _, f in bigs], 50)
    report = Report(f"chat page in headless Chromium ({chromium})")
    p50, p99 = percentile(dom, 50), percentile(dom, 99)
    report.add(
        Result(
            f"SSE event -> DOM p50 ({len(dom)} updates shown)",
            f"{p50:.1f} ms",
            f"<= {TARGET_UPDATE_P50_MS:.0f} ms",
            p50 <= TARGET_UPDATE_P50_MS,
            p50,
        ),
        Result(f"SSE event -> DOM p99 ({len(dom)} updates shown)", f"{p99:.1f} ms", value=p99),
        Result(
            "updates merged into the next one (< 1 frame apart)",
            f"{args.updates - len(dom)} of {args.updates}",
            value=args.updates - len(dom),
        ),
        Result(
            "SSE event -> next frame p50 / p99",
            f"{percentile(frame, 50):.1f} / {percentile(frame, 99):.1f} ms",
            value=percentile(frame, 50),
        ),
        Result(
            f"{args.messages}-message transcript -> frame",
            f"{list_frame:.0f} ms",
            f"<= {TARGET_TRANSCRIPT_MS:.0f} ms",
            list_frame <= TARGET_TRANSCRIPT_MS,
            list_frame,
        ),
        Result(f"{args.messages}-message transcript -> DOM", f"{list_dom:.0f} ms", value=list_dom),
        Result(
            f"{args.reply_kb} KB reply -> frame",
            f"{big_frame:.0f} ms",
            f"<= {TARGET_BIG_REPLY_MS:.0f} ms",
            big_frame <= TARGET_BIG_REPLY_MS,
            big_frame,
        ),
        Result(f"{args.reply_kb} KB reply -> DOM", f"{big_dom:.0f} ms", value=big_dom),
    )
    report.notes.append(
        "frame = the next requestAnimationFrame after the DOM change, with a forced layout"
    )
    report.notes.append(
        f"one-shot figures are the median of {args.repeat} runs; "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs"
    )
    report.print()
    report.save(args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
