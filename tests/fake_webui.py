"""A small stand-in for a webui's HTTP API on 127.0.0.1 (for CLI ``run`` tests): the ControlNet
routes ``webui_client`` asks, and ``/sdapi/v1/txt2img|img2img`` answering a PNG and an infotext.

txt2img paints a seed-coloured picture with a prompt-dependent stripe; img2img keeps the init image
where the mask is black (what A1111's inpaint overlay does) and paints the rest with seed-coloured
noise, so a chained run's carried pixels stay carried. Every request is kept in ``posts``. An
``alwayson_scripts`` name the webui lacks is a 422 as on A1111; with ``infotext`` the webui has Scene
Import's companion infotext Script and the infotext gets its entries."""

from __future__ import annotations

import base64
import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
from PIL import Image

from lib_scene.wire import INFOTEXT_SCRIPT

MODELS = ["None", "control_v11f1p_sd15_depth [cfd03158]", "control_v11p_sd15_normalbae [316696f1]"]


def decode(b64: str) -> np.ndarray:
    with Image.open(io.BytesIO(base64.b64decode(b64.split(",", 1)[-1]))) as img:
        return np.asarray(img.convert("RGB") if img.mode not in ("L", "RGB") else img).copy()


def encode(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def paint(body: dict) -> np.ndarray:
    """What the fake 'generates' for a request body."""
    w, h, seed = body["width"], body["height"], body["seed"]
    rng = np.random.default_rng([seed, len(body.get("prompt", ""))])
    small = Image.fromarray(rng.integers(0, 256, (6, 8, 3), dtype=np.uint8))
    noise = np.asarray(small.resize((w, h), Image.BILINEAR))  # smooth, like a picture
    if not body.get("init_images"):
        return noise
    init = decode(body["init_images"][0])[..., :3]
    if "mask" not in body:
        return init
    keep = decode(body["mask"]) == 0
    if keep.ndim == 3:
        keep = keep[..., 0]
    out = noise.copy()
    out[keep] = init[keep]
    return out


class LoopbackWebui:
    """The HTTP plumbing every fake webui of the tests shares: a threaded server on 127.0.0.1 (a free
    port, ``url``), JSON answers, GET routes from :meth:`routes` and POSTs answered by :meth:`answer`.
    Subclasses say what a generation answers."""

    def __init__(self, forge: bool = False, units: int = 3, infotext: bool = False) -> None:
        self.forge, self.units, self.infotext = forge, units, infotext
        # a dead webui keeps its port (another server, of this run or of another one on this
        # machine, must not get it while a client still calls it) but hangs up on every caller
        self.dead = False
        self.hung_up = 0  # callers hung up on since it died
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def handle(self):
                if outer.dead:  # hang up at once: to the caller, a webui that is gone
                    outer.hung_up += 1
                    return
                super().handle()

            def _json(self, code, obj):
                data = json.dumps(obj).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the caller is gone (killed)
                    pass

            def do_GET(self):
                routes = outer.routes()
                path = self.path.split("?")[0]
                if path in routes:
                    return self._json(200, routes[path])
                return self._json(404, {"detail": "Not Found"})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                return self._json(*outer.answer_from(self.client_address, self.path, body))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def routes(self) -> dict[str, dict]:
        """GET path -> JSON: what ``webui_client`` asks of A1111 + ControlNet (Forge has no
        ``/controlnet/version``)."""
        routes = {
            "/controlnet/model_list": {"model_list": MODELS},
            "/controlnet/settings": {"control_net_unit_count": self.units},
            "/scene-import/v1/version": {
                "script": "scene import",
                "api": 1,
                "controlnet": True,
                "regional_prompter": True,
                "controlnet_units": self.units,
            },
        }
        if self.infotext:  # a Scene Import with its companion infotext Script
            routes["/scene-import/v1/version"]["infotext_script"] = INFOTEXT_SCRIPT
        if not self.forge:
            routes["/controlnet/version"] = {"version": 3}
        return routes

    def unknown_alwayson(self, body: dict) -> tuple[int, dict] | None:
        """A1111's answer to an ``alwayson_scripts`` name it lacks (modules/api/api.py
        ``script_name_to_index``: HTTPException 422 "Script '<name>' not found"), else None."""
        known = {"controlnet", "regional prompter"} | ({INFOTEXT_SCRIPT} if self.infotext else set())
        for name in body.get("alwayson_scripts") or {}:
            if name.lower() not in known:
                return 422, {"error": "HTTPException", "detail": f"Script '{name}' not found"}
        return None

    def extra_infotext(self, body: dict) -> str:
        """What the companion Script adds to the infotext (``, key: value`` with A1111's quoting of
        values holding ``,`` ``:`` or a line break); empty without Scene Import or its arg."""
        entry = (body.get("alwayson_scripts") or {}).get(INFOTEXT_SCRIPT) if self.infotext else None
        args = entry.get("args") if isinstance(entry, dict) else None
        if not args or not isinstance(args[0], dict):
            return ""
        quote = lambda v: json.dumps(v, ensure_ascii=False) if any(c in v for c in ",:\n") else v  # noqa: E731
        return "".join(f", {k}: {quote(v)}" for k, v in args[0].items())

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        return 404, {"detail": "Not Found"}

    def answer_from(self, peer: tuple[str, int], path: str, body: dict) -> tuple[int, dict]:
        """:meth:`answer`, told the caller's address (``peer``: host, port)."""
        return self.answer(path, body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class FakeWebui(LoopbackWebui):
    """Answers the routes the CLI uses, like A1111 + ControlNet (or Forge when ``forge``); every
    POST is kept in ``posts``."""

    def __init__(self, forge: bool = False, units: int = 3, infotext: bool = False) -> None:
        self.posts: list[tuple[str, dict]] = []
        super().__init__(forge, units, infotext)

    def answer(self, path: str, body: dict) -> tuple[int, dict]:
        self.posts.append((path, body))
        if path not in ("/sdapi/v1/txt2img", "/sdapi/v1/img2img"):
            return 404, {"detail": "Not Found"}
        refused = self.unknown_alwayson(body)
        if refused:
            return refused
        text = f"{body['prompt']}\nSeed: {body['seed']}, Size: {body['width']}x{body['height']}"
        if "denoising_strength" in body:
            text += f", Denoising strength: {body['denoising_strength']}"
        text += self.extra_infotext(body)
        info = {"seed": body["seed"], "infotexts": [text]}
        return 200, {"images": [encode(paint(body))], "info": json.dumps(info)}
