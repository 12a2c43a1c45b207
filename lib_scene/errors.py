"""Errors that name the file and the problem."""

from __future__ import annotations

import os


class SceneImportError(Exception):
    """Base of every error Scene Import raises on purpose.

    ``path`` is the file the problem is about (or None), ``problem`` says what is wrong in words an
    artist understands. ``str(err)`` is ``"<path>: <problem>"``.
    """

    def __init__(self, problem: str, path: str | os.PathLike[str] | None = None) -> None:
        self.problem = problem
        self.path = os.fspath(path) if path is not None else None
        super().__init__(f"{self.path}: {problem}" if self.path else problem)


class CanvasError(SceneImportError):
    """A render canvas (EXR file) cannot be used."""


class SplitError(SceneImportError):
    """A split operation or a split plan is invalid."""


class PresetError(SceneImportError):
    """A preset or sidecar file is malformed."""
