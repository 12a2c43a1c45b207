"""What a camera sidecar (``<Camera>.json``) says about its canvases, checked, with honest notes.

A sidecar field the loader cannot use is not silently dropped: :func:`sidecar_notes` lists it (the
notes travel as the canvas set's ``warnings`` to the CLI's stderr, the tab's notices and the API's
``warnings`` list).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["far_clip", "sidecar_notes"]

#: Aspect ratios further apart than this contradict each other (a resolution % keeps the aspect).
ASPECT_TOLERANCE = 0.01


def _clip_pair(side: Mapping[str, object]) -> tuple[float, float] | None:
    clip = side.get("clip")
    if not isinstance(clip, (list, tuple)) or len(clip) != 2:
        return None
    try:
        near, far = float(clip[0]), float(clip[1])
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(near) and math.isfinite(far)) or not 0 <= near < far:
        return None
    return near, far


def far_clip(side: Mapping[str, object] | None) -> float | None:
    """The sidecar's clip end (EEVEE writes it as depth where nothing was hit), or None."""
    if not side:
        return None
    pair = _clip_pair(side)
    return pair[1] if pair else None


def _resolution(side: Mapping[str, object]) -> tuple[float, float] | None:
    res = side.get("resolution")
    if not isinstance(res, (list, tuple)) or len(res) != 2:
        return None
    try:
        w, h = float(res[0]), float(res[1])
    except (TypeError, ValueError):
        return None
    return (w, h) if math.isfinite(w) and math.isfinite(h) and w > 0 and h > 0 else None


def sidecar_notes(side: Mapping[str, object] | None, width: int, height: int, path: str | None) -> list[str]:
    """Warnings about fields of ``side`` that are malformed (and so ignored) or contradict the canvas."""
    if not side:
        return []
    where = f"sidecar {path}" if path else "sidecar"
    notes = []
    if "clip" in side and side.get("clip") is not None and _clip_pair(side) is None:
        notes.append(
            f"{where}: 'clip' {side.get('clip')!r} is not [near, far] with 0 <= near < far; ignored, so depth "
            "at EEVEE's clip end counts as geometry"
        )
    if "resolution" in side and side.get("resolution") is not None:
        res = _resolution(side)
        if res is None:
            notes.append(f"{where}: 'resolution' {side.get('resolution')!r} is not [width, height]; ignored")
        elif abs(res[0] / res[1] - width / height) > ASPECT_TOLERANCE * (width / height):
            notes.append(
                f"{where}: its resolution {res[0]:g}x{res[1]:g} contradicts the canvas size {width}x{height} "
                "(another aspect ratio): is it the sidecar of another render?"
            )
    return notes
