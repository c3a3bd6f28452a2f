"""The state file: the conversation saved as JSON, readable by and from the original daemon.

``StateKeeper`` restores it once the agent is ready and saves every change within
about a second (beyond the original's saves on shutdown and SIGUSR1), so a daemon that
is killed, or a workspace that loses power, loses at most the last second.

Format (version 1), one JSON object:

    {"version": 1,
     "messages": [{"id": 0, "message": "...", "role": "agent", "time": "2025-01-01T00:00:00.5Z"}],
     "initial_prompt": "...",
     "initial_prompt_sent": true}

Times are RFC 3339 with an offset, as Go's ``time.Time`` marshals them (``Z`` for UTC,
fraction up to nanoseconds with trailing zeros trimmed).
"""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from agentapi.conversation import SavedTranscript
from agentapi.errors import StateFileError
from agentapi.messages import (
    ErrorLevel,
    Message,
    MessagePart,
    Role,
    format_rfc3339,
    parse_rfc3339,
)
from agentapi.session.files import reason as _reason
from agentapi.session.files import write_atomic

log = logging.getLogger("agentapi.session.statefile")

STATE_VERSION = 1


# --- encoding ---------------------------------------------------------------------------------


def encode_state(state: SavedTranscript) -> bytes:
    """The file's bytes: compact JSON and a newline, the layout the original writes."""
    document = {
        "version": STATE_VERSION,
        "messages": [_encode_message(m) for m in state.messages],
        "initial_prompt": state.initial_prompt,
        "initial_prompt_sent": state.initial_prompt_sent,
    }
    if state.acp_session_id:
        document["acp_session_id"] = state.acp_session_id
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":")) + "\n"
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        # Lone surrogates (undecodable terminal bytes) have no UTF-8 form; \u escapes
        # keep them, and the file stays valid UTF-8.
        text = json.dumps(document, ensure_ascii=True, separators=(",", ":")) + "\n"
        return text.encode("ascii")


def _encode_message(m: Message) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": m.id,
        "message": m.content,
        "role": str(m.role),
        "time": format_rfc3339(m.time),
    }
    # ACP mode's structure: extra keys, which the original's loader ignores.
    if m.parts is not None:
        item["parts"] = [p.to_wire() for p in m.parts]
    if m.stop_reason is not None:
        item["stop_reason"] = m.stop_reason
    return item


def _decode_structure(item: Mapping[str, Any]) -> dict[str, Any]:
    """Parts and stop reason if they are well-formed; dropped (never fatal) otherwise."""
    extra: dict[str, Any] = {}
    parts = item.get("parts")
    if isinstance(parts, list):
        try:
            extra["parts"] = [MessagePart.from_wire(p) for p in parts]
        except ValueError:
            log.warning("ignored the malformed parts of a saved message")
    if isinstance(item.get("stop_reason"), str):
        extra["stop_reason"] = item["stop_reason"]
    return extra


class _Invalid(Exception):
    """A problem inside the document; the loader adds the file name."""


class _UnknownVersion(_Invalid):
    pass


def _field(obj: Mapping[str, Any], name: str) -> tuple[bool, Any]:
    # Go's decoder matches keys case-insensitively, and early releases of the original
    # wrote untagged field names ("Id", "Message", ...): accept both, exact match first.
    if name in obj:
        return True, obj[name]
    for key, value in obj.items():
        if key.lower() == name:
            return True, value
    return False, None


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _decode_message(index: int, item: Any) -> Message:
    where = f"messages[{index}]"
    if not isinstance(item, dict):
        raise _Invalid(f"{where} is {_type_name(item)}, expected an object")
    values: dict[str, Any] = {}
    for name in ("id", "message", "role", "time"):
        found, value = _field(item, name)
        if not found:
            raise _Invalid(f"{where} has no {name!r} field")
        values[name] = value
    msg_id = values["id"]
    if not isinstance(msg_id, int) or isinstance(msg_id, bool):
        raise _Invalid(f"{where}.id is {_type_name(msg_id)}, expected an integer")
    content = values["message"]
    if not isinstance(content, str):
        raise _Invalid(f"{where}.message is {_type_name(content)}, expected a string")
    role = values["role"]
    if role not in (Role.USER.value, Role.AGENT.value):
        raise _Invalid(f'{where}.role is {json.dumps(role)}, expected "user" or "agent"')
    stamp = values["time"]
    if not isinstance(stamp, str):
        raise _Invalid(f"{where}.time is {_type_name(stamp)}, expected a string")
    try:
        moment = parse_rfc3339(stamp)
    except ValueError as exc:
        raise _Invalid(f"{where}.time: {exc}") from None
    return Message(
        id=msg_id, role=Role(role), content=content, time=moment, **_decode_structure(item)
    )


def decode_state(document: Any) -> SavedTranscript:
    if not isinstance(document, dict):
        raise _Invalid(f"the top level is {_type_name(document)}, expected an object")
    found, version = _field(document, "version")
    if not found:
        raise _Invalid("it has no 'version' field")
    if not isinstance(version, int) or isinstance(version, bool):
        raise _Invalid(f"'version' is {_type_name(version)}, expected an integer")
    if version != STATE_VERSION:
        raise _UnknownVersion(f"has unknown version {version} (this agentapi reads version 1)")
    _, raw_messages = _field(document, "messages")
    # The original writes null for an empty transcript it never filled in.
    if raw_messages is None:
        raw_messages = []
    if not isinstance(raw_messages, list):
        raise _Invalid(f"'messages' is {_type_name(raw_messages)}, expected an array")
    messages = [_decode_message(i, item) for i, item in enumerate(raw_messages)]
    _, prompt = _field(document, "initial_prompt")
    if prompt is None:
        prompt = ""
    if not isinstance(prompt, str):
        raise _Invalid(f"'initial_prompt' is {_type_name(prompt)}, expected a string")
    _, sent = _field(document, "initial_prompt_sent")
    if sent is None:
        sent = False
    if not isinstance(sent, bool):
        raise _Invalid(f"'initial_prompt_sent' is {_type_name(sent)}, expected true or false")
    _, acp_session = _field(document, "acp_session_id")
    if not isinstance(acp_session, str):
        acp_session = ""
    return SavedTranscript(tuple(messages), prompt, sent, acp_session)


# --- files ------------------------------------------------------------------------------------


def load_state(path: Path) -> SavedTranscript | None:
    """Read a state file; None when there is none. Anything else wrong is a StateFileError."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StateFileError(f"state file {path} cannot be read: {_reason(exc)}") from exc
    if not raw.strip():
        raise StateFileError(f"state file {path} is empty")
    try:
        # Go replaces invalid UTF-8 inside strings rather than failing; do the same.
        document = json.loads(raw.decode("utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise StateFileError(f"state file {path} is not valid JSON: {exc}") from None
    except RecursionError:
        raise StateFileError(f"state file {path} is not valid JSON: nested too deeply") from None
    try:
        return decode_state(document)
    except _UnknownVersion as exc:
        raise StateFileError(f"state file {path} {exc}") from None
    except _Invalid as exc:
        raise StateFileError(f"state file {path} is not a valid state file: {exc}") from None


def save_state(path: Path, state: SavedTranscript) -> None:
    _save_bytes(path, encode_state(state))


def _save_bytes(path: Path, data: bytes) -> None:
    try:
        write_atomic(path, data)
    except OSError as exc:
        raise StateFileError(f"state file {path} cannot be written: {_reason(exc)}") from exc


_NO_LINK_ERRNOS = frozenset(
    {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK, errno.EACCES}
)


def move_aside(path: Path) -> Path:
    """Rename a bad state file out of the way, keeping it for inspection; returns its new path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    base = f"{path.name}.corrupt-{stamp}"
    for attempt in range(1000):
        target = path.with_name(base if attempt == 0 else f"{base}-{attempt}")
        try:
            # A hard link fails if the target exists, so an existing file is never replaced.
            os.link(path, target, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in _NO_LINK_ERRNOS:
                raise
            # No hard links here (or a folder): check, then rename.
            if target.exists() or target.is_symlink():
                continue
            os.rename(path, target)
            return target
        os.unlink(path)
        return target
    raise FileExistsError(f"no free name to move {path} aside")


# --- background saving ------------------------------------------------------------------------


class StateSaver:
    """Debounced background saver on the asyncio loop.

    At most about a second after a change the state is on disk.
    """

    def __init__(
        self,
        path: Path,
        snapshot: Callable[[], SavedTranscript],
        delay: float = 0.5,
        *,
        on_error: Callable[[str], None] | None = None,
        before_write: Callable[[], None] | None = None,
    ) -> None:
        self._path = path
        self._snapshot = snapshot
        self._delay = delay
        # Told once per failed save (a full disk, a read-only folder), with a one-line reason.
        self._on_error = on_error or (lambda _message: None)
        # Runs in the writer thread before each write; raising StateFileError fails the save.
        self._before_write = before_write
        self.last_error: str | None = None
        self._dirty = False
        self._closed = False
        self._timer: asyncio.TimerHandle | None = None
        self._lock: asyncio.Lock | None = None
        self._last_written: bytes | None = None
        self._tasks: set[asyncio.Task[bool]] = set()

    @property
    def path(self) -> Path:
        return self._path

    def mark_dirty(self) -> None:
        """Note a change; a save follows within ``delay`` seconds."""
        self._dirty = True
        # The timer is not pushed back by later changes, so a steady stream of changes
        # still reaches the disk every ``delay`` seconds.
        if self._closed or self._timer is not None:
            return
        loop = asyncio.get_running_loop()
        self._timer = loop.call_later(self._delay, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        task = asyncio.get_running_loop().create_task(self._save_if_dirty())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def flush(self, *, force: bool = False) -> bool:
        """Save now if anything changed since the last save; True when the file was written.

        ``force`` writes even an unchanged state, for callers that must find the file on
        disk afterwards whatever happened to it meanwhile.
        """
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if force:
            self._dirty = True
        return await self._save_if_dirty(force=force)

    def close(self) -> None:
        """Stop scheduling saves; a write already running finishes, and flush() still works."""
        self._closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _save_if_dirty(self, force: bool = False) -> bool:
        if self._lock is None:
            self._lock = asyncio.Lock()
        # One write at a time; the snapshot is taken after the previous write, so it is fresh.
        async with self._lock:
            if not self._dirty:
                return False
            self._dirty = False
            try:
                state = self._snapshot()
                data = await asyncio.to_thread(encode_state, state)
                if data == self._last_written and not force:
                    return False
                await asyncio.to_thread(self._write, data)
            except Exception as exc:
                # Left dirty: the next change, or a flush, tries again.
                self._dirty = True
                self.last_error = str(exc)
                log.error("saving the conversation failed: %s", exc)
                self._on_error(self.last_error)
                return False
            if self.last_error is not None:
                log.info("the conversation is saved again to %s", self._path)
            self.last_error = None
            self._last_written = data
            log.debug("conversation saved to %s (%d bytes)", self._path, len(data))
            return True

    def _write(self, data: bytes) -> None:
        if self._before_write is not None:
            self._before_write()
        _save_bytes(self._path, data)


# --- the keeper -------------------------------------------------------------------------------

SAVE_DELAY_S = 0.5


class KeptSession(Protocol):
    """What the keeper needs from a session."""

    on_transcript_change: Callable[[], None]

    def transcript(self) -> SavedTranscript: ...

    @property
    def restore_pending(self) -> bool: ...

    def schedule_restore(self, saved: SavedTranscript) -> None: ...

    def report_error(self, message: str, level: ErrorLevel = ErrorLevel.ERROR) -> None: ...


class StateKeeper:
    """Keeps a session's conversation in the state file: restore at start, save after changes."""

    def __init__(self, session: KeptSession, path: Path, *, load: bool, save: bool) -> None:
        self._session = session
        self._path = path
        self._load = load
        # A bad file that could not be moved aside at start: moved before the first write,
        # so a save never replaces it unseen.
        self._bad_file_kept = False
        self._saver = (
            StateSaver(
                path,
                session.transcript,
                delay=SAVE_DELAY_S,
                on_error=self._save_failed,
                before_write=self._move_bad_file_aside,
            )
            if save
            else None
        )

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
            where = ""
            if self._path.exists():
                try:
                    where = f"; the file was kept as {move_aside(self._path)}"
                except OSError as move_exc:
                    # A read-only folder: leave the file as it is, and never write over it.
                    self._bad_file_kept = True
                    where = (
                        f"; it could not be moved aside ({_reason(move_exc)}), so it was left "
                        "as it is and is not saved over"
                    )
            message = f"Starting with a fresh conversation: {exc}{where}"
            log.warning("%s", message)
            self._session.report_error(message, ErrorLevel.WARNING)
            return
        if saved is None:
            log.info("no state file at %s yet: a fresh start", self._path)
            return
        log.info("restoring %d messages from %s", len(saved.messages), self._path)
        self._session.schedule_restore(saved)

    def _move_bad_file_aside(self) -> None:
        if not self._bad_file_kept:
            return
        try:
            if self._path.exists() or self._path.is_symlink():
                kept = move_aside(self._path)
                log.warning("the bad state file %s was moved aside to %s", self._path, kept)
        except OSError as exc:
            raise StateFileError(
                f"state file {self._path} holds a bad conversation that cannot be moved "
                f"aside: {_reason(exc)}"
            ) from exc
        self._bad_file_kept = False

    def _save_failed(self, reason: str) -> None:
        self._session.report_error(
            f"The conversation could not be saved (kept in memory, retried on the next "
            f"change): {reason}",
            ErrorLevel.WARNING,
        )

    @property
    def last_error(self) -> str | None:
        """Why the last save failed; None when it succeeded (or nothing was saved yet)."""
        return self._saver.last_error if self._saver is not None else None

    def _changed(self) -> None:
        # Until a pending restore has happened, the file holds more than we do.
        if self._saver is not None and not self._session.restore_pending:
            self._saver.mark_dirty()

    async def save_now(self) -> bool:
        """Write the state at once (SIGUSR1, shutdown): stop scripts read it right after."""
        if self._saver is None or self._session.restore_pending:
            return False
        return await self._saver.flush(force=True)

    def close(self) -> None:
        if self._saver is not None:
            self._saver.close()
