"""The Generate panel: mode, seed, negative prompt; "Send to txt2img/img2img" (the params the
dropdown Script takes, filled in by javascript/scene_import.js) and "Generate all cameras"
(through the host the tab was given). Both carry the prompt box's text as ``prompt``.
"Chain cameras" makes "Generate all cameras" a chain (``tab.chain``): each camera after the first
inpaints what the ones before it painted; a preview shows the next camera's warp and mask, and the
per-pair consistency is shown after every run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import gradio as gr

from scene_import_a1111 import compat

from . import chain as tab_chain
from . import plans
from .context import Config, Tab
from .handlers import guard, need
from .state import TabSession


@dataclass
class GenerateUI:
    mode: Any
    seed: Any
    negative: Any
    params_box: Any
    params_view: Any
    send_t2i: Any
    send_i2i: Any
    gen_btn: Any
    gen_msg: Any
    gallery: Any
    chain: Any
    chain_btn: Any
    chain_msg: Any
    chain_warp: Any
    chain_mask: Any
    consistency: Any


def build_generate(can_generate: bool) -> GenerateUI:
    with gr.Row():
        mode = gr.Radio(["txt2img", "img2img"], value="txt2img", label="Mode", elem_id="scene-import-mode")
        seed = gr.Number(
            label="Seed (-1: one random seed, shared by every camera)",
            value=-1,
            precision=0,
            elem_id="scene-import-seed",
        )
        negative = gr.Textbox(label="Negative prompt", elem_id="scene-import-negative")
    params_box = gr.Textbox(visible=False, elem_id="scene-import-send-params")
    params_view = gr.Code(label="Scene Import params", language="json", elem_id="scene-import-params-view")
    with gr.Row():
        send_t2i = gr.Button("Send to txt2img", elem_id="scene-import-send-txt2img")
        send_i2i = gr.Button("Send to img2img", elem_id="scene-import-send-img2img")
    gen_btn = gr.Button(
        "Generate all cameras", variant="primary", elem_id="scene-import-generate", visible=can_generate
    )
    gen_msg = gr.Markdown(
        ""
        if can_generate
        else "Generating needs A1111: this tab runs standalone, so use **Send to txt2img** inside the webui.",
        elem_id="scene-import-generate-msg",
    )
    with gr.Row():
        chain = gr.Checkbox(
            label="Chain cameras (each camera after the first inpaints what the ones before it painted)",
            value=False,
            elem_id="scene-import-chain",
        )
        chain_btn = gr.Button("Preview the next camera's warp", elem_id="scene-import-chain-preview")
    chain_msg = gr.Markdown("", elem_id="scene-import-chain-msg")
    with gr.Row():
        chain_warp = gr.Image(
            label="Next camera: carried (warp)", interactive=False, elem_id="scene-import-chain-warp"
        )
        chain_mask = gr.Image(
            label="Next camera: to paint (mask)", interactive=False, elem_id="scene-import-chain-mask"
        )
    gallery = gr.Gallery(label="Results", columns=4, elem_id="scene-import-gallery")
    consistency = gr.Markdown("", elem_id="scene-import-consistency")
    return GenerateUI(
        mode, seed, negative, params_box, params_view, send_t2i, send_i2i, gen_btn, gen_msg, gallery,
        chain, chain_btn, chain_msg, chain_warp, chain_mask, consistency,
    )  # fmt: skip


def send_params(
    cfg: Config, s: TabSession, mode: str, seed: Any, negative: str, prompt: str
) -> dict[str, Any]:
    """The params "Send to" carries, checked here so a bad value or an edited prompt that does not
    fit the regions is named before the send."""
    d = plans.tab_params(s, mode, seed, negative, prompt)
    facts = cfg.facts()
    plans.parse(d, facts)
    if "prompt" in d and s.state.current is not None:  # the plan refuses a prompt that does not fit
        plans.resolve_tab(
            s, {**d, "seed": 0}, facts, cameras=[s.state.current], prompts={s.state.current: d["prompt"]}
        )
    return d


def prompts_for(s: TabSession, prompt: str) -> dict[str, str]:
    """Each camera's typed prompt; the box is the current camera's."""
    out = dict(s.prompts)
    if s.state.current is not None and prompt and prompt.strip():
        out[s.state.current] = prompt
    return out


def _images(result: Any) -> list[Any]:
    return list(getattr(result, "images", result) or [])


def run_cameras(
    s: TabSession, todo: list[Any], runner: Any, progress: Any
) -> tuple[list[tuple[Any, str]], list[str]]:
    """Generate each camera's plan on its own; (gallery items, one line per camera)."""
    images: list[tuple[Any, str]] = []
    lines: list[str] = []
    for k, plan in enumerate(todo):
        progress((k, len(todo)), desc=f"camera {k + 1}/{len(todo)}")
        got = _images(runner(plan))
        images.extend((img, plan.camera) for img in got)
        if got:
            s.generated[plan.camera] = tab_chain.first_image(got)
        lines.append(f"camera {k + 1}/{len(todo)} {plan.camera}: {len(got)} image(s), seed {plan.seed}")
    return images, lines


def run_chained(
    s: TabSession, todo: list[Any], runner: Any, progress: Any
) -> tuple[list[tuple[Any, str]], list[str]]:
    """Generate the cameras as a chain; (gallery items: each camera's result, warp and mask; lines)."""
    n = len(todo)

    def told(k: int, step: Any) -> None:
        progress((k, n), desc=f"camera {k + 1}/{n} (chain)")

    images: list[tuple[Any, str]] = []
    lines: list[str] = []
    for k, r in enumerate(tab_chain.generate_chain(s, todo, runner, told)):
        plan = r.step.plan
        images.append((r.image, plan.camera))
        if r.step.warp is not None and r.step.mask is not None:
            images += [(r.step.warp, f"{plan.camera}: carried"), (r.step.mask, f"{plan.camera}: painted")]
            what = f"inpaint, {100 * plan.chain.get('carried', 0.0):.1f}% carried from {', '.join(plan.chain['after'])}"
        else:
            what = "generated as usual"
        lines.append(f"camera {k + 1}/{n} {plan.camera}: {what}, seed {plan.seed}")
    return images, lines


def wire_generate(t: Tab, cfg: Config) -> None:
    g, ok = t.gen, guard(t.status)
    inputs = [t.sess, g.mode, g.seed, g.negative, t.regions.prompt]

    @ok
    def on_params(s: TabSession | None, md: str, sd: Any, neg: str, prompt: str) -> dict[Any, Any]:
        d = send_params(cfg, need(s), md, sd, neg, prompt)
        return {g.params_view: json.dumps(d, indent=1), g.params_box: json.dumps(d), t.status: "Sent."}

    for btn, tab in ((g.send_t2i, "txt2img"), (g.send_i2i, "img2img")):
        ev = compat.on(btn.click, on_params, inputs, [g.params_view, g.params_box, t.status])
        compat.on(ev.then, None, [g.params_box], [], js=f"(p) => sceneImportSendTo('{tab}', p)")

    runner = cfg.runner
    if runner is None:
        return

    @ok
    def on_generate(
        s: TabSession | None,
        md: str,
        sd: Any,
        neg: str,
        prompt: str,
        chained: bool,
        progress: Any = gr.Progress(),  # noqa: B008 - gradio's way
    ) -> dict[Any, Any]:
        s = need(s)
        d = plans.tab_params(s, md, sd, neg, "")
        progress(0, desc=f"reading and planning {len(s.state.cameras)} camera(s)")
        if chained:
            d["chain"] = {"enabled": True}
        todo = plans.resolve_tab(s, d, cfg.facts(), prompts=prompts_for(s, prompt))
        run = run_chained if chained else run_cameras
        images, lines = run(s, todo, runner, progress)
        lines.extend(f"warning: {w}" for plan in todo for w in plan.warnings)  # the honest warnings
        progress((len(todo), len(todo)), desc="done")
        done = {p.camera: s.generated[p.camera] for p in todo if p.camera in s.generated}
        return {
            g.gallery: images,
            g.gen_msg: "\n\n".join(lines),
            g.consistency: tab_chain.consistency_text(s, done) if len(done) > 1 else "",
            t.status: "Generated.",
        }

    compat.on(
        g.gen_btn.click, on_generate, [*inputs, g.chain], [g.gallery, g.gen_msg, g.consistency, t.status]
    )


def wire_chain_preview(t: Tab, cfg: Config) -> None:
    """ "Preview the next camera's warp": what the cameras up to the current one carry into the next."""
    g, ok = t.gen, guard(t.status)

    @ok
    def on_preview(s: TabSession | None, md: str, sd: Any, neg: str) -> dict[Any, Any]:
        s = need(s)
        params = plans.parse(plans.tab_params(s, md, sd, neg, ""), cfg.facts())
        warp_img, mask, caption = tab_chain.preview_next(s, params)
        return {g.chain_warp: warp_img, g.chain_mask: mask, g.chain_msg: caption, t.status: "Previewed."}

    compat.on(
        g.chain_btn.click,
        on_preview,
        [t.sess, g.mode, g.seed, g.negative],
        [g.chain_warp, g.chain_mask, g.chain_msg, t.status],
    )
