"""Every error agentapi raises on purpose, in one tree.

The names say what happened, not how to answer it: turning them into HTTP status
codes and problem documents is the server's business (``agentapi.server.problems``),
and into exit codes the command line's. The client library raises the same classes
(with the daemon's problem document attached), so ``except AgentBusy`` reads the same
on both sides of the wire.
"""

from __future__ import annotations


class AgentApiError(Exception):
    """Base of every error agentapi raises on purpose."""


# -- start-up and configuration ----------------------------------------------------------------


class UsageError(AgentApiError):
    """A mistake on the command line: one plain line, exit code 2."""


class AdapterError(UsageError):
    """An adapter spec that cannot be used; the message names the file and the key."""


class StartupError(AgentApiError):
    """The daemon cannot start (a busy port, a pid file in use): one line, exit code 1."""


class AgentStartError(StartupError):
    """The agent's command could not be started."""


class PidFileError(StartupError):
    """The pid file cannot be taken; the message names the file."""


class PidFileUnwritable(PidFileError):
    """The pid file cannot be written (a read-only folder, a full disk); no one else owns it."""


class StateFileError(AgentApiError):
    """A state file that cannot be read, written or understood; the message is one line."""


# -- talking to the agent ----------------------------------------------------------------------


class SendError(AgentApiError):
    """A message could not be delivered to the agent; nothing was recorded."""


class AgentBusy(SendError):
    """The agent is working (or another message is being typed): wait until it is stable."""


class AgentDidNotReact(SendError):
    """The message was typed but the agent's screen never showed that it started on it."""


class AgentExited(SendError):
    """The agent is not running any more."""


class AgentWriteFailed(SendError):
    """Writing to the agent's terminal failed although the agent had not exited."""


# -- uploads -----------------------------------------------------------------------------------


class PermissionNotPending(AgentApiError):
    """No permission request with that id waits for an answer."""


class PermissionChoiceInvalid(AgentApiError):
    """The chosen option is not one the permission request offers."""


class UploadError(AgentApiError):
    """An upload was refused; nothing was kept."""


class UploadTooLarge(UploadError):
    """The file is larger than the upload limit."""


class BadUpload(UploadError):
    """The upload is not a well-formed multipart body with a ``file`` field."""
