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


def _finite_pair(side: Mapping[str, object], key: str) -> tuple[float, float] | None:
    """``side[key]`` as two finite numbers, or None."""
    value = side.get(key)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        return None
    try:
        a, b = float(value[0]), float(value[1])
    except (TypeError, ValueError):
        return None
    return (a, b) if math.isfinite(a) and math.isfinite(b) else None


def _clip_pair(side: Mapping[str, object]) -> tuple[float, float] | None:
    pair = _finite_pair(side, "clip")
    return pair if pair is not None and 0 <= pair[0] < pair[1] else None


def far_clip(side: Mapping[str, object] | None) -> float | None:
    """The sidecar's clip end (EEVEE writes it as depth where nothing was hit), or None."""
    if not side:
        return None
    pair = _clip_pair(side)
    return pair[1] if pair else None


def _resolution(side: Mapping[str, object]) -> tuple[float, float] | None:
    pair = _finite_pair(side, "resolution")
    return pair if pair is not None and pair[0] > 0 and pair[1] > 0 else None


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
