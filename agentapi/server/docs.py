"""The API's own description: the OpenAPI document and a documentation page that works offline."""

from __future__ import annotations

import json
from importlib import resources

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response


def static_text(name: str) -> str:
    return (resources.files("agentapi.server") / "static" / name).read_text(encoding="utf-8")


class ApiDocs:
    def __init__(self) -> None:
        self._openapi: bytes | None = None

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            # Built on first request: generating the schemas is not start-up work.
            from agentapi.server.openapi import build_openapi

            self._openapi = json.dumps(build_openapi(), indent=2).encode()
        return Response(self._openapi, media_type="application/json")

    async def docs(self, request: Request) -> Response:
        return HTMLResponse(static_text("docs.html"))
