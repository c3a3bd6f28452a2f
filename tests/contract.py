"""Our OpenAPI document as a contract: every response and SSE event the suites see must fit it.

The integration and end-to-end harnesses hook ``check_response`` into their HTTP clients
and pass every SSE ``data:`` line through ``check_event``, so a field sent but not
documented (or documented but sent differently) fails whichever test produced it.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import httpx
import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from agentapi.server.openapi import build_openapi

DOCUMENT_URI = "urn:agentapi:openapi"
_FORMATS = jsonschema.Draft202012Validator.FORMAT_CHECKER


class ContractViolation(AssertionError):
    pass


@functools.cache
def _document() -> dict[str, Any]:
    return build_openapi()


@functools.cache
def _registry() -> Registry[Any]:
    resource = Resource.from_contents(_document(), default_specification=DRAFT202012)
    return Registry().with_resource(DOCUMENT_URI, resource)


@functools.cache
def _validator(pointer: str) -> jsonschema.Draft202012Validator:
    """A validator for the schema at ``pointer`` (a JSON pointer into the document)."""
    schema = {"$ref": f"{DOCUMENT_URI}#{pointer}"}
    return jsonschema.Draft202012Validator(schema, registry=_registry(), format_checker=_FORMATS)


def _validate(pointer: str, instance: Any, what: str) -> None:
    errors = sorted(_validator(pointer).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        lines = [f"{'/'.join(map(str, e.path)) or '(body)'}: {e.message}" for e in errors[:5]]
        raise ContractViolation(f"{what} does not match the OpenAPI document:\n" + "\n".join(lines))


@functools.cache
def _path_patterns() -> list[tuple[re.Pattern[str], str]]:
    patterns = []
    for template in _document()["paths"]:
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template))
        patterns.append((re.compile(regex + "$"), template))
    return patterns


def documented_path(path: str) -> str | None:
    for pattern, template in _path_patterns():
        if pattern.match(path):
            return template
    return None


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def check_body(method: str, path: str, status: int, media_type: str, body: Any) -> None:
    """Validate a decoded JSON body against what the document says ``path`` answers."""
    template = documented_path(path)
    operation = None if template is None else _document()["paths"][template].get(method.lower())
    if template is None or operation is None:
        # Not an operation of ours (a wrong method, an unknown path): only a problem fits.
        if status >= 400 and media_type == "application/problem+json":
            _validate("/components/schemas/ErrorModel", body, f"{method} {path} → {status}")
        elif template is not None:
            raise ContractViolation(f"{method} {template} answered {status} but is undocumented")
        return
    responses = operation["responses"]
    key = str(status) if str(status) in responses else "default"
    if key not in responses:
        raise ContractViolation(f"{method} {template} answered {status}, which is not documented")
    content = responses[key].get("content", {})
    if media_type not in content:
        raise ContractViolation(
            f"{method} {template} answered {status} as {media_type}; documented: {list(content)}"
        )
    steps = ["paths", template, method.lower(), "responses", key, "content", media_type, "schema"]
    pointer = "".join("/" + _escape(step) for step in steps)
    _validate(pointer, body, f"{method} {path} → {status}")


def check_response(response: httpx.Response) -> None:
    """An httpx response hook: validates JSON and problem bodies of documented paths."""
    media_type = response.headers.get("content-type", "").split(";")[0].strip()
    if media_type not in ("application/json", "application/problem+json"):
        return
    response.read()
    request = response.request
    check_body(request.method, request.url.path, response.status_code, media_type, response.json())


# Which event names each stream documents, and the schema of each one's data.
@functools.cache
def _event_schemas() -> dict[str, str]:
    found: dict[str, str] = {}
    for ops in _document()["paths"].values():
        content = ops.get("get", {}).get("responses", {}).get("200", {}).get("content", {})
        stream = content.get("text/event-stream")
        if stream is None:
            continue
        for item in stream["schema"]["items"]["oneOf"]:
            name = item["properties"]["event"]["const"]
            found[name] = item["properties"]["data"]["$ref"].removeprefix("#")
    return found


def check_event(name: str, data: Any) -> None:
    """Validate one SSE event (its name and decoded data) against the document."""
    pointer = _event_schemas().get(name)
    if pointer is None:
        raise ContractViolation(f"event {name!r} is not documented in the OpenAPI document")
    _validate(pointer, data, f"event {name}")


def client_hooks() -> dict[str, list[Any]]:
    """``event_hooks`` for an httpx.Client that checks every response it receives."""
    return {"response": [check_response]}
