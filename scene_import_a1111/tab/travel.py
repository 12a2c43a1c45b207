"""The Travel panel: a keyframe table (frame, base prompt, region descriptions), the interpolation,
the frame count, "Generate travel" with a preview strip of the frames, and "Variations" (N images of
the current camera, seed fixed, the conditioning walked by noise of sigma). Plans come from
``plans.resolve_tab`` (the one request path); the host generates them one by one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gradio as gr

from lib_scene.animation import out_stem
from lib_scene.errors import ParamsError
from scene_import_a1111 import compat

from . import plans
from .context import Config, Tab
from .handlers import guard, need
from .state import TabSession

HEADERS = ["frame", "base prompt", "descriptions (index=text; ...)"]
EXAMPLE = [[0, "a cosy room at dusk", ""], [24, "the same room at night", "3=a steel chair"]]


@dataclass
class TravelUI:
    table: Any
    interpolation: Any
    frames: Any
    run_btn: Any
    var_count: Any
    var_sigma: Any
    var_btn: Any
    strip: Any
    msg: Any


def build_travel() -> TravelUI:
    gr.Markdown(
        "Keyframes change the base prompt and region descriptions; between them the **text conditioning** "
        "is interpolated inside the sampler, with one seed for every frame."
    )
    table = gr.Dataframe(
        headers=HEADERS,
        datatype=["number", "str", "str"],
        value=EXAMPLE,
        row_count=(2, "dynamic"),
        col_count=(3, "fixed"),
        label="Keyframes",
        elem_id="scene-import-keyframes",
    )
    with gr.Row():
        interpolation = gr.Radio(["slerp", "linear"], value="slerp", label="Interpolation")
        frames = gr.Number(label="Frames (0: up to the last keyframe)", value=0, precision=0)
        run_btn = gr.Button("Generate travel", variant="primary", elem_id="scene-import-travel-run")
    with gr.Row():
        var_count = gr.Number(label="Variations", value=4, precision=0)
        var_sigma = gr.Number(label="sigma", value=0.02)
        var_btn = gr.Button("Variations", elem_id="scene-import-variations-run")
    strip = gr.Gallery(label="Preview strip", columns=8, height=180, elem_id="scene-import-travel-strip")
    msg = gr.Markdown("", elem_id="scene-import-travel-msg")
    return TravelUI(table, interpolation, frames, run_btn, var_count, var_sigma, var_btn, strip, msg)


def _descriptions(text: str, row: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in (text or "").split(";"):
        if not part.strip():
            continue
        idx, sep, desc = part.partition("=")
        if not sep or not idx.strip().isdigit():
            raise ParamsError(
                [f"keyframe row {row}: descriptions are 'index=text; index=text', got {part!r}"]
            )
        out[str(int(idx))] = desc.strip()
    return out


def keyframes(rows: Any) -> list[dict[str, Any]]:
    """The table's rows (a list of lists, or a pandas DataFrame) as travel keyframes."""
    values = rows.values.tolist() if hasattr(rows, "values") else list(rows or [])
    out = []
    for n, row in enumerate(values, 1):
        cells = [*list(row), "", "", ""][:3]
        if all(c in (None, "") for c in cells):
            continue
        try:
            frame = int(float(cells[0]))
        except (TypeError, ValueError):
            raise ParamsError([f"keyframe row {n}: frame must be a number, got {cells[0]!r}"]) from None
        kf: dict[str, Any] = {"frame": frame}
        if cells[1] not in (None, ""):
            kf["base_prompt"] = str(cells[1])
        desc = _descriptions(str(cells[2] or ""), n)
        if desc:
            kf["descriptions"] = desc
        out.append(kf)
    return out


def _run(cfg: Config, s: TabSession, d: dict[str, Any], progress: Any) -> tuple[list[Any], str]:
    runner = cfg.runner
    if runner is None:
        raise ParamsError(["generating needs A1111 (this tab runs standalone)"])
    todo = plans.resolve_tab(s, d, cfg.facts(), cameras=[str(need(s).state.current)])
    strip: list[tuple[Any, str]] = []
    for k, plan in enumerate(todo):
        progress((k, len(todo)), desc=f"frame {k + 1}/{len(todo)}")
        result = runner(plan)
        got = list(getattr(result, "images", result) or [])
        if got:
            strip.append((got[0], out_stem(plan)))
    progress((len(todo), len(todo)), desc="done")
    return strip, f"{len(strip)} image(s), seed {todo[0].seed if todo else '-'}"


def wire_travel(t: Tab, cfg: Config) -> None:
    tv, g, ok = t.travel, t.gen, guard(t.status)
    base = [t.sess, g.mode, g.seed, g.negative]

    @ok
    def on_travel(
        s: TabSession | None,
        md: str,
        sd: Any,
        neg: str,
        rows: Any,
        how: str,
        n: Any,
        progress: Any = gr.Progress(),  # noqa: B008 - gradio's way
    ) -> dict[Any, Any]:
        s = need(s)
        d = plans.tab_params(s, md, sd, neg, "")
        d["travel"] = {"keyframes": keyframes(rows), "interpolation": how}
        if n and int(n) > 0:
            d["frames"] = int(n)
        strip, text = _run(cfg, s, d, progress)
        return {tv.strip: strip, tv.msg: text, t.status: "Travel generated."}

    @ok
    def on_variations(
        s: TabSession | None,
        md: str,
        sd: Any,
        neg: str,
        count: Any,
        sigma: Any,
        progress: Any = gr.Progress(),  # noqa: B008 - gradio's way
    ) -> dict[Any, Any]:
        s = need(s)
        d = plans.tab_params(s, md, sd, neg, "")
        d["variations"] = {"count": int(count or 1), "sigma": float(sigma or 0.0)}
        strip, text = _run(cfg, s, d, progress)
        return {tv.strip: strip, tv.msg: text, t.status: "Variations generated."}

    outs = [tv.strip, tv.msg, t.status]
    compat.on(tv.run_btn.click, on_travel, [*base, tv.table, tv.interpolation, tv.frames], outs)
    compat.on(tv.var_btn.click, on_variations, [*base, tv.var_count, tv.var_sigma], outs)
