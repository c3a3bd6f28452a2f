"""The chat page in a real browser (Debian's Chromium) against a daemon in ACP mode."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.browser_support import PageLog
from tests.integration.conftest import Daemon
from tests.integration.test_acp import ACP, FAKE_ACP

pytest.importorskip("playwright", reason="pip install -e '.[test]' installs playwright")
from playwright.sync_api import expect

expect.set_options(timeout=15_000)

# One browser per module (conftest.py), its tests on one worker.
pytestmark = pytest.mark.xdist_group("browser")


@pytest.fixture(scope="module")
def asking(tmp_path_factory) -> Iterator[Daemon]:
    daemon = Daemon(
        tmp_path_factory.mktemp("chat-acp"),
        FAKE_ACP,
        [*ACP, "--acp-permissions", "ask", "--acp-permission-timeout", "60"],
        {},
        None,
    )
    try:
        yield daemon.ready()
    finally:
        daemon.close()


def test_permission_is_answered_from_the_page(asking, browser):
    context = browser.new_context(viewport={"width": 1000, "height": 700})
    page = context.new_page()
    log = PageLog(page)
    try:
        page.goto(asking.url + "/chat")
        expect(page.locator("body")).to_have_attribute("data-synced", "true")
        page.locator("#draft").fill("/perm")
        page.locator("#draft").press("Enter")
        group = page.get_by_role("group", name="Allow Delete a.txt?")
        expect(group).to_be_visible()
        expect(group.get_by_role("button")).to_have_text(["Allow", "Always", "Reject"])
        assert asking.status() == "running"
        group.get_by_role("button", name="Always").click()
        last = page.locator("#messages > li").last
        expect(last.locator(".body")).to_contain_text("Permission: always.")
        expect(page.locator(".permission")).to_have_count(0)
        expect(page.locator("body")).to_have_attribute("data-status", "stable")
        part = next(p for p in asking.messages()[-1]["parts"] if p["type"] == "permission")
        assert part["selected"] == "always"
    finally:
        context.close()
    assert log.real_errors() == [], log.errors
