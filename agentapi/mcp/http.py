"""``/mcp`` in the daemon: the same MCP tools over streamable HTTP (``agentapi server --mcp``).

The tools drive this daemon's own agent through its HTTP API on 127.0.0.1, exactly as
``agentapi mcp`` would, so there is one implementation of each tool. The route sits
inside the daemon's app, behind its Host allow-list and CORS middleware; the mcp
package's own DNS-rebinding check is off because those already apply.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from mcp.server.streamable_http_manager import StreamableHTTPASGIApp
from mcp.server.transport_security import TransportSecuritySettings
from starlette.routing import Route

from agentapi.mcp.server import build_server
from agentapi.mcp.tools import AgentTools, Daemon

MCP_PATH = "/mcp"


class McpEndpoint:
    def __init__(self, self_url: str, agent_name: str = "agent") -> None:
        self.tools = AgentTools([Daemon(agent_name, self_url)])
        self.server = build_server(self.tools)
        # Creates the session manager; the app it returns is not used (our app routes).
        self.server.streamable_http_app(
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False)
        )
        self.route = Route(
            MCP_PATH,
            endpoint=StreamableHTTPASGIApp(self.server.session_manager),
            methods=["GET", "POST", "DELETE"],
        )

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        try:
            async with self.server.session_manager.run():
                yield
        finally:
            await self.tools.close()
