"""A tiny client for a running A1111 / Forge webui, urllib only (no requests dependency)."""

from __future__ import annotations

import json
from typing import Any

from .errors import HostError


class WebuiError(HostError):
    """The webui could not be reached or answered with an error; ``status`` is the HTTP status
    when it answered with one."""

    def __init__(self, problem: str, path: str | None = None, status: int | None = None) -> None:
        super().__init__(problem, path)
        self.status = status


def webui_url(text: str) -> str:
    """An argparse type: the webui's base URL, ``http(s)://host[:port][/path]`` (a clear error otherwise)."""
    import argparse
    import urllib.parse

    value = text.strip()
    try:
        parts = urllib.parse.urlsplit(value)
        parts.port  # noqa: B018  (raises ValueError on a bad port)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        hint = f"; did you mean 'http://{value}'?" if not parts.scheme or "://" not in value else ""
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a webui address: give http://HOST:PORT, e.g. http://127.0.0.1:7860{hint}"
        )
    if parts.query or parts.fragment:
        raise argparse.ArgumentTypeError(f"{text!r}: give the webui's base address without '?' or '#'")
    return value.rstrip("/")


def _join(base: str, path: str) -> str:
    return base.rstrip("/") + path


def error_text(body: str) -> str:
    """The message of a webui's error answer.

    A1111's API middleware answers ``{"error", "detail", "body", "errors": str(e)}``; Forge's app-wide
    handler (webui.py ``_handle_exception``) ``{"error", "detail", "body", "message": str(e)}``;
    FastAPI's own ``HTTPException`` handler ``{"detail": ...}``. The first non-empty of detail,
    errors, message is the text; the exception's type name (``error``) only when there is nothing else.
    """
    try:
        j = json.loads(body)
    except json.JSONDecodeError:
        return body
    if not isinstance(j, dict):
        return body
    for key in ("detail", "errors", "message"):
        value = j.get(key)
        if value:
            return value if isinstance(value, str) else json.dumps(value)
    error = j.get("error")
    return str(error) if error else body


def request_json(url: str, body: dict[str, Any] | None = None, timeout: float = 30.0) -> object:
    """GET (``body`` None) or POST JSON; the parsed JSON answer, or WebuiError with the server's message."""
    import urllib.error  # here: urllib.request (http.client, email, ssl) is ~15 ms to import
    import urllib.request

    data = None if body is None else json.dumps(body).encode("utf-8")
    try:
        req = urllib.request.Request(url, data=data, method="GET" if body is None else "POST")
    except ValueError as exc:  # not a URL
        raise WebuiError(f"not a webui address ({exc}); give http://HOST:PORT", url) from exc
    req.add_header("Accept", "application/json")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as exc:
        detail = error_text(exc.read().decode("utf-8", "replace")[:2000])
        raise WebuiError(f"HTTP {exc.code}: {detail}", url, status=exc.code) from exc
    except urllib.error.URLError as exc:
        raise WebuiError(f"cannot reach the webui ({exc.reason}); is it running with --api?", url) from exc
    except TimeoutError as exc:
        raise WebuiError(f"no answer within {timeout:g} s", url) from exc
    except OSError as exc:
        raise WebuiError(f"connection failed ({exc})", url) from exc
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise WebuiError("the answer is not JSON (is this the webui's address?)", url) from exc


def post_for_images(
    base: str, path: str, body: dict[str, Any], timeout: float, what: str = ""
) -> dict[str, Any]:
    """POST a generation ``body`` to ``base + path``: the answer, which holds at least one image, or
    WebuiError (``what``, e.g. the image's name, starts its message)."""
    answer = request_json(base.rstrip("/") + path, body, timeout=timeout)
    if not isinstance(answer, dict) or not isinstance(answer.get("images"), list) or not answer["images"]:
        raise WebuiError(f"{what + ': ' if what else ''}the webui answered without images", base)
    return answer


def controlnet_models(base: str, timeout: float = 30.0) -> list[str]:
    """``GET /controlnet/model_list`` -> ``["name [hash8]", ...]``."""
    url = _join(base, "/controlnet/model_list")
    got = request_json(url, timeout=timeout)
    models = got.get("model_list") if isinstance(got, dict) else None
    if not isinstance(models, list):
        raise WebuiError("unexpected answer: no 'model_list'", url)
    return [str(m) for m in models]


def controlnet_unit_count(base: str, timeout: float = 30.0, default: int = 3) -> int:
    """``GET /controlnet/settings`` -> ``control_net_unit_count`` (``default`` when absent)."""
    try:
        got = request_json(_join(base, "/controlnet/settings"), timeout=timeout)
    except WebuiError:
        return default
    n = got.get("control_net_unit_count") if isinstance(got, dict) else None
    return int(n) if isinstance(n, int) and n > 0 else default


def detect_host(base: str, timeout: float = 30.0) -> str:
    """ "a1111" when ``/controlnet/version`` answers, "forge" when it is a 404 (Forge's builtin lacks it)."""
    try:
        request_json(_join(base, "/controlnet/version"), timeout=timeout)
        return "a1111"
    except WebuiError as exc:
        if exc.status == 404:
            return "forge"
        raise


#: Scene Import's own route on a webui where it is installed (``scene_import_a1111.routes``).
SCENE_IMPORT_VERSION = "/scene-import/v1/version"


def has_infotext_script(base: str, timeout: float = 30.0) -> bool:
    """True when the webui has Scene Import with its companion infotext Script: its
    ``/scene-import/v1/version`` names the script (``infotext_script``; see ``lib_scene.wire``).
    A webui without Scene Import (a 404, no answer, not JSON) or with an older one: False, and
    payloads for it carry no ``alwayson_scripts`` entry of ours (it would answer 422)."""
    from .wire import INFOTEXT_SCRIPT

    try:
        got = request_json(_join(base, SCENE_IMPORT_VERSION), timeout=timeout)
    except WebuiError:
        return False
    return isinstance(got, dict) and got.get("infotext_script") == INFOTEXT_SCRIPT
