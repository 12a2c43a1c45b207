"""Re-shoot the README's pictures of the tab on the bundled sample scene.

    python tools/shoot_tab.py [--out docs]

Runs the tab standalone (``scene_import_a1111.standalone``) with ``samples/`` as the one allowed
folder, opens the folder ``room`` the way an artist would (typed into "Scene folder on the
server"), and photographs it in Debian's headless Chromium (``/usr/bin/chromium``, driven by
Playwright; never a downloaded browser):

* ``tab.png``: the Regions panel: the object-index regions over the beauty, the region table with
  the sample's own descriptions and the prompt the plan generates;
* ``tab-depth.png``: the Depth panel: the automatic split plan, its histogram and previews.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SAMPLES = os.path.join(ROOT, "samples")
CHROMIUM = os.environ.get("SCENE_IMPORT_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
BASE_PROMPT = "photo of a cosy living room, soft evening light, detailed"


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def _wait_status(page: object, text: str) -> None:
    page.wait_for_function(  # type: ignore[attr-defined]
        "t => (document.querySelector('#scene-import-status') || {}).innerText.includes(t)", arg=text
    )


def shoot(out: str) -> list[str]:
    sys.path.insert(0, ROOT)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from playwright.sync_api import sync_playwright

    from scene_import_a1111.standalone import build_standalone

    demo = build_standalone(allowed_dirs=[SAMPLES], presets_dir=os.path.join(out, ".no-presets"))
    port = _free_port()
    demo.queue().launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    shots = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1500, "height": 1100})
            page.set_default_timeout(60000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.fill("#scene-import-folder textarea, #scene-import-folder input", "room")
            page.click("#scene-import-open")
            _wait_status(page, "Loaded 3 camera(s)")
            page.locator("#scene-import-panels button", has_text="Regions").first.click()
            _wait_status(page, "region(s) from")
            page.fill("#scene-import-base-prompt textarea", BASE_PROMPT)
            page.click("#scene-import-build-regions")
            page.wait_for_function(
                "b => document.querySelector('#scene-import-prompt textarea').value.startsWith(b)",
                arg=BASE_PROMPT,
            )
            page.evaluate("document.querySelectorAll('.toast-close').forEach(b => b.click())")
            page.evaluate("window.scrollTo(0, 0)")
            shots.append(os.path.join(out, "tab.png"))
            page.locator("#scene-import-top").screenshot(path=shots[-1])
            page.locator("#scene-import-panels button", has_text="Depth").first.click()
            page.wait_for_timeout(500)
            shots.append(os.path.join(out, "tab-depth.png"))
            page.locator("#scene-import-top").screenshot(path=shots[-1])
            browser.close()
    finally:
        demo.close()
    return shots


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "docs"))
    a = ap.parse_args(argv)
    for path in shoot(os.path.abspath(a.out)):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
