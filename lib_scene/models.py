"""ControlNet model choice: the host's ``"name [hash8]"`` models -> the model for a unit kind."""

from __future__ import annotations

import difflib

from .errors import PlanError

__all__ = ["DEFAULT_MODELS", "choose_model", "resolve_model"]

#: Used when the host's model list is unknown (the issue's defaults).
DEFAULT_MODELS = {
    "depth": "control_v11f1p_sd15_depth",
    "normal": "control_v11p_sd15_normalbae",
    "normal_midas": "control_sd15_normal",
}


def _model_name(m: str) -> str:
    return m.split(" [", 1)[0].strip().lower()


def choose_model(kind: str, available: list[str] | None, convention: str = "bae") -> str | None:
    """Pick a ControlNet model for ``kind`` ("depth" | "normal") from ``"name [hash8]"`` strings.

    Without a list, the default names. Ranked: the default model, then ControlNet 1.1 models of
    the kind, then sd15 ones, then any name holding the kind; ties by name. None when nothing fits.
    """
    if kind not in ("depth", "normal"):
        raise ValueError(f"unknown unit kind {kind!r}")
    key = "normal_midas" if kind == "normal" and convention == "midas" else kind
    if available is None:
        return DEFAULT_MODELS[key]
    default = DEFAULT_MODELS[key]

    def rank(m: str) -> int | None:
        n = _model_name(m)
        if kind == "depth":
            if "depth" not in n:
                return None
        else:
            if "normal" not in n:
                return None
            bae = "bae" in n
            if convention == "bae" and not bae and "v11" not in n:
                return 5
            if convention == "midas" and bae:
                return 5
        if n == default:
            return 0
        if "v11" in n:
            return 1
        if "sd15" in n:
            return 2
        return 3

    ranked = sorted((r, m) for m in available if m and m != "None" for r in [rank(m)] if r is not None)
    return ranked[0][1] if ranked else None


def resolve_model(
    kind: str, requested: str, available: list[str] | None, convention: str = "bae"
) -> tuple[str | None, str | None]:
    """(model, warning). ``requested`` "auto" chooses by kind; a name is matched to the list
    exactly, then without its hash (case-insensitive). Unknown names are an error with suggestions."""
    if requested.strip().lower() in ("auto", ""):
        model = choose_model(kind, available, convention)
        if model is None:
            shown = ", ".join(m for m in (available or []) if m != "None") or "none"
            return (
                None,
                f"no {kind} ControlNet model among the host's models ({shown}); the {kind} unit is off",
            )
        return model, None
    if available is None or requested in available:
        return requested, None
    want = _model_name(requested)
    for m in available:
        if _model_name(m) == want:
            return m, None
    close = difflib.get_close_matches(requested, [m for m in available if m != "None"], n=3, cutoff=0.4)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise PlanError(f"{kind} model {requested!r} is not among the host's ControlNet models{hint}")
