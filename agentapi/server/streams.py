"""The Server-Sent Events endpoints: the conversation (``/events``) and the screen."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from agentapi.messages import EventName
from agentapi.session.hub import EventHub

SSE_HEADERS = {
    "Cache-Control": "no-cache, no-store, must-revalidate",
    "Pragma": "no-cache",
    "Expires": "0",
    "X-Accel-Buffering": "no",
    "X-Proxy-Buffering": "no",
}
SSE_PING_S = 15


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


class EventStreams:
    def __init__(self, hub: EventHub) -> None:
        self.hub = hub

    async def events(self, request: Request) -> Response:
        names = {EventName.MESSAGE_UPDATE, EventName.STATUS_CHANGE}
        # agent_error only on request: the Go SDK treats an unknown event name as fatal.
        if _truthy(request.query_params.get("errors")):
            names.add(EventName.AGENT_ERROR)
        # message_parts (ACP mode's tool calls, plans, permission requests) likewise.
        if _truthy(request.query_params.get("parts")):
            names.add(EventName.MESSAGE_PARTS)
        return self._stream(names)

    async def screen(self, request: Request) -> Response:
        return self._stream({EventName.SCREEN})

    def _stream(self, names: set[EventName]) -> Response:
        subscription = self.hub.subscribe(names)
        return StreamingResponse(
            subscription.frames(ping_s=SSE_PING_S),
            media_type="text/event-stream",
            headers=SSE_HEADERS,
        )
