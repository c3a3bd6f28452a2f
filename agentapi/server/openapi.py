"""The OpenAPI document, generated from the wire dataclasses by pydantic.

Imported only when the document is asked for: pydantic is not on the serving path.
"""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from agentapi import __version__
from agentapi.messages import SCHEMA_MODELS

REF = "#/components/schemas/{model}"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": REF.format(model=name)}


def _json(name: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(name)}}}


_ERROR = {
    "description": "Error",
    "content": {"application/problem+json": {"schema": _ref("ErrorModel")}},
}


_SECONDS = {"type": "number", "minimum": 0, "maximum": 60}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _sse_event(name: str, schema: str) -> dict[str, Any]:
    return {
        "title": f"Event {name}",
        "type": "object",
        "properties": {
            "data": _ref(schema),
            "event": {"type": "string", "const": name, "description": "The event name."},
            "id": {"type": "integer", "description": "The event ID."},
            "retry": {"type": "integer", "description": "The retry time in milliseconds."},
        },
        "required": ["data", "event"],
    }


def _sse(description: str, events: dict[str, str]) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "text/event-stream": {
                "schema": {
                    "type": "array",
                    "description": "Each oneOf object in the array represents one possible "
                    "Server Sent Events (SSE) message, serialized as UTF-8 text according to "
                    "the SSE specification.",
                    "items": {"oneOf": [_sse_event(n, s) for n, s in sorted(events.items())]},
                }
            }
        },
    }


def build_openapi() -> dict[str, Any]:
    _, schemas = TypeAdapter.json_schemas(
        [(model.__name__, "validation", TypeAdapter(model)) for model in SCHEMA_MODELS],
        ref_template=REF,
    )
    components = schemas.get("$defs", {})
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AgentAPI",
            "version": __version__,
            "description": "HTTP API for terminal coding agents: Claude Code, Aider, Codex, "
            "Gemini CLI, Goose, OpenCode and others.",
        },
        "paths": {
            "/status": {
                "get": {
                    "operationId": "get-status",
                    "summary": "Get status",
                    "description": "Returns the current status of the agent. With "
                    "`wait_for`, a long-poll: the answer comes as soon as the status is the one "
                    "asked for (at once if it already is), or after `timeout` seconds with the "
                    "status as it is then. Bad values are 422.",
                    "parameters": [
                        _query(
                            "wait_for",
                            {"type": "string", "enum": ["running", "stable"]},
                            "Answer once the status is this one.",
                        ),
                        _query(
                            "timeout",
                            _SECONDS | {"default": 30},
                            "With `wait_for`: the longest wait, in seconds (at most 60).",
                        ),
                    ],
                    "responses": {
                        "200": _json("StatusResponseBody", "OK"),
                        "default": _ERROR,
                    },
                }
            },
            "/messages": {
                "get": {
                    "operationId": "get-messages",
                    "summary": "Get messages",
                    "description": "Returns a list of messages representing the conversation "
                    "history with the agent. A long-poll for clients that cannot use "
                    "`/events` (a proxy that buffers it): with `wait`, the answer comes as soon "
                    "as the transcript differs from `revision` (a message added or updated), or "
                    "a message newer than `after` exists; without `revision`, at the next change "
                    "after the request; at the latest after `wait` seconds, with what there is. "
                    "To follow a conversation, pass back the `revision` of each answer and "
                    "`after` = the id before the last message you have (the last one is updated "
                    "in place while the agent works). Bad values are 422.",
                    "parameters": [
                        _query(
                            "after",
                            {"type": "integer", "minimum": -1},
                            "Only messages with a greater id.",
                        ),
                        _query(
                            "wait",
                            _SECONDS,
                            "Wait up to this many seconds (at most 60) for a change.",
                        ),
                        _query(
                            "revision",
                            {"type": "integer", "minimum": 0},
                            "The `revision` of the answer you have: wait for a different one.",
                        ),
                    ],
                    "responses": {
                        "200": _json("MessagesResponseBody", "OK"),
                        "default": _ERROR,
                    },
                }
            },
            "/message": {
                "post": {
                    "operationId": "post-message",
                    "summary": "Post message",
                    "description": "Send a message to the agent. For messages of type 'user', "
                    "the agent's status must be 'stable' (otherwise 409). The answer comes once "
                    "the agent has visibly started on the message.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": _ref("MessageRequestBody"),
                            }
                        },
                    },
                    "responses": {
                        "200": _json("MessageResponseBody", "OK"),
                        "default": _ERROR,
                    },
                }
            },
            "/interrupt": {
                "post": {
                    "operationId": "post-interrupt",
                    "summary": "Interrupt the agent",
                    "description": "Stop what the agent is doing: its adapter's interrupt keys "
                    "are written (Esc for most agents, Ctrl-C for Aider), then the answer waits "
                    "(at most 10 s) for the agent to become stable again. Interrupting a stable "
                    "agent does nothing and says so (`interrupted: false`). A message being "
                    "typed is submitted before the keys are sent; a message sent while the "
                    "interrupt waits is refused with 409. 503 when the agent has exited.",
                    "responses": {
                        "200": _json("InterruptResponseBody", "OK"),
                        "default": _ERROR,
                    },
                }
            },
            "/permission": {
                "post": {
                    "operationId": "post-permission",
                    "summary": "Answer a permission request",
                    "description": "ACP mode with --acp-permissions ask: pick one of the "
                    "options of a pending 'permission' part of the last agent message. 404 when "
                    "no such request is pending (answered, timed out, cancelled, or PTY mode), "
                    "422 for an option the request does not offer.",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("PermissionRequestBody")}},
                    },
                    "responses": {
                        "200": _json("PermissionResponseBody", "OK"),
                        "default": _ERROR,
                    },
                }
            },
            "/upload": {
                "post": {
                    "operationId": "post-upload",
                    "summary": "Upload a file",
                    "description": "Upload a file (at most 10 MiB) into the daemon's "
                    "temporary folder; the answer names its absolute path.",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "file": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": "file that needs to be uploaded",
                                        }
                                    },
                                    "required": ["file"],
                                },
                                "encoding": {"file": {"contentType": "application/octet-stream"}},
                            }
                        },
                    },
                    "responses": {
                        "200": _json("UploadResponseBody", "OK"),
                        "default": _ERROR,
                    },
                }
            },
            "/events": {
                "get": {
                    "operationId": "subscribeEvents",
                    "summary": "Subscribe to events",
                    "description": "Server-Sent Events. On connect, the events needed to "
                    "reconstruct the conversation and the agent's status are replayed; then "
                    "live events follow. The last message is updated frequently while the "
                    "agent works. `agent_error` events are sent only with `?errors=true`.",
                    "parameters": [
                        {
                            "name": "errors",
                            "in": "query",
                            "required": False,
                            "description": "Also send (and replay) agent_error events.",
                            "schema": {"type": "boolean", "default": False},
                        },
                        {
                            "name": "parts",
                            "in": "query",
                            "required": False,
                            "description": "Also send (and replay) message_parts events: after "
                            "each message_update of a message that has parts (ACP mode), its "
                            "parts and stop reason. Opt-in because clients such as the Go SDK "
                            "fail on event names they do not know.",
                            "schema": {"type": "boolean", "default": False},
                        },
                    ],
                    "responses": {
                        "200": _sse(
                            "OK",
                            {
                                "message_update": "MessageUpdateBody",
                                "status_change": "StatusChangeBody",
                                "agent_error": "ErrorBody",
                                "message_parts": "MessagePartsBody",
                            },
                        ),
                        "default": _ERROR,
                    },
                }
            },
            "/internal/screen": {
                "get": {
                    "operationId": "subscribeScreen",
                    "summary": "Subscribe to screen",
                    "description": "Server-Sent Events carrying the whole terminal text.",
                    "responses": {
                        "200": _sse("OK", {"screen": "ScreenUpdateBody"}),
                        "default": _ERROR,
                    },
                }
            },
        },
        "components": {"schemas": components},
    }
