"""The interactive editor's state, as pure immutable steps, and the tables it shows.

:class:`EditorState` holds what the artist decides (a split plan per camera, the selection, the
undo history, region and prompt settings); every step returns a new state and never touches the
old one. The heavy data (canvases, previews) lives elsewhere and is looked up by camera name, so a
state is cheap to copy and easy to test. The UI (the ``scene_import_a1111/tab`` package) only wires
widgets to these functions.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from typing import Any

from numpy.typing import NDArray

from .canvas import CanvasSet
from .errors import PresetError, SceneImportError, SplitError
from .splits import Split, SplitPlan, load_preset, save_preset

UNDO_DEPTH = 64

SPLIT_COLUMNS = ["#", "start", "end", "levels", "used", "pixels %", "label", "test", "region"]
REGION_COLUMNS = ["region", "colour", "objects", "coverage %", "description"]


# --------------------------------------------------------------------------- editor state


@dataclass(frozen=True)
class EditorState:
    """What the artist has decided so far. Immutable: every method returns a new state."""

    cameras: tuple[str, ...] = ()
    current: str | None = None
    plans: dict[str, SplitPlan] = field(default_factory=dict)  # never mutated: copied on write
    selected: int | None = None  # selected split of the current camera
    history: tuple[SplitPlan, ...] = ()  # undo stack of the current camera's plans
    region_source: str = "auto"
    threshold: float = 0.005
    # pass index (or split region flag) -> edited text; scene-wide, so kept across cameras
    descriptions: dict[int, str] = field(default_factory=dict)
    base_prompt: str = ""
    convention: str = "bae"

    @property
    def plan(self) -> SplitPlan | None:
        return self.plans.get(self.current) if self.current is not None else None

    def require_plan(self) -> SplitPlan:
        p = self.plan
        if p is None:
            raise SceneImportError("load a scene first (no camera with a depth canvas is selected)")
        return p

    # ----------------------------------------------------------------- steps
    def loaded(
        self, cameras: list[str], plans: dict[str, SplitPlan], current: str | None = None
    ) -> EditorState:
        """A fresh scene: these cameras, their starting plans; history and selection cleared."""
        cams = tuple(cameras)
        cur = current if current in cams else (cams[0] if cams else None)
        return replace(
            self, cameras=cams, current=cur, plans=dict(plans), selected=None, history=(), descriptions={}
        )

    def with_plan(self, plan: SplitPlan, selected: int | None = -1) -> EditorState:
        """Replace the current camera's plan (the old one goes on the undo stack)."""
        old = self.require_plan()
        if plan == old and plan.name == old.name:
            return self if selected == -1 else replace(self, selected=selected)
        plans = dict(self.plans)
        plans[self.current] = plan  # type: ignore[index]
        sel = self.selected if selected == -1 else selected
        if sel is not None and not 0 <= sel < len(plan.splits):
            sel = None
        return replace(self, plans=plans, history=(*self.history, old)[-UNDO_DEPTH:], selected=sel)

    def edit(self, op: str, *args: Any, **kw: Any) -> EditorState:
        """Apply a :class:`SplitPlan` operation by name (``add_cut``, ``move_boundary``, ``remove``,
        ``merge``, ``allocate``, ``set_flag``, ``set_cutoff``, ``set_curve``, ``auto_allocate``)."""
        allowed = {
            "add_cut",
            "move_boundary",
            "remove",
            "merge",
            "allocate",
            "set_flag",
            "set_cutoff",
            "set_curve",
            "auto_allocate",
        }
        if op not in allowed:
            raise SplitError(f"unknown edit {op!r}")
        plan = getattr(self.require_plan(), op)(*args, **kw)
        sel: int | None = -1
        if op == "add_cut":
            sel = plan.find(float(args[0]))
        elif op == "remove":
            sel = None
        return self.with_plan(plan, selected=sel)

    def undo(self) -> EditorState:
        if not self.history:
            raise SplitError("nothing to undo")
        plans = dict(self.plans)
        plans[self.current] = self.history[-1]  # type: ignore[index]
        return replace(self, plans=plans, history=self.history[:-1], selected=None)

    def select(self, i: int | None) -> EditorState:
        plan = self.plan
        if i is not None and (plan is None or not 0 <= int(i) < len(plan.splits)):
            raise SplitError(f"there is no split {i}")
        return replace(self, selected=None if i is None else int(i))

    def select_camera(self, name: str) -> EditorState:
        if name not in self.cameras:
            raise SceneImportError(f"no camera {name!r}; the scene has {', '.join(self.cameras) or 'none'}")
        if name == self.current:
            return self
        return replace(self, current=name, selected=None, history=())

    def apply_to_all(self, plan: SplitPlan | None = None) -> EditorState:
        """Use one plan (default: the current one) for every camera: depths are scene units."""
        p = plan if plan is not None else self.require_plan()
        plans = {c: p for c in self.cameras if c in self.plans}
        new = replace(self, plans=plans)
        if self.current in self.plans and self.plans[self.current] != p:
            new = replace(new, history=(*self.history, self.plans[self.current])[-UNDO_DEPTH:])
        return new

    def with_settings(self, **kw: Any) -> EditorState:
        known = {"region_source", "threshold", "base_prompt", "convention"}
        bad = set(kw) - known
        if bad:
            raise SceneImportError(f"unknown editor settings {sorted(bad)}")
        return replace(self, **kw)

    def with_descriptions(self, descriptions: dict[int, str]) -> EditorState:
        return replace(self, descriptions={int(k): str(v) for k, v in descriptions.items()})


# --------------------------------------------------------------------------- the split table


def _num(x: float) -> float:
    return float(f"{x:.6g}")


def split_rows(
    plan: SplitPlan, counts: NDArray[Any] | None = None, usage: Any = None, hits: int | None = None
) -> list[list[Any]]:
    """Rows of the split table (see :data:`SPLIT_COLUMNS`). ``counts``/``usage`` are whole-canvas."""
    rows: list[list[Any]] = []
    for i, s in enumerate(plan.splits):
        used = "" if usage is None else f"{usage.per_split[i][1]}/{usage.per_split[i][0]}"
        share = "" if counts is None or not hits else round(100.0 * float(counts[i]) / hits, 2)
        rows.append(
            [
                i,
                _num(s.start),
                _num(s.end),
                int(s.levels),
                used,
                share,
                s.label or "",
                s.test or "",
                "" if s.region is None else int(s.region),
            ]
        )
    return rows


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and math.isnan(v):
        return ""
    return str(v).strip()


def _float_cell(v: object, what: str) -> float:
    t = _cell(v)
    try:
        x = float(t)
    except ValueError as exc:
        raise SplitError(f"{what}: {t!r} is not a number") from exc
    if not math.isfinite(x):
        raise SplitError(f"{what}: must be finite")
    return x


def _int_cell(v: object, what: str, blank: int | None = None) -> int | None:
    t = _cell(v)
    if t == "":
        return blank
    try:
        x = float(t)
    except ValueError as exc:
        raise SplitError(f"{what}: {t!r} is not a whole number") from exc
    if not x.is_integer():
        raise SplitError(f"{what}: {t!r} is not a whole number")
    return int(x)


def plan_from_rows(plan: SplitPlan, rows: list[list[Any]]) -> SplitPlan:
    """The plan after the artist edited the split table.

    Editable: start (boundary 0) and each end (the next split's start moves with it), a changed
    start of a later row moves that boundary when its neighbour's end was left alone; levels,
    label, test colour, region. The number of rows must stay the same (add and remove splits
    with the buttons). The result is validated as a whole, so levels may be moved between
    splits in one edit.
    """
    rows = [list(r) for r in (rows or []) if any(_cell(c) for c in r)]
    n = len(plan.splits)
    order = [_int_cell(r[0], "split number") if r else None for r in rows]
    numbers = [o for o in order if o is not None]
    if len(numbers) == len(rows) and sorted(numbers) == list(range(len(rows))):
        rows = [r for _, r in sorted(zip(numbers, rows, strict=True), key=lambda t: t[0])]  # table was sorted
    if len(rows) != n:
        raise SplitError(
            f"the split table has {len(rows)} rows but the plan has {n} splits; "
            "add or remove splits with the buttons"
        )
    old = plan.boundaries()
    starts = [_float_cell(r[1], f"row {i} start") for i, r in enumerate(rows)]
    ends = [_float_cell(r[2], f"row {i} end") for i, r in enumerate(rows)]
    bounds = [starts[0]]
    for k in range(1, n):
        end_prev, start_k = ends[k - 1], starts[k]
        if end_prev != _num(old[k]):
            bounds.append(end_prev)
        elif start_k != _num(old[k]):
            bounds.append(start_k)
        else:
            bounds.append(old[k])
    bounds.append(ends[-1])
    # unchanged cells keep full precision
    if starts[0] == _num(old[0]):
        bounds[0] = old[0]
    if ends[-1] == _num(old[-1]):
        bounds[-1] = old[-1]
    splits = []
    for i, r in enumerate(rows):
        levels = _int_cell(r[3], f"row {i} levels", blank=0) or 0
        region = _int_cell(r[8], f"row {i} region") if len(r) > 8 else None
        label = _cell(r[6]) if len(r) > 6 else ""
        test = _cell(r[7]) if len(r) > 7 else ""
        splits.append(Split(bounds[i], bounds[i + 1], levels, label or None, test or None, region))
    return SplitPlan(tuple(splits), cutoff=plan.cutoff, curve=plan.curve, name=plan.name)


def zero_levels(plan: SplitPlan) -> SplitPlan:
    """Every split at 0 levels (a clean slate before allocating by hand)."""
    return SplitPlan(tuple(replace(s, levels=0) for s in plan.splits), plan.cutoff, plan.curve, plan.name)


# --------------------------------------------------------------------------- presets by name

_PRESET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$")


def preset_path(folder: str, name: str) -> str:
    """``folder/<name>.json`` for a safe preset name (letters, digits, space, ``_.-``; no paths)."""
    n = (name or "").strip()
    if n.lower().endswith(".json"):
        n = n[:-5]
    if not _PRESET_NAME.match(n) or ".." in n:
        raise PresetError(
            f"preset name {name!r} is not allowed: use 1-64 letters, digits, spaces, '_', '.' or '-'",
            folder,
        )
    return os.path.join(folder, n + ".json")


def list_presets(folder: str) -> list[str]:
    if not folder or not os.path.isdir(folder):
        return []
    return sorted(n[:-5] for n in os.listdir(folder) if n.lower().endswith(".json") and not n.startswith("."))


def save_named(plan: SplitPlan, folder: str, name: str, overwrite: bool = False) -> str:
    """Save under a name; an existing preset is replaced only with ``overwrite``."""
    path = preset_path(folder, name)
    os.makedirs(folder, exist_ok=True)
    return save_preset(plan, path, overwrite=overwrite)


def load_named(folder: str, name: str) -> SplitPlan:
    return load_preset(preset_path(folder, name))


# --------------------------------------------------------------------------- scene files


def camera_summary(cs: CanvasSet) -> dict[str, str]:
    """What one camera holds: passes, size, depth range, no-hit share (JSON-able)."""
    passes = cs.passes()
    passes += sorted(cs.aovs)
    rng = cs.depth_range()
    total = cs.width * cs.height
    unit = "cm" if cs.depth_unit == "cm" else "units"
    return {
        "camera": cs.camera,
        "layout": cs.layout,
        "size": f"{cs.width}x{cs.height}",
        "passes": ", ".join(passes) or "none recognised",
        "depth": "none"
        if cs.depth is None
        else ("no hits" if rng is None else f"{rng[0]:.4g} .. {rng[1]:.4g} {unit}"),
        "no-hit": "" if cs.hit is None else f"{100.0 * cs.no_hit_count / total:.1f}%",
        "sidecar": os.path.basename(cs.sidecar_path) if cs.sidecar_path else "",
    }
