"""Frames -> an animated WebP (or GIF when Pillow lacks WebP) and, with imageio-ffmpeg, an MP4.

Pillow only (no new dependency); the MP4 is made only when ``imageio_ffmpeg`` is importable.
"""

from __future__ import annotations

import io
import os
import subprocess
import tempfile
from collections.abc import Sequence

from PIL import Image, features

__all__ = ["animated", "mp4"]


def _open(frames: Sequence[bytes]) -> list[Image.Image]:
    return [Image.open(io.BytesIO(b)).convert("RGB") for b in frames]


def animated(frames: Sequence[bytes], fps: float = 8.0) -> tuple[str, bytes]:
    """(extension, data): a looping animated WebP (lossless) or, without WebP support, a GIF."""
    images = _open(frames)
    if not images:
        raise ValueError("no frames")
    duration = max(1, round(1000 / fps))
    buf = io.BytesIO()
    if features.check("webp"):  # type: ignore[no-untyped-call, unused-ignore]
        images[0].save(
            buf, "WEBP", save_all=True, append_images=images[1:], duration=duration, loop=0, lossless=True
        )
        return "webp", buf.getvalue()
    images[0].save(buf, "GIF", save_all=True, append_images=images[1:], duration=duration, loop=0)
    return "gif", buf.getvalue()


def mp4(frames: Sequence[bytes], fps: float = 8.0) -> bytes | None:
    """An H.264 MP4 of the frames through imageio-ffmpeg's ffmpeg binary; None without it."""
    try:
        import imageio_ffmpeg  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    images = _open(frames)
    w, h = images[0].size
    w2, h2 = w - w % 2, h - h % 2  # yuv420p needs even sizes
    raw = b"".join(im.crop((0, 0, w2, h2)).tobytes() for im in images)
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.mp4")
        cmd = [exe, "-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w2}x{h2}"]
        cmd += ["-r", f"{fps:g}", "-i", "-", "-c:v", "libx264", "-pix_fmt", "yuv420p", out]
        subprocess.run(cmd, input=raw, check=True)
        with open(out, "rb") as fh:
            return fh.read()
