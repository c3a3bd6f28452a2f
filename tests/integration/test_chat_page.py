"""The web chat page in a real browser (Debian's Chromium) against the real daemon.

Each test drives the page as a person would (typing, clicking, pressing keys, dropping
files) and asserts what the page shows, and, where it matters, what reached the daemon.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser_support import ARTIFACTS, PageLog, PrefixProxy
from tests.integration.conftest import DEMO, Daemon

pytest.importorskip("playwright", reason="pip install -e '.[test]' installs playwright")
from playwright.sync_api import expect

expect.set_options(timeout=15_000)


# The browser (the `browser` fixture in conftest.py) lives for one module; its tests go to one
# worker together (--dist loadgroup in scripts/test.sh). See conftest.py for why.
pytestmark = pytest.mark.xdist_group("browser")


# Coder's path-based app prefix, which its proxy strips before forwarding.
PREFIX = "/@alice/dev.main/apps/agentapi"


@pytest.fixture(scope="module")
def shared_daemon(tmp_path_factory) -> Iterator[Daemon]:
    """One daemon for the tests that only add to its conversation: daemons are slow to start."""
    flags = ["--chat-base-path", PREFIX + "/chat"]
    daemon = Daemon(tmp_path_factory.mktemp("shared"), [*DEMO, "--think", "0.2"], flags, {}, None)
    try:
        yield daemon.ready()
    finally:
        daemon.close()


@pytest.fixture
def shared(shared_daemon: Daemon) -> Daemon:
    shared_daemon.wait_status("stable")
    return shared_daemon


@pytest.fixture
def open_page(browser) -> Iterator:
    opened: list[tuple[object, PageLog, bool]] = []

    def open_(
        url: str,
        width: int = 1100,
        height: int = 760,
        scheme: str = "light",
        quiet: bool = True,
        permissions: list[str] | None = None,
    ):
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=scheme,
            permissions=permissions or [],
        )
        page = context.new_page()
        log = PageLog(page)
        opened.append((context, log, quiet))
        page.goto(url)
        expect(page.locator("body")).to_have_attribute("data-synced", "true")
        return page, log

    yield open_
    for context, log, quiet in opened:
        context.close()  # type: ignore[attr-defined]
        assert log.real_errors() == [], log.errors
        if quiet:
            assert log.errors == [], log.errors


def messages(page):
    return page.locator("#messages > li")


def send(page, text: str) -> None:
    page.locator("#draft").fill(text)
    page.locator("#draft").press("Enter")


def turn(page, text: str) -> None:
    """Send ``text`` and wait for the reply to finish: two more messages, status stable."""
    count = messages(page).count()
    send(page, text)
    expect(messages(page)).to_have_count(count + 2)
    expect(page.locator("#draft")).to_have_value("")
    expect(page.locator("body")).to_have_attribute("data-status", "stable")


def shoot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"))


def test_full_turn_with_status_flips(shared, open_page):
    page, _ = open_page(shared.url + "/chat")
    expect(page.locator("#status-word")).to_have_text("Stable")
    expect(page.locator("#agent-name")).to_have_text("Custom")
    expect(messages(page).first).to_contain_text("agentapi demo agent")
    count = messages(page).count()
    send(page, "/think 1.5 pondered and done")
    expect(page.locator("#status-word")).to_have_text("Running")
    expect(page.locator("#stop")).to_be_visible()
    expect(page.locator("#status-word")).to_have_text("Stable")
    expect(page.locator("#stop")).to_be_hidden()
    expect(messages(page)).to_have_count(count + 2)
    expect(messages(page).nth(count).locator(".body")).to_have_text("/think 1.5 pondered and done")
    expect(messages(page).nth(count)).to_have_class("message message-user")
    expect(messages(page).last.locator(".body")).to_have_text("● pondered and done")
    expect(page.locator("#draft")).to_have_value("")
    expect(page.locator("#announcer")).to_contain_text("pondered and done")
    ids = [m["id"] for m in shared.messages()]
    assert ids == list(range(count + 2))
    shown = page.locator("#messages > li").evaluate_all("items => items.map(i => +i.dataset.id)")
    assert shown == ids


def test_links_are_clickable_and_whitespace_kept(shared, open_page):
    page, _ = open_page(shared.url + "/chat")
    turn(page, "see https://example.com/docs. and\n    indented")
    reply = messages(page).last
    expect(reply.locator(".body")).to_have_text(
        "● You said: see https://example.com/docs. and\n      indented"
    )
    link = reply.locator("a")
    expect(link).to_have_attribute("href", "https://example.com/docs")
    expect(link).to_have_attribute("target", "_blank")
    assert reply.locator(".body").evaluate("e => getComputedStyle(e).whiteSpace") == "pre-wrap"


def test_copy_button_and_wide_characters(shared, open_page):
    page, _ = open_page(shared.url + "/chat", permissions=["clipboard-read", "clipboard-write"])
    turn(page, "你好 wide ok")
    reply = messages(page).last
    expect(reply.locator(".body")).to_have_text("● You said: 你好 wide ok")
    # Each wide character takes exactly two cells of the monospace grid, as on the terminal.
    widths = reply.locator(".body").evaluate(
        """body => {
          const probe = document.createElement('span');
          probe.textContent = 'x'.repeat(20);
          body.append(probe);
          const cell = probe.getBoundingClientRect().width / 20;
          probe.remove();
          const wide = [...body.querySelectorAll('.wide')];
          return [cell, ...wide.map(w => w.getBoundingClientRect().width)];
        }"""
    )
    cell, *wide = widths
    assert len(wide) == 2 and all(abs(w - 2 * cell) < 0.5 for w in wide), widths
    reply.hover()
    reply.locator("button.copy").click()
    expect(reply.locator("button.copy")).to_have_text("Copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == "● You said: 你好 wide ok"


def test_auto_scroll_stops_when_scrolled_up_and_jump_returns(shared, open_page):
    page, _ = open_page(shared.url + "/chat/embed", width=400, height=700)
    turn(page, "/lines 40")
    at_bottom = "e => e.scrollHeight - e.scrollTop - e.clientHeight < 5"
    transcript = page.locator("#transcript")
    page.wait_for_function(f"() => ({at_bottom})(document.getElementById('transcript'))")
    expect(page.locator("#jump")).to_be_hidden()
    transcript.evaluate("e => { e.scrollTop = 0; e.dispatchEvent(new Event('scroll')); }")
    assert shared.send("/lines 5").status_code == 200
    expect(page.locator("#jump")).to_be_visible()
    assert transcript.evaluate("e => e.scrollTop") == 0  # the reader's place is kept
    page.locator("#jump").click()
    expect(page.locator("#jump")).to_be_hidden()
    assert transcript.evaluate(at_bottom)
    expect(page.locator("body")).to_have_attribute("data-status", "stable")


def test_keyboard_alone_reaches_everything_and_every_control_is_labelled(shared, open_page):
    page, _ = open_page(shared.url + "/chat")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, select, textarea, [tabindex="0"]')]
          .filter(e => !(e.getAttribute('aria-label') || e.labels?.length
                         || e.textContent.trim()))
          .map(e => e.outerHTML)"""
    )
    assert unnamed == []
    focused: list[str] = []
    for _ in range(40):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("() => document.activeElement.id"))
        if focused[-1] == "draft":
            break
    assert focused[-1] == "draft", focused
    assert {"theme", "tab-chat", "transcript"} <= set(focused)
    page.keyboard.type("typed with the keyboard")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    expect(page.locator("#draft")).to_have_value("typed with the keyboard\nsecond line")
    count = messages(page).count()
    page.keyboard.press("Enter")
    expect(messages(page)).to_have_count(count + 2)
    expect(messages(page).nth(count).locator(".body")).to_have_text(
        "typed with the keyboard\nsecond line"
    )
    # The Terminal tab by arrow key, and back.
    page.locator("#tab-chat").focus()
    page.keyboard.press("ArrowRight")
    expect(page.locator("#tab-terminal")).to_be_focused()
    expect(page.locator("#panel-terminal")).to_be_visible()
    page.keyboard.press("ArrowLeft")
    expect(page.locator("#panel-chat")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-status", "stable")


def test_paste_of_a_file_uploads_it(shared, open_page):
    page, _ = open_page(shared.url + "/chat")
    page.locator("#draft").fill("look at")
    page.locator("#draft").evaluate(
        """draft => {
          const data = new DataTransfer();
          data.items.add(new File(["pasted bytes"], "shot.png", {type: "image/png"}));
          draft.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
        }"""
    )
    expect(page.locator("#draft")).to_have_value(re.compile(r'^look at @"[^"]+/shot\.png"$'))
    path = re.search(r'@"([^"]+)"', page.locator("#draft").input_value())
    assert path and Path(path.group(1)).read_bytes() == b"pasted bytes"


def test_send_while_running_keeps_the_draft_and_stop_interrupts(shared, open_page):
    page, log = open_page(shared.url + "/chat", quiet=False)
    count = messages(page).count()
    users_before = [m["content"] for m in shared.messages() if m["role"] == "user"]
    send(page, "/think 30 never said")
    expect(page.locator("#status-word")).to_have_text("Running")
    expect(page.locator("#draft")).to_have_value("")  # the agent took it
    send(page, "too soon")
    expect(page.locator("#hint")).to_contain_text("busy")
    expect(page.locator("#draft")).to_have_value("too soon")
    page.locator("#stop").click()
    expect(messages(page).nth(count + 1).locator(".body")).to_have_text("● Interrupted.")
    expect(page.locator("#status-word")).to_have_text("Stable")
    users = [m["content"] for m in shared.messages() if m["role"] == "user"]
    assert users == [*users_before, "/think 30 never said"]
    # The draft kept from the refused send goes once the agent is free.
    page.locator("#send").click()
    expect(messages(page)).to_have_count(count + 4)
    expect(page.locator("body")).to_have_attribute("data-status", "stable")
    expect(page.locator("#draft")).to_have_value("")
    assert any("409" in e for e in log.errors)


def test_stop_on_a_daemon_without_the_interrupt_endpoint_sends_esc(shared, open_page):
    page, _ = open_page(shared.url + "/chat", quiet=False)
    # An older daemon answers 404 here; the page then types the Esc most agents take.
    page.route(
        "**/interrupt",
        lambda route: route.fulfill(
            status=404, content_type="application/problem+json", body='{"status": 404}'
        ),
    )
    count = messages(page).count()
    send(page, "/think 30 never said")
    expect(page.locator("#stop")).to_be_visible()
    expect(page.locator("#draft")).to_have_value("")
    page.locator("#stop").click()
    expect(messages(page)).to_have_count(count + 2)
    expect(messages(page).last.locator(".body")).to_have_text("● Interrupted.")
    expect(page.locator("body")).to_have_attribute("data-status", "stable")


def test_control_mode_answers_a_confirmation(shared, open_page):
    page, _ = open_page(shared.url + "/chat")
    turn(page, "/confirm")
    expect(messages(page).last).to_contain_text("Proceed with the plan? (y/n)")
    page.locator("#mode-control").click()
    expect(page.locator("#capture")).to_be_focused()
    page.keyboard.press("y")
    expect(page.locator("#trail .chip")).to_have_text(["y"])
    expect(messages(page).last.locator(".body")).to_have_text("● Confirmed.")
    expect(page.locator("#trail .chip.sent")).to_have_count(1)
    # Named keys and their chips: arrows and Ctrl combinations.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("Control+u")
    expect(page.locator("#trail .chip")).to_have_text(["y", "↑", "Ctrl+U"])
    page.keyboard.press("F2")
    expect(page.locator("#mode-text")).to_be_focused()


def test_uploads_by_chooser_and_by_drag_and_drop(shared, open_page, tmp_path):
    page, _ = open_page(shared.url + "/chat")
    note = tmp_path / "notes.txt"
    note.write_bytes(b"chosen bytes\n")
    page.locator("#draft").fill("read")
    with page.expect_file_chooser() as chooser:
        page.locator("#upload").click()
    chooser.value.set_files(str(note))
    expect(page.locator("#draft")).to_have_value(re.compile(r'^read @"[^"]+/notes\.txt"$'))
    chosen = re.search(r'@"([^"]+)"', page.locator("#draft").input_value())
    assert chosen and Path(chosen.group(1)).read_bytes() == b"chosen bytes\n"

    page.locator("#draft").fill("")
    drop = page.evaluate_handle(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File(["dropped bytes"], "dropped.md", {type: "text/markdown"}));
          return data;
        }"""
    )
    page.dispatch_event("#transcript", "dragenter", {"dataTransfer": drop})
    expect(page.locator("#drop")).to_be_visible()
    page.dispatch_event("#transcript", "drop", {"dataTransfer": drop})
    expect(page.locator("#drop")).to_be_hidden()
    expect(page.locator("#draft")).to_have_value(re.compile(r'^@"[^"]+/dropped\.md"$'))
    dropped = re.search(r'@"([^"]+)"', page.locator("#draft").input_value())
    assert dropped and Path(dropped.group(1)).read_bytes() == b"dropped bytes"

    # Too large: refused in the page, saying the limit, without a request.
    big = page.evaluate_handle(
        """() => {
          const data = new DataTransfer();
          data.items.add(new File([new Uint8Array(10 * 1024 * 1024 + 1)], "huge.bin"));
          return data;
        }"""
    )
    page.dispatch_event("#transcript", "drop", {"dataTransfer": big})
    expect(page.locator(".toast-error")).to_contain_text("huge.bin is 10.0 MiB")
    expect(page.locator(".toast-error")).to_contain_text("10 MiB upload limit")
    expect(page.locator("#draft")).to_have_value(re.compile(r'^@"[^"]+/dropped\.md"$'))


def test_terminal_view_shows_the_screen(shared, open_page):
    page, _ = open_page(shared.url + "/chat")
    page.locator("#tab-terminal").click()
    expect(page.locator("#panel-terminal")).to_be_visible()
    expect(page.locator("#panel-chat")).to_be_hidden()
    expect(page.locator("#screen")).to_contain_text("/think N · /lines N")
    expect(page.locator("#screen")).to_contain_text("❯")
    page.locator("#tab-chat").click()
    page.locator("#draft").fill("typed while away")
    page.locator("#tab-terminal").click()
    send_via_api = shared.send("shown on screen")
    assert send_via_api.status_code == 200
    expect(page.locator("#screen")).to_contain_text("● You said: shown on screen")
    shared.wait_status("stable")


def test_prefixed_base_path_through_a_stripping_proxy(shared, open_page):
    prefix = PREFIX
    with PrefixProxy(prefix, shared.url) as proxy:
        page, _ = open_page(proxy.url + prefix + "/")
        expect(page).to_have_url(proxy.url + prefix + "/chat/embed")
        expect(page.locator("#header")).to_be_hidden()
        turn(page, "through the proxy")
        expect(messages(page).last.locator(".body")).to_have_text("● You said: through the proxy")
        page.locator("#tab-terminal").click()
        expect(page.locator("#screen")).to_contain_text("● You said: through the proxy")
        full, _ = open_page(proxy.url + prefix + "/chat")
        expect(full.locator("#status-word")).to_have_text("Stable")
        expect(messages(full)).to_have_count(messages(page).count())
        assert all(p.startswith(prefix) for p in proxy.paths), proxy.paths
        assert prefix + "/chat/static/app.js" in proxy.paths
        assert prefix + "/events" in proxy.paths and prefix + "/internal/screen" in proxy.paths
        # Closed while the proxy still runs: a proxy going away cuts the streams mid-answer.
        page.context.close()
        full.context.close()


def test_url_parameter_points_the_page_at_another_daemon(shared, start_daemon, open_page):
    other = start_daemon(flags=["--type", "demo", "--allowed-origins", shared.url]).ready()
    before = len(shared.messages())
    page, _ = open_page(f"{shared.url}/chat?url={other.url}")
    expect(page.locator("#agent-name")).to_have_text("Demo agent")
    turn(page, "to the other one")
    assert [m["content"] for m in other.messages()][1] == "to the other one"
    assert len(shared.messages()) == before


def test_restart_with_state_file_shows_the_transcript_once(start_daemon, open_page, tmp_path):
    state = tmp_path / "state.json"
    first = start_daemon(flags=["--state-file", str(state)]).ready()
    page, _ = open_page(first.url + "/chat", quiet=False)
    turn(page, "remember me")
    first.turn("/think 0 saved")  # a second turn from elsewhere, seen live
    expect(messages(page)).to_have_count(5)
    first.signal(signal.SIGTERM)
    assert first.wait_exit() == 0
    expect(page.locator("#connection")).to_be_visible()
    expect(page.locator("#status-word")).to_have_text("Offline")
    expect(page.locator("#connection-text")).to_contain_text("Reconnecting")
    second = start_daemon(flags=["--state-file", str(state)], port=first.port).ready()
    # "Retry now" instead of waiting out the backoff (it may have reconnected already).
    page.locator("#reconnect-now").dispatch_event("click")
    expect(page.locator("#connection")).to_be_hidden()
    expect(page.locator("#status-word")).to_have_text("Stable")
    assert [m["id"] for m in second.messages()] == [0, 1, 2, 3, 4]
    expect(messages(page)).to_have_count(5)
    ids = [li.get_attribute("data-id") for li in messages(page).all()]
    assert ids == ["0", "1", "2", "3", "4"]
    expect(page.locator(".message-user .body")).to_have_text(["remember me", "/think 0 saved"])


def test_a_long_transcript_opens_at_its_end_and_shows_earlier_messages_on_demand(
    start_daemon, open_page, tmp_path
):
    state = tmp_path / "long.json"
    saved = [
        {
            "id": i,
            "role": "user" if i % 2 else "agent",
            "message": f"saved message {i}",
            "time": "2026-01-01T10:00:00Z",
        }
        for i in range(600)
    ]
    state.write_text(json.dumps({"version": 1, "messages": saved}))
    daemon = start_daemon(flags=["--state-file", str(state)]).ready()
    total = len(daemon.messages())
    assert total >= 600
    page, _ = open_page(daemon.url + "/chat")
    expect(messages(page)).to_have_count(200)
    expect(messages(page).last).to_have_attribute("data-id", str(total - 1))
    expect(page.locator("#earlier")).to_have_text(f"Show {total - 200} earlier messages")
    page.locator("#earlier").click()
    expect(messages(page).first).not_to_have_attribute("data-id", str(total - 200))
    assert messages(page).count() in (400, 600, total)  # scrolled to the top: maybe more
    # Scrolling up to the top brings the rest, in order, the reader's place kept meanwhile.
    for _ in range(3):
        page.locator("#transcript").evaluate("e => { e.scrollTop = 0; }")
        page.wait_for_timeout(100)
    expect(page.locator("#earlier")).to_be_hidden()
    ids = page.locator("#messages > li").evaluate_all("items => items.map(i => +i.dataset.id)")
    assert ids == [m["id"] for m in daemon.messages()]
    expect(messages(page).first.locator(".body")).to_have_text("saved message 0")


def test_the_page_works_behind_an_auth_token_link(start_daemon, open_page):
    token = "page-s3cret"
    daemon = start_daemon(flags=["--auth-open-status"], env={"AGENTAPI_AUTH_TOKEN": token})
    daemon.wait_listening()
    page, _ = open_page(f"{daemon.url}/chat/embed?token={token}")
    expect(page).to_have_url(daemon.url + "/chat/embed")  # the token is not left in the URL
    expect(page.locator("body")).to_have_attribute("data-status", "stable")
    turn(page, "with a token")
    expect(messages(page).last.locator(".body")).to_have_text("● You said: with a token")
    page.locator("#tab-terminal").click()
    expect(page.locator("#screen")).to_contain_text("● You said: with a token")


def test_agent_error_is_a_dismissible_banner(start_daemon, open_page, tmp_path):
    state = tmp_path / "broken.json"
    state.write_text("{ not json")
    daemon = start_daemon(flags=["--state-file", str(state)]).ready()
    page, _ = open_page(daemon.url + "/chat")
    banner = page.locator("#agent-errors .agent-error")
    expect(banner).to_have_count(1)
    expect(banner).to_contain_text("Warning: Starting with a fresh conversation")
    banner.locator("button").click()
    expect(banner).to_have_count(0)


def test_embed_fits_a_narrow_sidebar_in_both_themes(shared, open_page):
    page, _ = open_page(shared.url + "/chat/embed", width=400, height=700)
    expect(page.locator("#header")).to_be_hidden()
    expect(page.locator("#embed-status")).to_have_text("Stable")  # the status, without a header
    turn(page, "/lines 12")
    turn(page, "a very long line " + "x" * 300 + " https://example.com/" + "y" * 200)
    expect(page.locator("#status-word")).to_have_text("Stable")
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 400
    assert page.locator("#transcript").evaluate("e => e.scrollWidth <= e.clientWidth")
    shoot(page, "embed-light")
    page.emulate_media(color_scheme="dark")
    # The page hears of the change at its next frame (a matchMedia event), not at once.
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(17, 20, 24)"
    shoot(page, "embed-dark")


def test_theme_menu_and_full_layout_screenshots(shared, open_page):
    page, _ = open_page(shared.url + "/chat")
    turn(page, "hello, show me the page")
    expect(page.locator("#status-word")).to_have_text("Stable")
    shoot(page, "full-light")
    page.locator("#theme").select_option("dark")
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    bg = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert bg == "rgb(17, 20, 24)"
    shoot(page, "full-dark")
    page.reload()
    expect(page.locator("#theme")).to_have_value("dark")
    page.locator("#theme").select_option("light")
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
        "rgb(255, 255, 255)"
    )
    page.locator("#mode-control").click()
    shoot(page, "full-control")


DARK_BG = "rgb(17, 20, 24)"
LIGHT_BG = "rgb(255, 255, 255)"


def body_background(page) -> str:
    return page.evaluate("() => getComputedStyle(document.body).backgroundColor")


def test_a_dark_system_gets_the_dark_palette_with_no_stored_choice(shared, open_page):
    page, _ = open_page(shared.url + "/chat", scheme="dark")
    assert page.evaluate("() => localStorage.getItem('agentapi-theme')") is None
    expect(page.locator("#theme")).to_have_value("system")
    # The one dark palette is keyed on data-theme, which the page resolves from the system.
    assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
    assert body_background(page) == DARK_BG
    assert page.locator("#draft").evaluate("e => getComputedStyle(e).colorScheme") == "dark"
    # A choice beats the system, and is remembered; System follows it again, and its changes.
    page.locator("#theme").select_option("light")
    assert body_background(page) == LIGHT_BG
    page.reload()
    expect(page.locator("#theme")).to_have_value("light")
    assert body_background(page) == LIGHT_BG
    page.locator("#theme").select_option("system")
    assert body_background(page) == DARK_BG
    page.emulate_media(color_scheme="light")
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert body_background(page) == LIGHT_BG


def test_the_theme_is_set_before_the_app_runs(shared, browser):
    """theme.js runs in <head>: a dark system never sees the light palette first."""
    context = browser.new_context(color_scheme="dark")
    try:
        page = context.new_page()
        # Without the app's modules at all, the page is drawn in the system's theme.
        page.route("**/chat/static/app.js", lambda route: route.abort())
        page.goto(shared.url + "/chat")
        assert page.evaluate("() => document.documentElement.dataset.theme") == "dark"
        assert body_background(page) == DARK_BG
        expect(page.locator("#status-word")).to_have_text("Connecting")  # no app ran
    finally:
        context.close()


def test_page_is_served_with_a_strict_policy_and_no_foreign_assets(shared):
    page = shared.http.get("/chat/embed")
    policy = page.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    assert "unsafe-inline" not in policy
    assert '<base href="../">' in page.text
    assert "<style" not in page.text and "<script>" not in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)
    assert '<base href="./">' in shared.http.get("/chat").text
    elsewhere = shared.http.get("/chat", params={"url": "http://127.0.0.1:9/x"})
    assert "connect-src 'self' http://127.0.0.1:9;" in elsewhere.headers["content-security-policy"]
    refused = shared.http.get("/chat", params={"url": "javascript:alert(1)"})
    assert "connect-src 'self';" in refused.headers["content-security-policy"]
    script = shared.http.get("/chat/static/app.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert shared.http.get("/chat/static/chat.html").status_code == 404
    assert shared.http.get("/chat/static/.app.js").status_code == 404
    assert shared.http.get("/chat/static/nope.js").status_code == 404
