"""The guard every tab handler runs under: a failure is logged with its traceback to the server
log (``logging.getLogger("scene_import")``) and shown to the artist as one short message (the
status line and one toast); the tab keeps working."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from lib_scene.errors import SceneImportError
from scene_import_a1111 import compat

from .state import TabSession

log = logging.getLogger("scene_import")

F = TypeVar("F", bound=Callable[..., Any])


def short_message(exc: BaseException) -> str:
    """What the artist reads: our own errors as they are, anything else by type (the details are
    in the server log)."""
    if isinstance(exc, SceneImportError):
        return str(exc)
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    return f"{type(exc).__name__}: {text} (details in the server log)" if text else type(exc).__name__


def failure(status: Any, exc: BaseException, what: str) -> dict[Any, Any]:
    """Log ``exc`` with its traceback and return the status update that names it."""
    log.exception("Scene Import tab: %s failed: %s", what, exc)
    msg = short_message(exc)
    compat.warn(msg)
    return {status: "⚠ " + msg}


def guard(status: Any) -> Callable[[F], F]:
    """Decorator for handlers whose outputs include ``status``."""

    def deco(fn: F) -> F:
        @functools.wraps(fn)  # gradio reads the signature (gr.SelectData, gr.Progress) through this
        def wrapped(*a: Any, **k: Any) -> Any:
            try:
                return fn(*a, **k)
            except Exception as exc:  # every failure becomes a message; the tab keeps working
                return failure(status, exc, fn.__name__)

        return wrapped  # type: ignore[return-value]

    return deco


def event(component: Any, *names: str) -> Any:
    """The first of ``names`` the component has as an event (gradio 3 and 4 differ)."""
    for n in names:
        ev = getattr(component, n, None)
        if ev is not None:
            return ev
    raise AttributeError(f"{type(component).__name__} has none of the events {names}")


def need(s: TabSession | None) -> TabSession:
    if s is None or s.state.current is None:
        raise SceneImportError("load a scene first")
    return s
