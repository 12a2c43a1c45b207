"""Run the Scene Import tab on its own, without A1111 (demos, the browser test).

``python -m scene_import_a1111.standalone [--samples DIR] [--allowed-dir DIR] [--port N]``

The tab is rendered inside an outer ``gr.Blocks`` exactly as A1111 renders extension tabs, with the
extension's ``style.css`` and ``javascript/scene_import.js`` added the way the webui adds them
(A1111 injects them into the page head; here the CSS goes to the Blocks and the script runs on load).
"""

from __future__ import annotations

import argparse
import os

import gradio as gr

from . import compat
from .tab import build_tab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def extension_css() -> str:
    path = os.path.join(ROOT, "style.css")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def extension_js() -> str:
    path = os.path.join(ROOT, "javascript", "scene_import.js")
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def load_js_on_start(blocks: gr.Blocks) -> None:
    """Run the extension's script once the page has loaded (what A1111's head injection does)."""
    code = extension_js()
    compat.on(blocks.load, None, [], [], js="() => {\n" + code + "\n}")


def build_standalone(**tab_kw) -> gr.Blocks:
    tab = build_tab(**tab_kw)
    with gr.Blocks(analytics_enabled=False, css=extension_css(), title="Scene Import") as outer:
        tab.render()
        load_js_on_start(outer)
    return outer


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Scene Import tab without A1111")
    ap.add_argument("--samples", help="a scene folder offered as 'Open the sample scene'")
    ap.add_argument("--allowed-dir", action="append", default=[], help="server folders the tab may open")
    ap.add_argument("--presets", help="presets folder")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7870)
    a = ap.parse_args(argv)
    allowed = list(a.allowed_dir) + ([a.samples] if a.samples else [])
    demo = build_standalone(allowed_dirs=allowed, presets_dir=a.presets, samples_dir=a.samples)
    demo.queue().launch(server_name=a.host, server_port=a.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
