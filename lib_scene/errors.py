"""Errors that name the file and the problem, one type per failure class.

The host glue maps these types to HTTP statuses in one table (``scene_import_a1111/errors.py``);
nothing decides by message text.

* :class:`InputError`: bad params, canvas, preset, descriptions or plan (HTTP 422);
* :class:`NotFoundError`: a camera or an upload that is not there (404);
* :class:`PathNotAllowed`: a server path outside the allowed folders (403);
* :class:`UploadError`: a malformed upload (400), :class:`UploadTooLarge` over the size cap (413);
* :class:`HostError`: the host lacks something the plan needs, e.g. ControlNet slots (409).
"""

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


class InputError(SceneImportError):
    """Something the caller gave (params, canvas, preset, descriptions) cannot be used."""


class NotFoundError(SceneImportError):
    """A camera, an upload or a file the request names is not there."""


class PathNotAllowed(SceneImportError):
    """A server path outside every allowed root (or no root configured)."""


class UploadError(SceneImportError):
    """An uploaded file is malformed or badly named."""


class UploadTooLarge(UploadError):
    """Uploads over the size cap."""


class HostError(SceneImportError):
    """The host lacks something the plan needs (ControlNet slots, a model)."""


class CanvasError(InputError):
    """A render canvas (EXR file) cannot be used."""


class SplitError(InputError):
    """A split operation or a split plan is invalid."""


class PresetError(InputError):
    """A preset or sidecar file is malformed."""


class PlanError(InputError):
    """A plan cannot be built or read."""


class RegionError(InputError):
    """Regions cannot be built from what the camera holds (no such source, bad options)."""


class OutputError(InputError):
    """An output location cannot be used (a file where a folder must be, not writable, ...)."""


class ParamsError(InputError):
    """Invalid parameters; ``problems`` lists every one found."""

    def __init__(self, problems: list[str], path: str | None = None) -> None:
        self.problems = list(problems)
        super().__init__("invalid Scene Import parameters: " + "; ".join(self.problems), path)


__all__ = [
    "CanvasError",
    "HostError",
    "InputError",
    "NotFoundError",
    "OutputError",
    "ParamsError",
    "PathNotAllowed",
    "PlanError",
    "PresetError",
    "RegionError",
    "SceneImportError",
    "SplitError",
    "UploadError",
    "UploadTooLarge",
]
