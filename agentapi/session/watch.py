"""Waiting for the conversation to change, without polling.

Every change a session publishes (a message added or updated, a new status) bumps one
counter and wakes whoever waits on it. Waiters re-check their own condition on each
wake, so a thousand idle waiters cost nothing until something actually changes, and
nothing in the daemon loops on a timer to find out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable


class ChangeWatch:
    def __init__(self) -> None:
        self.version = 0
        # Replaced on every change: a waiter holds the event of the version it saw.
        self._changed = asyncio.Event()
        self.closed = False

    def changed(self) -> None:
        self.version += 1
        self._changed.set()
        self._changed = asyncio.Event()

    def close(self) -> None:
        """Shutting down: every waiter answers now, with what there is."""
        self.closed = True
        self.changed()

    async def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` holds (checked now and after every change).

        Returns whether it holds; False once ``timeout`` seconds have passed without it.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not condition():
            if self.closed:
                return False
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            try:
                await asyncio.wait_for(self._changed.wait(), remaining)
            except TimeoutError:
                return condition()
        return True
