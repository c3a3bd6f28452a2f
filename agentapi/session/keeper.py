"""Keeps the conversation in the state file: restore at start, save after changes.

Beyond the original's saves on shutdown and SIGUSR1, every change to the
transcript is saved within about a second, so a daemon that is killed, or a
workspace that loses power, loses at most the last second.
"""

from __future__ import annotations

import logging
from pathlib import Path

from agentapi.conversation import SavedTranscript
from agentapi.session.session import Session
from agentapi.session.statefile import (
    SavedState,
    StateFileError,
    StateSaver,
    load_state,
    move_aside,
)

log = logging.getLogger("agentapi.session.keeper")

SAVE_DELAY_S = 0.5


class StateKeeper:
    def __init__(self, session: Session, path: Path, *, load: bool, save: bool) -> None:
        self._session = session
        self._path = path
        self._load = load
        self._save = save
        self._saver = StateSaver(path, self._snapshot, delay=SAVE_DELAY_S) if save else None

    def start(self) -> None:
        """Read the state file and arrange for it to be restored once the agent is ready."""
        if self._load:
            self._restore_from_file()
        if self._saver is not None:
            self._session.on_transcript_change = self._changed

    def _restore_from_file(self) -> None:
        try:
            saved = load_state(self._path)
        except StateFileError as exc:
            kept = move_aside(self._path) if self._path.exists() else None
            where = f"; the file was kept as {kept}" if kept else ""
            message = f"Starting with a fresh conversation: {exc}{where}"
            log.warning("%s", message)
            self._session.report_error(message, "warning")
            return
        if saved is None:
            log.info("no state file at %s yet: a fresh start", self._path)
            return
        log.info("restoring %d messages from %s", len(saved.messages), self._path)
        self._session.schedule_restore(
            SavedTranscript(tuple(saved.messages), saved.initial_prompt, saved.initial_prompt_sent)
        )

    def _snapshot(self) -> SavedState:
        conv = self._session.conversation
        return SavedState(
            messages=list(conv.messages),
            initial_prompt=conv.initial_prompt,
            initial_prompt_sent=conv.initial_prompt_sent,
        )

    def _changed(self) -> None:
        # Until a pending restore has happened, the file holds more than we do.
        if self._saver is not None and not self._session.conversation.restore_pending:
            self._saver.mark_dirty()

    async def save_now(self) -> bool:
        """Write the state at once (SIGUSR1, shutdown): stop scripts read it right after."""
        if self._saver is None or self._session.conversation.restore_pending:
            return False
        return await self._saver.flush(force=True)

    def close(self) -> None:
        if self._saver is not None:
            self._saver.close()
