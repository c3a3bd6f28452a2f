"""``agentapi server``: one event loop running the HTTP server and the agent.

Start-up order matters to launch scripts: the port is bound and ``/status``
answers before the agent is even spawned.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from agentapi.adapters import Adapter
from agentapi.adapters.paste import user_text
from agentapi.cli.bind import ALL_INTERFACES, bind_sockets
from agentapi.cli.config import ServerOptions
from agentapi.errors import PidFileError, PidFileUnwritable, StartupError
from agentapi.messages import AgentIdentity, ErrorLevel, Transport
from agentapi.server.app import AppConfig, create_app
from agentapi.server.asgi_server import Config, Server
from agentapi.server.protocol import DuplicateServerLogs, GuardedH11Protocol
from agentapi.server.uploads import UploadStore
from agentapi.session.base import AgentSession
from agentapi.session.hub import EventHub
from agentapi.session.pidfile import PidFile
from agentapi.session.session import Session, SessionOptions
from agentapi.session.statefile import StateKeeper
from agentapi.terminal.procs import become_subreaper
from agentapi.terminal.pty import AgentTerminal

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

log = logging.getLogger("agentapi")

# One deadline for the whole shutdown, from the signal (or the agent's exit) to the last
# process gone: requests in flight get up to HTTP_DRAIN_S of it to finish, the agent the
# rest (SIGINT, SIGTERM, then SIGKILL), never less than AGENT_MIN_GRACE_S.
SHUTDOWN_DEADLINE_S = 5.0
HTTP_DRAIN_S = 2
AGENT_MIN_GRACE_S = 1.0
# How often a pid file the disk refused is tried again.
PID_RETRY_S = 2.0


class _Server(Server):
    """uvicorn without its own signal handlers and without its 10 Hz housekeeping tick."""

    def __init__(self, config: Config) -> None:
        super().__init__(config)
        self._wake = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            # on_tick refreshes the Date header on every tenth count: once a second here.
            counter += 10
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), 1.0)
            should_exit = await self.on_tick(counter)

    def request_exit(self) -> None:
        self.should_exit = True
        self._wake.set()


def bind_socket(port: int) -> socket.socket:
    """Listen on every address (``--bind '*'``); kept for callers of the old name."""
    return bind_sockets(ALL_INTERFACES, port)[0]


def _acp_session(
    opts: ServerOptions, hub: EventHub, identity: AgentIdentity, uploads: UploadStore
) -> AgentSession:
    # Imported only in ACP mode: the protocol package takes over a second to import.
    from agentapi.acp.mcp import load_mcp_file
    from agentapi.acp.session import AcpOptions, AcpSession, PermissionPolicy

    options = AcpOptions(
        cwd=Path.cwd(),
        permissions=PermissionPolicy(opts.acp_permissions),
        permission_timeout_s=opts.acp_permission_timeout,
        start_timeout_s=opts.acp_start_timeout,
        initial_prompt=opts.initial_prompt,
        mcp_servers=load_mcp_file(opts.mcp_file) if opts.mcp_file else [],
        uploads_root=uploads.root,
    )
    return AcpSession(opts.agent, hub, identity, options)


class Daemon:
    def __init__(self, opts: ServerOptions, adapter: Adapter, agent_type: str) -> None:
        self.opts = opts
        self.adapter = adapter
        self.agent_type = agent_type
        self.hub = EventHub()
        identity = AgentIdentity(
            agent_type=agent_type,
            adapter=adapter.name,
            agent_name=adapter.display_name,
            transport=Transport.ACP if opts.experimental_acp else Transport.PTY,
        )
        self.uploads = UploadStore()
        self.session: AgentSession
        if opts.experimental_acp:
            self.session = _acp_session(opts, self.hub, identity, self.uploads)
        else:
            terminal = AgentTerminal(
                opts.agent,
                columns=opts.term_width,
                lines=opts.term_height,
                # Orphans of the agent (a `setsid` helper whose parent exited) come to us,
                # so none escapes the clean-up at exit.
                adopt_orphans=become_subreaper(),
            )
            self.session = Session(
                terminal,
                adapter,
                self.hub,
                identity,
                SessionOptions(
                    # Typed as a paste like any user message: no control characters.
                    initial_prompt=user_text(opts.initial_prompt).strip(),
                    ready_warning_ms=opts.ready_timeout * 1000,
                ),
            )
        self.state: StateKeeper | None = None
        if opts.state_file is not None and (opts.load_state or opts.save_state):
            self.state = StateKeeper(
                self.session, opts.state_file, load=opts.load_state, save=opts.save_state
            )
        self._shutdown = asyncio.Event()
        self._signal_name = ""
        self._background: set[asyncio.Task[None]] = set()
        self._pid_file: PidFile | None = None
        self._pid_retry: asyncio.TimerHandle | None = None
        self._pid_warned = False

    def _on_signal(self, sig: signal.Signals) -> None:
        if self._shutdown.is_set():
            return
        log.info("received %s: shutting down", sig.name)
        self._signal_name = sig.name
        self._shutdown.set()

    def _on_save_signal(self) -> None:
        task = asyncio.get_running_loop().create_task(self._save_on_signal())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _save_on_signal(self) -> None:
        # A failure has been reported as an agent_error warning; the daemon keeps running.
        await self._save_state("SIGUSR1")

    async def _save_state(self, why: str) -> bool:
        """Save now; False when a save was due but failed (the saver has warned already)."""
        if self.state is None:
            log.info("%s: no state file to save to", why)
            return True
        if await self.state.save_now():
            log.info("%s: state saved to %s", why, self.opts.state_file)
        return self.state.last_error is None

    def _take_pid_file(self) -> None:
        """Write the pid file; on a disk fault, warn and try again every PID_RETRY_S.

        Another live daemon owning the file is fatal at start (PidFileError); a full disk or
        a read-only folder is not: stop scripts find the file once the disk takes it.
        """
        assert self.opts.pid_file is not None
        self._pid_retry = None
        try:
            pid_file = PidFile.acquire(self.opts.pid_file)
        except PidFileUnwritable as exc:
            if not self._pid_warned:
                self._pid_warned = True
                message = f"Running without a pid file, retrying every {PID_RETRY_S:g} s: {exc}"
                log.warning("%s", message)
                self.session.report_error(message, ErrorLevel.WARNING)
            self._pid_retry = asyncio.get_running_loop().call_later(
                PID_RETRY_S, self._retry_pid_file
            )
            return
        if pid_file.stale_pid:
            log.warning("replaced a stale pid file naming process %d", pid_file.stale_pid)
        elif pid_file.stale_pid == 0:
            log.warning("replaced a pid file that held no valid pid")
        if self._pid_warned:
            log.info("pid file %s written at last", pid_file.path)
        self._pid_file = pid_file

    def _retry_pid_file(self) -> None:
        try:
            self._take_pid_file()
        except PidFileError as exc:
            # Another daemon took the file meanwhile: it is theirs now.
            message = f"Giving up on the pid file: {exc}"
            log.warning("%s", message)
            self.session.report_error(message, ErrorLevel.WARNING)

    async def run(self) -> int:
        try:
            if self.opts.pid_file is not None:
                self._take_pid_file()
            return await self._run()
        finally:
            if self._pid_retry is not None:
                self._pid_retry.cancel()
            if self._pid_file is not None:
                self._pid_file.release()
            # Also after a failed start (busy port, missing agent): no folder left in /tmp.
            self.uploads.cleanup()

    async def _run(self) -> int:
        if not self.opts.mcp:
            return await self._serve(())
        # Imported only with --mcp: the mcp package takes over a second to import.
        from agentapi.mcp.http import McpEndpoint

        endpoint = McpEndpoint(f"http://127.0.0.1:{self.opts.port}", self.agent_type)
        async with endpoint.running():
            return await self._serve([endpoint.route])

    async def _serve(self, extra_routes: Sequence[BaseRoute]) -> int:
        loop = asyncio.get_running_loop()
        socks = bind_sockets(self.opts.bind, self.opts.port)
        app = create_app(
            self.session,
            AppConfig(
                allowed_hosts=self.opts.allowed_hosts,
                allowed_origins=self.opts.allowed_origins,
                chat_base_path=self.opts.chat_base_path,
                auth_token=self.opts.auth_token or None,
                auth_open_status=self.opts.auth_open_status,
            ),
            self.uploads,
            extra_routes,
        )
        server = _Server(
            Config(
                app,
                log_config=None,
                access_log=False,
                lifespan="off",
                timeout_graceful_shutdown=HTTP_DRAIN_S,
                ws="none",
                # A header timeout on top of uvicorn's h11 protocol (see server/protocol.py).
                http=GuardedH11Protocol,
            )
        )
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if not any(isinstance(f, DuplicateServerLogs) for f in uvicorn_errors.filters):
            uvicorn_errors.addFilter(DuplicateServerLogs())
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            loop.add_signal_handler(sig, self._on_signal, sig)
        loop.add_signal_handler(signal.SIGUSR1, self._on_save_signal)
        if self.state is not None:
            self.state.start()
        serve_task = loop.create_task(server.serve(sockets=socks))
        try:
            self.session.start()
        except StartupError:
            server.request_exit()
            await serve_task
            for sock in socks:
                sock.close()
            raise
        log.info(
            "listening on %s port %d; agent type %s",
            " and ".join(str(sock.getsockname()[0]) for sock in socks),
            self.opts.port,
            self.agent_type,
        )

        exit_task = loop.create_task(self.session.wait_exit())
        shutdown_task = loop.create_task(self._shutdown.wait())
        done, _ = await asyncio.wait(
            {exit_task, shutdown_task, serve_task}, return_when=asyncio.FIRST_COMPLETED
        )
        deadline = loop.time() + SHUTDOWN_DEADLINE_S
        code = 0
        if exit_task in done:
            agent_code = exit_task.result()
            if agent_code != 0:
                code = 1
                print(self.session.exit_report(agent_code), file=sys.stderr)
            else:
                log.info("agent exited")
        elif serve_task in done and serve_task.exception() is not None:
            log.error("HTTP server failed: %s", serve_task.exception())
            code = 1

        # HTTP first: a message answered 200 must be in the conversation the final save
        # writes, so requests in flight finish (the agent still running) before it.
        # Event streams end at once; they would otherwise hold the drain to its limit.
        self.hub.close_all()
        # Long-polls too: they answer with what there is.
        self.session.watch.close()
        server.request_exit()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(asyncio.shield(serve_task), HTTP_DRAIN_S + 0.5)
        if not serve_task.done():
            serve_task.cancel()
        saved = await self._save_state("shutdown")
        if self.state is not None:
            self.state.close()
        grace = max(AGENT_MIN_GRACE_S, deadline - loop.time())
        await self.session.stop(grace)
        for task in (exit_task, shutdown_task):
            task.cancel()
        for sock in socks:
            sock.close()
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):
            loop.remove_signal_handler(sig)
        if not saved:
            assert self.state is not None
            print(
                f"agentapi: the conversation could not be saved: {self.state.last_error}",
                file=sys.stderr,
            )
            code = code or 1
        return code
