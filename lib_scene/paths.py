"""Server-side paths and uploads, checked before anything is read.

A path a web client names is only used when it lies inside one of the roots the admin allowed
(``--scene-import-allowed-dir``), judged **after** resolving symlinks and ``..`` on both sides, so a
link inside a root that points outside it is refused, and so is ``root/../elsewhere``.
"""

from __future__ import annotations

import base64
import binascii
import os
import re

from .errors import PathNotAllowed, UploadError, UploadTooLarge

__all__ = [
    "MAX_PATH",
    "UPLOAD_SUFFIXES",
    "confined_folder",
    "PathNotAllowed",
    "UploadError",
    "UploadTooLarge",
    "decode_uploads",
    "is_within",
    "resolve_allowed",
    "safe_upload_name",
    "write_uploads",
]


def _real(path: str) -> str:
    try:
        return os.path.normcase(os.path.realpath(os.fspath(path)))
    except (ValueError, OSError) as exc:  # NUL bytes, over-long names
        raise PathNotAllowed(f"invalid path ({exc})", None) from exc


def is_within(path: str, root: str) -> bool:
    """True when ``path`` (resolved) is ``root`` (resolved) or inside it."""
    real, rroot = _real(path), _real(root)
    try:
        return os.path.commonpath([real, rroot]) == rroot
    except ValueError:  # different drives on Windows
        return False


def resolve_allowed(path: str, roots: list[str] | tuple[str, ...]) -> str:
    """The resolved absolute form of ``path`` if it lies inside an allowed root, else PathNotAllowed.

    A relative ``path`` is taken relative to each root in turn (the first where it exists wins);
    an absolute one must resolve inside some root. Symlinks and ``..`` are resolved first.
    """
    if not isinstance(path, str) or not path.strip():
        raise PathNotAllowed("no server path given")
    roots = [r for r in (roots or []) if r]
    if not roots:
        raise PathNotAllowed(
            "server folders are disabled; the webui admin must start it with --scene-import-allowed-dir DIR",
            path,
        )
    if "\x00" in path:
        raise PathNotAllowed("invalid path (NUL byte)", path.replace("\x00", "\\0"))
    if len(path) > MAX_PATH:
        raise PathNotAllowed(f"invalid path (longer than {MAX_PATH} characters)", path[:80] + "...")
    candidate: str | None = path
    if not os.path.isabs(path):
        candidate = next(
            (os.path.join(r, path) for r in roots if os.path.exists(os.path.join(r, path))), None
        )
    if candidate is None:
        raise PathNotAllowed("not found in any allowed folder", path)
    if any(is_within(candidate, r) for r in roots):
        return os.path.realpath(candidate)
    raise PathNotAllowed("is outside the folders the webui admin allowed (--scene-import-allowed-dir)", path)


#: Longest server path accepted (Linux's PATH_MAX); longer is refused before touching the disk.
MAX_PATH = 4096


def confined_folder(path: str, roots: list[str] | tuple[str, ...]) -> str:
    """:func:`resolve_allowed` for a scene folder, then every file in it that a plan could read
    (canvases, sidecars, descriptions) must resolve inside the allowed roots too: a file symlink in an
    allowed folder that points outside is refused, as a folder symlink is."""
    if isinstance(path, str) and len(path) > MAX_PATH:
        raise PathNotAllowed(f"invalid path (longer than {MAX_PATH} characters)", path[:80] + "...")
    real = resolve_allowed(path, roots)
    if not os.path.isdir(real):
        return real
    allowed = [r for r in roots if r]
    for name in sorted(os.listdir(real)):
        entry = os.path.join(real, name)
        if os.path.islink(entry) and not any(is_within(entry, r) for r in allowed):
            raise PathNotAllowed(
                f"{name} is a link to a file outside the folders the webui admin allowed "
                "(--scene-import-allowed-dir); copy the file into the scene folder instead",
                os.path.join(path, name),
            )
    return real


UPLOAD_SUFFIXES = (".exr", ".json", ".properties", ".txt")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._+\-]{0,200}$")


def safe_upload_name(name: object) -> str:
    """The base name of an uploaded file, if it is a plain, safe name with an accepted suffix."""
    if not isinstance(name, str):
        raise UploadError(f"file name must be a string, got {type(name).__name__}")
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    if not _SAFE.match(base) or base in (".", ".."):
        raise UploadError(
            f"file name {name!r} is not allowed (letters, digits, space, '._+-' only, no folders)"
        )
    if not base.lower().endswith(UPLOAD_SUFFIXES):
        raise UploadError(f"file {base!r}: only {', '.join(UPLOAD_SUFFIXES)} files are accepted")
    return base


def decode_uploads(files: object, max_bytes: int) -> list[tuple[str, bytes]]:
    """``[{"name": "Cam0.exr", "data": "<base64>"}, ...]`` -> ``[(safe name, bytes)]``.

    The total decoded size must stay within ``max_bytes``; the estimate from the base64 length is
    checked before decoding so an oversized upload is refused without allocating it.
    """
    if not isinstance(files, list) or not files:
        raise UploadError('\'files\' must be a non-empty list of {"name": ..., "data": <base64>}')
    out: list[tuple[str, bytes]] = []
    seen: set[str] = set()
    total = 0
    for i, f in enumerate(files):
        if not isinstance(f, dict) or set(f) - {"name", "data"} or "name" not in f or "data" not in f:
            raise UploadError(f"files[{i}] must be an object with exactly 'name' and 'data'")
        name = safe_upload_name(f["name"])
        if name.lower() in seen:
            raise UploadError(f"file {name!r} is uploaded twice")
        seen.add(name.lower())
        data = f["data"]
        if not isinstance(data, str):
            raise UploadError(f"files[{i}] ({name}): 'data' must be a base64 string")
        if data.startswith("data:"):
            data = data.split(",", 1)[-1]
        total += len(data) * 3 // 4
        if total > max_bytes:
            raise UploadTooLarge(f"uploads exceed the limit of {max_bytes / 2**20:.0f} MiB")
        try:
            raw = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise UploadError(f"files[{i}] ({name}): 'data' is not valid base64") from exc
        out.append((name, raw))
    return out


def write_uploads(files: list[tuple[str, bytes]], dest: str) -> list[str]:
    """Write decoded uploads into the (new, empty) folder ``dest``; returns the paths."""
    os.makedirs(dest, exist_ok=True)
    paths = []
    for name, raw in files:
        path = os.path.join(dest, safe_upload_name(name))
        with open(path, "xb") as fh:
            fh.write(raw)
        paths.append(path)
    return paths
