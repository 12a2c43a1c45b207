"""The Depth panel: histogram, quantised/test/beauty previews, the split table and its edits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from lib_scene.depth import auto_plan
from lib_scene.errors import SceneImportError
from lib_scene.preview import histogram_image, render_depth
from lib_scene.session import SPLIT_COLUMNS, plan_from_rows, split_rows, zero_levels
from lib_scene.splits import SplitPlan
from scene_import_a1111 import compat

from .context import Tab
from .handlers import event, guard, need
from .state import TabSession
from .view import int_or_none, num_or_none, rows_of, unit_of


@dataclass
class DepthUI:
    hist: Any
    depth_img: Any
    test_img: Any
    beauty_img: Any
    usage: Any
    table: Any
    split_no: Any
    levels_no: Any
    depth_no: Any
    bound_no: Any
    add_btn: Any
    move_btn: Any
    remove_btn: Any
    alloc_btn: Any
    method: Any
    auto_btn: Any
    apply_btn: Any
    undo_btn: Any
    cutoff: Any
    curve: Any
    log_scale: Any
    one_btn: Any
    autoplan_btn: Any
    zero_btn: Any


def _previews() -> tuple[Any, Any, Any, Any]:
    hist = compat.image(
        label="Depth histogram: splits, boundaries, cutoff (click to add a split)",
        elem_id="scene-import-histogram",
        height=240,
    )
    with gr.Row():
        depth_img = compat.image(
            label="Quantised depth (click: split here)", elem_id="scene-import-depth-preview"
        )
        test_img = compat.image(label="Test colours (click: split here)", elem_id="scene-import-test-preview")
        beauty_img = compat.image(label="Beauty (click: split here)", elem_id="scene-import-beauty-preview")
    return hist, depth_img, test_img, beauty_img


def _split_table() -> Any:
    return compat.dataframe(
        headers=SPLIT_COLUMNS,
        datatype=["number", "number", "number", "number", "str", "number", "str", "str", "str"],
        col_count=(len(SPLIT_COLUMNS), "fixed"),
        row_count=(1, "dynamic"),
        type="array",
        interactive=True,
        label="Splits (edit start/end/levels/label/test/region, then Apply table; Ctrl+Enter)",
        elem_id="scene-import-splits",
    )


def build_depth() -> DepthUI:
    """The Depth panel's components (inside the caller's ``gr.Tab``)."""
    hist, depth_img, test_img, beauty_img = _previews()
    usage = gr.Markdown("", elem_id="scene-import-usage")
    table = _split_table()
    with gr.Row(elem_id="scene-import-split-controls"):
        split_no = gr.Number(label="Split #", value=0, precision=0, elem_id="scene-import-split-no")
        levels_no = gr.Number(label="Levels", value=0, precision=0, elem_id="scene-import-levels")
        depth_no = gr.Number(label="Depth", value=None, elem_id="scene-import-depth-value")
        bound_no = gr.Number(label="Boundary #", value=1, precision=0, elem_id="scene-import-boundary-no")
    with gr.Row():
        add_btn = gr.Button("Add split at depth", elem_id="scene-import-add")
        move_btn = gr.Button("Move boundary to depth", elem_id="scene-import-move")
        remove_btn = gr.Button("Remove split", elem_id="scene-import-remove")
        alloc_btn = gr.Button("Allocate levels", elem_id="scene-import-allocate", variant="primary")
    with gr.Row():
        method = gr.Radio(
            ["proportional", "even"],
            value="proportional",
            label="Auto-allocate remaining",
            elem_id="scene-import-alloc-method",
        )
        auto_btn = gr.Button("Auto-allocate remaining", elem_id="scene-import-auto-allocate")
        apply_btn = gr.Button("Apply table", elem_id="scene-import-apply-table")
        undo_btn = gr.Button("Undo", elem_id="scene-import-undo")
    with gr.Row():
        cutoff = gr.Number(label="Cutoff (empty: none)", value=None, elem_id="scene-import-cutoff")
        curve = gr.Radio(["linear", "inverse"], value="inverse", label="Curve", elem_id="scene-import-curve")
        log_scale = gr.Checkbox(label="log histogram", value=True, elem_id="scene-import-log")
        one_btn = gr.Button("Start over: one split", elem_id="scene-import-one-split")
        autoplan_btn = gr.Button("Automatic plan", elem_id="scene-import-auto-plan")
        zero_btn = gr.Button("Zero all levels", elem_id="scene-import-zero")
    return DepthUI(
        hist, depth_img, test_img, beauty_img, usage, table, split_no, levels_no, depth_no, bound_no,
        add_btn, move_btn, remove_btn, alloc_btn, method, auto_btn, apply_btn, undo_btn,
        cutoff, curve, log_scale, one_btn, autoplan_btn, zero_btn,
    )  # fmt: skip


def depth_outputs(t: Tab) -> list[Any]:
    d = t.depth
    return [
        t.sess, d.hist, d.depth_img, d.test_img, d.usage, d.table, t.status,
        d.split_no, d.levels_no, d.bound_no, d.cutoff, d.curve,
    ]  # fmt: skip


def render(t: Tab, s: TabSession, log: bool, message: str = "") -> dict[Any, Any]:
    """Every Depth output for the current camera's plan."""
    d = t.depth
    plan = s.state.require_plan()
    pv = s.preview()
    unit = unit_of(s.summaries.get(s.state.current or "", {}))
    r = render_depth(pv, plan, log=bool(log), unit=unit, selected=s.state.selected)
    s.layout = r.layout
    s.planned.clear()  # the splits may have changed the regions
    u = r.usage
    per = " · ".join(f"{i}: {used}/{n}" for i, (n, used) in enumerate(u.per_split))
    usage_md = (
        f"**levels used {u.used} / allocated {u.allocated}, wasted {u.wasted}**, "
        f"unallocated {plan.remaining_levels} · per split {per}"
    )
    out: dict[Any, Any] = {
        t.sess: s,
        d.hist: compat.png_image(r.histogram),
        d.depth_img: compat.png_image(r.depth),
        d.test_img: compat.png_image(r.test),
        d.usage: usage_md,
        d.table: split_rows(plan, r.counts, u, pv.index.hits if pv.index else None),
        t.status: message,
        d.cutoff: plan.cutoff,
        d.curve: plan.curve,
    }
    sel = s.state.selected
    if sel is not None:
        out[d.split_no] = sel
        out[d.levels_no] = plan.splits[sel].levels
        out[d.bound_no] = sel + 1
    return out


def _edit(
    t: Tab, s: TabSession | None, log: bool, op: str, args: tuple[Any, ...], msg: str
) -> dict[Any, Any]:
    s = need(s)
    s.state = s.state.edit(op, *args)
    return render(t, s, log, msg)


def _with_plan(t: Tab, s: TabSession | None, log: bool, make: Any, msg: str, **kw: Any) -> dict[Any, Any]:
    s = need(s)
    s.state = s.state.with_plan(make(s), **kw)
    return render(t, s, log, msg)


def _wire_buttons(t: Tab) -> None:
    d, ok = t.depth, guard(t.status)
    outs, L, sess = depth_outputs(t), d.log_scale, t.sess

    @ok
    def on_add(dv: Any, s: TabSession | None, log: bool) -> dict[Any, Any]:
        x = num_or_none(dv)
        if x is None:
            raise SceneImportError("type a depth in the Depth box, or click a preview pixel")
        return _edit(t, s, log, "add_cut", (x,), f"Added a split at {x:.6g}.")

    @ok
    def on_move(b: Any, dv: Any, s: TabSession | None, log: bool) -> dict[Any, Any]:
        bi, x = int_or_none(b), num_or_none(dv)
        if bi is None or x is None:
            raise SceneImportError("give a boundary number and a depth")
        return _edit(t, s, log, "move_boundary", (bi, x), f"Moved boundary {bi} to {x:.6g}.")

    @ok
    def on_remove(i: Any, s: TabSession | None, log: bool) -> dict[Any, Any]:
        n = int_or_none(i)
        if n is None:
            raise SceneImportError("give a split number")
        return _edit(t, s, log, "remove", (n,), f"Removed split {n}.")

    @ok
    def on_allocate(i: Any, n: Any, s: TabSession | None, log: bool) -> dict[Any, Any]:
        k, m = int_or_none(i), int_or_none(n)
        if k is None or m is None:
            raise SceneImportError("give a split number and a level count")
        return _edit(t, s, log, "allocate", (k, m), f"Split {k} has {m} levels.")

    @ok
    def on_auto(m: str, s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        counts = s.depth_index().split_counts(s.state.require_plan())
        return _edit(t, s, log, "auto_allocate", (m, counts), f"Shared the remaining levels ({m}).")

    @ok
    def on_apply_table(rows: Any, s: TabSession | None, log: bool) -> dict[Any, Any]:
        return _with_plan(
            t, s, log, lambda s: plan_from_rows(s.state.require_plan(), rows_of(rows)), "Applied the table."
        )

    @ok
    def on_undo(s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        s.state = s.state.undo()
        return render(t, s, log, "Undone.")

    compat.on(d.add_btn.click, on_add, [d.depth_no, sess, L], outs)
    compat.on(d.move_btn.click, on_move, [d.bound_no, d.depth_no, sess, L], outs)
    compat.on(d.remove_btn.click, on_remove, [d.split_no, sess, L], outs)
    compat.on(d.alloc_btn.click, on_allocate, [d.split_no, d.levels_no, sess, L], outs)
    compat.on(d.auto_btn.click, on_auto, [d.method, sess, L], outs)
    compat.on(d.apply_btn.click, on_apply_table, [d.table, sess, L], outs)
    compat.on(d.undo_btn.click, on_undo, [sess, L], outs)


def _one_split(s: TabSession) -> SplitPlan:
    rng = s.depth_index().range
    if rng is None:
        raise SceneImportError("the camera's depth canvas hits nothing")
    lo, hi = rng
    return SplitPlan.single(lo, hi, curve=s.state.require_plan().curve)


def _auto(s: TabSession) -> SplitPlan:
    cs = s.canvas()
    if cs.depth is None or cs.hit is None:
        raise SceneImportError(f"camera {cs.camera} has no depth canvas")
    return auto_plan(cs.depth, cs.hit)


def _wire_plan_controls(t: Tab) -> None:
    d, ok = t.depth, guard(t.status)
    outs, L, sess = depth_outputs(t), d.log_scale, t.sess

    @ok
    def on_cutoff(c: Any, s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        x = num_or_none(c)
        if x == s.state.require_plan().cutoff:
            return {}
        return _edit(t, s, log, "set_cutoff", (x,), "Cutoff removed." if x is None else f"Cutoff at {x:.6g}.")

    @ok
    def on_curve(c: str, s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        if c == s.state.require_plan().curve:
            return {}
        return _edit(t, s, log, "set_curve", (c,), f"Curve {c}.")

    @ok
    def on_one(s: TabSession | None, log: bool) -> dict[Any, Any]:
        msg = "One split over the hit depth range, all 256 levels."
        return _with_plan(t, s, log, _one_split, msg, selected=None)

    @ok
    def on_autoplan(s: TabSession | None, log: bool) -> dict[Any, Any]:
        return _with_plan(t, s, log, _auto, "Automatic plan.", selected=None)

    @ok
    def on_zero(s: TabSession | None, log: bool) -> dict[Any, Any]:
        msg = "All levels are free to allocate."
        return _with_plan(t, s, log, lambda s: zero_levels(s.state.require_plan()), msg)

    @ok
    def on_log(s: TabSession | None, log: bool) -> dict[Any, Any]:
        return render(t, need(s), log)

    compat.on(event(d.cutoff, "submit", "blur"), on_cutoff, [d.cutoff, sess, L], outs)
    compat.on(event(d.curve, "input", "change"), on_curve, [d.curve, sess, L], outs)
    compat.on(d.one_btn.click, on_one, [sess, L], outs)
    compat.on(d.autoplan_btn.click, on_autoplan, [sess, L], outs)
    compat.on(d.zero_btn.click, on_zero, [sess, L], outs)
    compat.on(event(L, "input", "change"), on_log, [sess, L], outs)


def _add_at(t: Tab, s: TabSession, log: bool, x: float, msg: str) -> dict[Any, Any]:
    s.state = s.state.edit("add_cut", x)
    out = render(t, s, log, msg)
    out[t.depth.depth_no] = round(x, 6)
    return out


def _wire_clicks(t: Tab) -> None:
    d, ok = t.depth, guard(t.status)
    L, sess = d.log_scale, t.sess
    pick_outputs = [*depth_outputs(t), d.depth_no]

    @ok
    def on_pick(evt: gr.SelectData, s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        xy = compat.select_index(evt)
        if not xy or len(xy) < 2:
            raise SceneImportError("no pixel position in the click")
        x = s.preview().depth_at(xy[0], xy[1])
        if x is None:
            raise SceneImportError(f"no surface at pixel ({xy[0]}, {xy[1]}): the renderer hit nothing there")
        return _add_at(t, s, log, x, f"Added a split at {x:.6g} (pixel {xy[0]}, {xy[1]}).")

    @ok
    def on_hist_pick(evt: gr.SelectData, s: TabSession | None, log: bool) -> dict[Any, Any]:
        s = need(s)
        xy = compat.select_index(evt)
        x = s.layout.depth_at_x(xy[0]) if (s.layout and xy) else None
        if x is None:
            raise SceneImportError("click inside the plot area")
        return _add_at(t, s, log, x, f"Added a split at {x:.6g}.")

    @ok
    def on_table_select(evt: gr.SelectData, s: TabSession | None, log: bool) -> dict[Any, Any]:
        # only the selection and the histogram's highlight change: re-sending the table would
        # end the cell edit the artist is starting
        s = need(s)
        rc = compat.select_index(evt)
        if not rc:
            return {}
        i = int(rc[0])
        s.state = s.state.select(i)
        plan = s.state.require_plan()
        unit = unit_of(s.summaries.get(s.state.current or "", {}))
        img, s.layout = histogram_image(s.depth_index(), plan, log=bool(log), unit=unit, selected=i)
        return {
            sess: s,
            d.hist: compat.png_image(img),
            d.split_no: i,
            d.levels_no: plan.splits[i].levels,
            d.bound_no: i + 1,
            t.status: f"Split {i} selected.",
        }

    for img in (d.depth_img, d.test_img, d.beauty_img):
        compat.on(img.select, on_pick, [sess, L], pick_outputs)
    compat.on(d.hist.select, on_hist_pick, [sess, L], pick_outputs)
    sel_outs = [sess, d.hist, d.split_no, d.levels_no, d.bound_no, t.status]
    compat.on(d.table.select, on_table_select, [sess, L], sel_outs)


def wire_depth(t: Tab) -> None:
    _wire_buttons(t)
    _wire_plan_controls(t)
    _wire_clicks(t)
