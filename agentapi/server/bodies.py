"""Reading a JSON request body without letting any body turn into a 500.

Python's ``json`` module accepts what JSON does not (``NaN``, ``Infinity``),
turns ``1e999`` into an infinity that cannot be written back, raises
``ValueError`` for integers over 4,300 digits and ``RecursionError`` for deep
nesting, and lets ``"\\ud800"`` through as a lone surrogate that cannot be
encoded later. Each of these is a client mistake, answered here as a 400
problem whose detail never repeats the offending value.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

# Deeper than any body this API takes; checked before parsing so that the parser's
# own recursion is never what stops a hostile body.
MAX_NESTING = 64


class BadJson(ValueError):
    """The body is not JSON this daemon can take; the message says why, briefly."""


def _refuse_constant(name: str) -> Any:
    raise BadJson(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson("a number is too large to represent")
    return value


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"')
_BRACKET = re.compile(r"[\[\]{}]")


def _nesting_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, with strings skipped."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def parse_json(raw: bytes) -> Any:
    """The decoded body, or ``BadJson`` with a short reason that is safe to send back."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(f"the body is not valid UTF-8 (byte {exc.start})") from None
    # The structural characters are ASCII, so a cheap count tells whether the walk is needed.
    if text.count("[") + text.count("{") > MAX_NESTING and _nesting_depth(text) > MAX_NESTING:
        raise BadJson(f"the body is nested deeper than {MAX_NESTING} levels")
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except BadJson:
        raise
    except json.JSONDecodeError as exc:
        raise BadJson(f"{exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError) as exc:
        # int() refuses integers over sys.get_int_max_str_digits() digits.
        reason = "an integer has too many digits" if "digits" in str(exc) else "it cannot be read"
        raise BadJson(reason) from None
    if "\\u" in text and _has_lone_surrogate(data):
        raise BadJson("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff)")
    return data
