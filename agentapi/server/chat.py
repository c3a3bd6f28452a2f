"""The web chat page: ``/chat`` (with a header) and ``/chat/embed`` (for a sidebar iframe).

The page is plain HTML, CSS and ES modules shipped in the package, so it works offline
and needs no build step. Every URL in it is relative to the daemon's root through a
``<base>`` element computed from the request's path, so it works at any base path: a
proxy that strips ``/@owner/workspace.agent/apps/slug`` forwards ``/chat/embed`` here,
and the browser, which sees the long path, resolves ``../status`` to the right place.
"""

from __future__ import annotations

import re
from importlib import resources
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from agentapi.server.problems import problem

# No inline script or style, nothing from another origin. frame-ancestors is left open
# on purpose: Coder's dashboard embeds /chat/embed from its own origin.
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src {connect}; font-src 'self'; base-uri 'self'; form-action 'none'"
)
_ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_ASSET_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*\.(?:js|css|svg)")


def _static(name: str) -> str:
    return (resources.files("agentapi.server") / "static" / name).read_text(encoding="utf-8")


def other_daemon(url: str | None) -> str | None:
    """The origin named by the page's ``?url=`` (another daemon to talk to), if it is one."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if re.search(r"[\s;,'\"]", parts.netloc):
        return None
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}"


def root_href(path: str) -> str:
    """The relative URL from a page at ``path`` to the daemon's root.

    ``/chat`` -> ``./``, ``/chat/embed`` -> ``../``, ``/chat/a/b`` -> ``../../``.
    """
    depth = path.count("/") - 1
    return "../" * depth if depth > 0 else "./"


class ChatPage:
    def __init__(self, chat_base_path: str) -> None:
        self.chat_base_path = chat_base_path
        self._template: str | None = None
        self._assets: dict[str, bytes] = {}

    async def root(self, request: Request) -> Response:
        return RedirectResponse(self.chat_base_path.rstrip("/") + "/embed", 307)

    async def page(self, request: Request) -> Response:
        if self._template is None:
            self._template = _static("chat.html")
        path = request.url.path
        embed = path.rstrip("/").endswith("/chat/embed")
        html = self._template.replace("{{root}}", root_href(path)).replace(
            "{{layout}}", "embed" if embed else "full"
        )
        # ?url= points the page at another daemon: its origin, and only it, may be fetched.
        connect = " ".join(filter(None, ["'self'", other_daemon(request.query_params.get("url"))]))
        return HTMLResponse(
            html,
            headers={
                "Content-Security-Policy": PAGE_CSP.format(connect=connect),
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
                "Cache-Control": "no-cache",
            },
        )

    async def asset(self, request: Request) -> Response:
        name = request.path_params["name"]
        if not _ASSET_NAME.fullmatch(name):
            return problem(404, "Not Found", f"{request.url.path}: no such file")
        body = self._assets.get(name)
        if body is None:
            try:
                file = resources.files("agentapi.server") / "static" / "chat" / name
                body = file.read_bytes()
            except (FileNotFoundError, IsADirectoryError):
                return problem(404, "Not Found", f"{request.url.path}: no such file")
            self._assets[name] = body
        media_type = _ASSET_TYPES[name[name.rindex(".") :]]
        # no-cache: revalidated on each load, so an upgraded daemon never serves a stale page.
        return Response(
            body,
            media_type=media_type,
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )
