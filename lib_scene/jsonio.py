"""The ONE JSON reader: presets, params, sidecars and descriptions, with size and depth limits.

Every JSON text Scene Import reads goes through :func:`parse_json` (text already in memory) or
:func:`load_json_file` (a file), so every kind of bad JSON ends in the same typed error naming the
file: not UTF-8 (a binary file), too large, nested too deep, numbers too long, or not valid JSON.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .errors import InputError, SceneImportError

#: Largest JSON file read (presets, sidecars, descriptions are a few KiB).
MAX_JSON_BYTES = 8 * 2**20
#: Deepest nesting accepted (the deepest real document, a sidecar, is 4 levels).
MAX_JSON_DEPTH = 64

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "json_depth", "load_json_file", "parse_json"]


def json_depth(value: object, limit: int = MAX_JSON_DEPTH) -> int:
    """Nesting depth of a parsed JSON value (scalars 0), counted without recursion; stops past ``limit``."""
    deepest = 0
    stack: list[tuple[object, int]] = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            children: list[object] = list(v.values())
        elif isinstance(v, list):
            children = list(v)
        else:
            continue
        deepest = max(deepest, d + 1)
        if deepest > limit:
            return deepest
        stack.extend((c, d + 1) for c in children)
    return deepest


def _raw_depth(text: str, limit: int) -> bool:
    """True when the text opens more than ``limit`` brackets before closing them (cheap pre-check)."""
    opens = text.count("[") + text.count("{")
    if opens <= limit:
        return False
    depth = 0
    in_str = esc = False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def parse_json(
    text: str | bytes,
    what: str = "JSON",
    path: str | os.PathLike[str] | None = None,
    *,
    error: type[SceneImportError] = InputError,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Parse ``text`` as JSON or raise ``error`` (an InputError subclass) naming ``what``/``path``."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        raw = bytes(text)
        if len(raw) > max_bytes:
            raise error(f"{what} is too large ({len(raw)} bytes; the limit is {max_bytes})", path)
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise error(
                f"{what} is not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x}); "
                "is it a binary file? Give a JSON text file",
                path,
            ) from exc
    elif len(text) > max_bytes:
        raise error(f"{what} is too large ({len(text)} characters; the limit is {max_bytes})", path)
    if text.startswith("\ufeff"):
        text = text[1:]
    too_deep = f"{what} is nested more than {max_depth} levels deep; a Scene Import document is a few levels"
    if _raw_depth(text, max_depth):
        raise error(too_deep, path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"{what} is not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg})", path
        ) from exc
    except RecursionError as exc:
        raise error(too_deep, path) from exc
    except ValueError as exc:  # e.g. an integer with more digits than Python converts
        raise error(f"{what} is not usable JSON ({exc})", path) from exc
    if json_depth(data, max_depth) > max_depth:
        raise error(too_deep, path)
    return data


def load_json_file(
    path: str | os.PathLike[str],
    what: str = "JSON file",
    *,
    error: type[SceneImportError] = InputError,
    max_bytes: int = MAX_JSON_BYTES,
    max_depth: int = MAX_JSON_DEPTH,
) -> Any:
    """Read and parse the JSON file ``path`` (size checked before reading) or raise ``error``."""
    path = os.fspath(path)
    try:
        if os.path.isdir(path):
            raise error(f"{what} is a folder; give a JSON file", path)
        size = os.path.getsize(path)
        if size > max_bytes:
            raise error(f"{what} is too large ({size} bytes; the limit is {max_bytes})", path)
        with open(path, "rb") as fh:
            raw = fh.read(max_bytes + 1)
    except FileNotFoundError as exc:
        raise error(f"no such {what}", path) from exc
    except OSError as exc:
        raise error(f"cannot read {what} ({exc.strerror or exc})", path) from exc
    except ValueError as exc:  # embedded NUL byte in the name
        raise error(f"invalid {what} name ({exc})", path) from exc
    return parse_json(raw, what, path, error=error, max_bytes=max_bytes, max_depth=max_depth)
