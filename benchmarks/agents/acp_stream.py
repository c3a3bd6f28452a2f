"""An ACP agent (the ``agent-client-protocol`` package's agent side) that streams text.

Each prompt ``stream RATE SECONDS`` is answered with ``agent_message_chunk`` updates
carrying RATE bytes per second for SECONDS, one chunk every 20 ms; every chunk starts
with ``MARK <n> <time.time()>`` so a client can time each chunk's way to it.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from acp import (
    PROTOCOL_VERSION,
    Agent,
    InitializeResponse,
    NewSessionResponse,
    PromptResponse,
    run_agent,
    update_agent_message_text,
)
from acp.schema import Implementation

TICK_S = 0.02


class StreamingAgent(Agent):
    def __init__(self) -> None:
        self.client: Any = None

    def on_connect(self, conn: Any) -> None:
        self.client = conn

    async def initialize(self, protocol_version: int, **kwargs: Any) -> InitializeResponse:
        return InitializeResponse(
            protocol_version=PROTOCOL_VERSION,
            agent_info=Implementation(name="acp-stream-bench", version="1.0"),
        )

    async def new_session(self, cwd: str, **kwargs: Any) -> NewSessionResponse:
        return NewSessionResponse(session_id="bench")

    async def cancel(self, session_id: str, **kwargs: Any) -> None:
        pass

    async def prompt(self, prompt: list[Any], session_id: str, **kwargs: Any) -> PromptResponse:
        words = " ".join(getattr(b, "text", "") for b in prompt).split()
        rate, seconds = int(words[1]), float(words[2])
        per_chunk = max(40, int(rate * TICK_S))
        start = time.monotonic()
        n = 0
        while time.monotonic() - start < seconds:
            head = f"MARK {n:06d} {time.time():.6f} "
            text = head + "x" * (per_chunk - len(head) - 1) + "\n"
            await self.client.session_update(session_id, update_agent_message_text(text))
            n += 1
            # Paced against the start, so a slow tick does not lower the rate.
            await asyncio.sleep(max(0.0, start + n * TICK_S - time.monotonic()))
        return PromptResponse(stop_reason="end_turn")


def main() -> None:
    asyncio.run(run_agent(StreamingAgent()))


if __name__ == "__main__":
    main()
