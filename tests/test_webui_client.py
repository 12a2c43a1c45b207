"""lib_scene.webui_client reads the error text of every host's error shape (a local HTTP server
answers with the bodies A1111 1.10.1, Forge dfdcbab and FastAPI send; shared/host-contracts.md)."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lib_scene.webui_client import WebuiError, request_json

MSG = "invalid Scene Import parameters: unknown parameter 'depth.wieght' (did you mean 'depth.weight'?)"
BODIES = {
    # A1111's api_middleware handle_exception (modules/api/api.py)
    "/a1111": (500, {"error": "ParamsError", "detail": "", "body": "", "errors": MSG}),
    # Forge's app-wide handler (webui.py _handle_exception): the text under "message"
    "/forge": (500, {"error": "ParamsError", "detail": "", "body": "", "message": MSG}),
    # FastAPI's HTTPException handler (our refusals on the Script's API path, our routes)
    "/fastapi": (422, {"detail": MSG}),
    "/type-only": (500, {"error": "ParamsError", "detail": "", "body": "", "errors": ""}),
    "/text": (502, "Bad Gateway"),
}


@pytest.fixture(scope="module")
def url():
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            code, body = BODIES[self.path]
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(code)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("path", ["/a1111", "/forge", "/fastapi"])
def test_the_message_of_every_host_shape(url, path):
    with pytest.raises(WebuiError) as info:
        request_json(url + path)
    code = BODIES[path][0]
    assert str(info.value) == f"{url}{path}: HTTP {code}: {MSG}"
    assert info.value.status == code


def test_type_name_only_when_there_is_no_text(url):
    with pytest.raises(WebuiError, match=r"HTTP 500: ParamsError"):
        request_json(url + "/type-only")
    with pytest.raises(WebuiError, match=r"HTTP 502: Bad Gateway"):
        request_json(url + "/text")
