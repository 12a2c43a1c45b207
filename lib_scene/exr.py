"""Low-level OpenEXR reading: every part, every channel, merged headers, with refusals first.

Uses OpenEXR's ``File`` API (3.3+): cv2 reads nothing from multilayer files and pyexr / the
legacy ``InputFile`` see only part 0 of a multi-part file.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import NDArray

from . import exr_parts
from .errors import CanvasError
from .exr_guard import openexr_guard

#: Largest canvas side we accept; anything larger is refused before any pixel is allocated.
MAX_SIDE = 16384

# Per-part structural header keys that are not scene metadata.
_STRUCTURAL = {
    "channels",
    "chunkCount",
    "compression",
    "dataWindow",
    "displayWindow",
    "lineOrder",
    "name",
    "pixelAspectRatio",
    "screenWindowCenter",
    "screenWindowWidth",
    "type",
    "tiles",
    "version",
}


Window = tuple[int, int, int, int]
Header = dict[str, Any]


@dataclass(frozen=True)
class Channel:
    """One channel of an EXR file. Nothing is decoded until a command looks at it: ``stored`` is
    the channel as OpenEXR decodes it (its part alone where the file's layout allows, see
    :class:`_Decoder`), and ``pixels`` its float32 copy placed on the display window, made on
    first use (half passes such as the beauty are kept as stored until then)."""

    name: str  # full name, e.g. "ViewLayer.Depth.Z"
    part: str  # name of the part it comes from ("" for single-part files)
    windows: tuple[Window, Window] | None = None  # (data, display) when they differ
    decoder: _Decoder | None = field(default=None, repr=False, compare=False)
    index: int = 0  # its part's index in the file

    @cached_property
    def stored(self) -> NDArray[Any]:
        """(h, w) as decoded: float16, float32 or uint32, on the data window."""
        if self.decoder is None:
            raise CanvasError(f"channel {self.name!r} has no pixels", None)
        return self.decoder.channel(self.index, self.name)

    def release(self) -> None:
        """Forget the decoded pixels (a loader that copied them elsewhere frees the memory; a
        later look decodes the part again)."""
        self.__dict__.pop("pixels", None)
        self.__dict__.pop("stored", None)
        if self.decoder is not None:
            self.decoder.release(self.index, self.name)

    @property
    def half(self) -> bool:
        """Stored as half in the file."""
        return bool(self.stored.dtype == np.float16)

    @cached_property
    def pixels(self) -> NDArray[np.float32]:
        """(H, W) float32, read-only; NaN outside the data window."""
        data = self.stored.astype(np.float32, copy=False)
        if self.windows is not None:
            data = _place(data, *self.windows)
        elif data is self.stored:
            data = data.view()
        data.flags.writeable = False
        return data


@dataclass(frozen=True)
class ExrImage:
    path: str
    width: int
    height: int
    channels: dict[str, Channel]
    header: dict[str, object] = field(default_factory=dict)  # merged, JSON-friendly metadata
    parts: tuple[str, ...] = ()
    compression: str = ""

    def decoded_parts(self) -> list[str]:
        """The names of the parts whose pixels have been decoded so far."""
        decoder = next((c.decoder for c in self.channels.values() if c.decoder is not None), None)
        return [] if decoder is None else [self.parts[k] for k in sorted(decoder.decoded)]


def _window(hdr: Header, key: str, path: str) -> Window:
    win = hdr.get(key)
    if win is None:
        raise CanvasError(f"header has no {key}", path)
    try:
        (x0, y0), (x1, y1) = (tuple(int(v) for v in win[0]), tuple(int(v) for v in win[1]))
    except (TypeError, ValueError, IndexError) as exc:
        raise CanvasError(f"unreadable {key} {win!r}", path) from exc
    return x0, y0, x1, y1


def _check_window(win: Window, key: str, path: str) -> None:
    x0, y0, x1, y1 = win
    w, h = x1 - x0 + 1, y1 - y0 + 1
    if w <= 0 or h <= 0:
        raise CanvasError(f"empty {key} ({w}x{h})", path)
    if w > MAX_SIDE or h > MAX_SIDE:
        raise CanvasError(
            f"declared {key} is {w}x{h} pixels, larger than the {MAX_SIDE}x{MAX_SIDE} limit; "
            "the file is corrupt or not a render canvas",
            path,
        )


def _jsonable(value: object) -> object:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def read_header(path: str | os.PathLike[str]) -> list[Header]:
    """Read the headers of every part without reading pixels; refuse absurd windows."""
    with openexr_guard(os.fspath(path), "OpenEXR header"):
        return _read_header(path)


def _read_header(path: str | os.PathLike[str]) -> list[Header]:
    import OpenEXR

    path = os.fspath(path)
    if not os.path.isfile(path):
        raise CanvasError("no such file", path)
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise CanvasError(f"cannot read file ({exc.strerror})", path) from exc
    if magic != b"\x76\x2f\x31\x01":
        raise CanvasError("not an OpenEXR file (bad magic number)", path)
    try:
        f = OpenEXR.File(path, header_only=True)
        headers = [dict(p.header) for p in f.parts]
    except Exception as exc:  # OpenEXR raises RuntimeError/ValueError with a C++ message
        raise CanvasError(f"unreadable OpenEXR header ({exc})", path) from exc
    if not headers:
        raise CanvasError("OpenEXR file has no parts", path)
    for hdr in headers:
        storage = str(hdr.get("type", ""))
        if "deep" in storage:
            raise CanvasError("deep EXR images are not supported; render flat canvases", path)
        _check_window(_window(hdr, "dataWindow", path), "data window", path)
        _check_window(_window(hdr, "displayWindow", path), "display window", path)
        _check_tiles(hdr, path)
    return headers


def _check_tiles(hdr: Header, path: str) -> None:
    """A tile larger than the largest canvas is a damaged header (OpenEXR would allocate it: a
    fuzzed tile height of 134 M rows took 16.8 GB)."""
    tiles = hdr.get("tiles")
    if tiles is None:
        return
    try:
        tx, ty = int(tiles.xSize), int(tiles.ySize)
    except (AttributeError, TypeError, ValueError) as exc:
        raise CanvasError(f"unreadable tile description {tiles!r}", path) from exc
    if not (0 < tx <= MAX_SIDE and 0 < ty <= MAX_SIDE):
        raise CanvasError(
            f"declared tile size is {tx}x{ty} pixels, outside 1..{MAX_SIDE}; the file is corrupt", path
        )


def read_exr(path: str | os.PathLike[str], whole: bool = False) -> ExrImage:
    """Every channel of every part, each decoded on first use into float32 on the display window.

    The headers are read (and refused) here; pixels are decoded when a command first looks at a
    channel of a part (:class:`_Decoder`); ``whole``: decode every part now, in one read of the
    whole file (what a multi-part file costs without the part cutting). Pixels outside a part's data window are NaN (they read
    as "no hit" for depth). OpenEXR's own messages are captured (:mod:`lib_scene.exr_guard`),
    never printed raw.
    """
    with openexr_guard(os.fspath(path), "OpenEXR file"):
        return _read_exr(path, whole)


def _read_exr(path: str | os.PathLike[str], whole: bool) -> ExrImage:
    path = os.fspath(path)
    headers = read_header(path)
    disp = _window(headers[0], "displayWindow", path)
    width, height = disp[2] - disp[0] + 1, disp[3] - disp[1] + 1
    decoder = _Decoder(path, headers, by_part=not whole)
    channels: dict[str, Channel] = {}
    merged: dict[str, object] = {}
    part_names: list[str] = []
    compression = ""
    for k, hdr in enumerate(headers):
        pname = str(hdr.get("name", "") or "")
        part_names.append(pname)
        compression = compression or str(hdr.get("compression", "")).rsplit(".", 1)[-1]
        for key, value in hdr.items():
            if key not in _STRUCTURAL and key not in merged:
                merged[key] = _jsonable(value)
        dw = _window(hdr, "dataWindow", path)
        windows = None if dw == disp else (dw, disp)
        for ch in hdr.get("channels", []):
            name = str(getattr(ch, "name", ch))
            if getattr(ch, "xSampling", 1) != 1 or getattr(ch, "ySampling", 1) != 1:
                raise CanvasError(
                    f"channel {name!r} is subsampled; only full-resolution channels are supported", path
                )
            if name in channels:
                raise CanvasError(f"channel {name!r} appears in two parts", path)
            channels[name] = Channel(name, pname, windows, decoder, k)
    if not channels:
        raise CanvasError("OpenEXR file has no channels", path)
    if decoder.layout is None:  # a file read whole is read now, as it always was
        decoder.part(0)
    return ExrImage(
        path=path,
        width=width,
        height=height,
        channels=channels,
        header=merged,
        parts=tuple(part_names),
        compression=compression,
    )


class _Decoder:
    """Decodes a file's parts when they are first needed, each once.

    A multi-part file whose layout :func:`lib_scene.exr_parts.scan` understands is decoded part by
    part (the part's bytes cut out into a one-part file, which OpenEXR decodes); anything else,
    or a part whose cutting fails, is decoded whole, as one ``OpenEXR.File`` read."""

    def __init__(self, path: str, headers: list[Header], by_part: bool = True) -> None:
        self.path = path
        self.headers = headers
        self.layout = exr_parts.scan(path) if by_part and len(headers) > 1 else None
        if self.layout is not None and [p.name for p in self.layout.parts] != [
            str(h.get("name", "") or "") for h in headers
        ]:
            self.layout = None  # not the parts OpenEXR sees: read it whole
        self._parts: dict[int, dict[str, NDArray[Any]]] = {}
        self._lock = threading.Lock()

    @property
    def decoded(self) -> list[int]:
        """Indices of the parts decoded so far."""
        return list(self._parts)

    def channel(self, index: int, name: str) -> NDArray[Any]:
        arrays = self.part(index)
        if name not in arrays:  # released: decode the part again
            with self._lock:
                self._parts.pop(index, None)
            arrays = self.part(index)
        return arrays[name]

    def release(self, index: int, name: str) -> None:
        with self._lock:
            arrays = self._parts.get(index)
            if arrays is not None:
                arrays.pop(name, None)

    def part(self, index: int) -> dict[str, NDArray[Any]]:
        """Channel name -> array as decoded, of part ``index``."""
        with self._lock:
            if index not in self._parts:
                with openexr_guard(self.path, "OpenEXR file"):
                    got = self._one(index) if self.layout is not None else None
                    if got is None:
                        self._parts.update(self._whole())
                    else:
                        self._parts[index] = got
                self._check_shapes()
            return self._parts[index]

    def _check_shapes(self) -> None:
        """Each decoded array has its header's data-window size (the file was not replaced
        between the header read and the decode)."""
        for k, arrays in self._parts.items():
            x0, y0, x1, y1 = _window(self.headers[k], "dataWindow", self.path)
            for name, arr in arrays.items():
                if arr.shape != (y1 - y0 + 1, x1 - x0 + 1):
                    raise CanvasError(
                        f"channel {name!r} decoded as {arr.shape[1]}x{arr.shape[0]} pixels, not the "
                        f"{x1 - x0 + 1}x{y1 - y0 + 1} its header declares (was the file replaced while it was read?)",
                        self.path,
                    )

    def _one(self, index: int) -> dict[str, NDArray[Any]] | None:
        import OpenEXR

        assert self.layout is not None
        with exr_parts.scratch_path() as dest:
            try:
                exr_parts.extract(self.layout, self.layout.parts[index], dest)
            except (OSError, ValueError, exr_parts.LayoutError):
                return None  # the file changed or is odd after all: read it whole
            parts = _decode(OpenEXR, dest, self.path)
        _check_decoded([self.headers[index]], parts, self.path, first=index)
        return {name: np.asarray(ch.pixels) for name, ch in parts[0].channels.items()}

    def _whole(self) -> dict[int, dict[str, NDArray[Any]]]:
        import OpenEXR

        parts = _decode(OpenEXR, self.path, self.path)
        _check_decoded(self.headers, parts, self.path)
        return {k: {n: np.asarray(c.pixels) for n, c in p.channels.items()} for k, p in enumerate(parts)}


def _decode(openexr: Any, source: str, path: str) -> list[Any]:
    try:
        return list(openexr.File(source, separate_channels=True).parts)
    except Exception as exc:
        raise CanvasError(f"unreadable OpenEXR pixel data ({exc})", path) from exc


def _check_decoded(headers: list[Header], parts: list[Any], path: str, first: int = 0) -> None:
    """OpenEXR drops a part whose pixels it cannot decode (printing only a warning): compare with
    what the headers declare so a truncated or corrupt file is refused instead of half-read."""
    decoded = {str(dict(p.header).get("name", "") or ""): set(p.channels) for p in parts}
    for k, hdr in enumerate(headers, first):
        pname = str(hdr.get("name", "") or "")
        declared = {getattr(c, "name", str(c)) for c in hdr.get("channels", [])}
        if pname not in decoded or not declared <= decoded[pname]:
            label = f"part {k} ({pname!r})" if pname else f"part {k}"
            raise CanvasError(f"unreadable OpenEXR pixel data: {label} is truncated or corrupt", path)


def _place(data: NDArray[np.float32], dw: Window, disp: Window) -> NDArray[np.float32]:
    """Put a data-window array onto the display window; NaN outside the data window."""
    x0, y0, x1, y1 = dw
    dx0, dy0, dx1, dy1 = disp
    out = np.full((dy1 - dy0 + 1, dx1 - dx0 + 1), np.nan, dtype=np.float32)
    # intersection of both windows, in display coordinates
    ix0, iy0, ix1, iy1 = max(x0, dx0), max(y0, dy0), min(x1, dx1), min(y1, dy1)
    if ix0 <= ix1 and iy0 <= iy1:
        out[iy0 - dy0 : iy1 - dy0 + 1, ix0 - dx0 : ix1 - dx0 + 1] = data[
            iy0 - y0 : iy1 - y0 + 1, ix0 - x0 : ix1 - x0 + 1
        ]
    return out


def write_exr(
    path: str | os.PathLike[str],
    parts: dict[str, dict[str, NDArray[Any]]] | dict[str, NDArray[Any]],
    compression: str = "ZIP",
    header: Header | None = None,
) -> None:
    """Write an EXR: ``{channel: array}`` (single part) or ``{part_name: {channel: array}}``.

    Used by the tools and the tests to make real files. float16 arrays are stored as half.
    """
    import OpenEXR

    comp = getattr(OpenEXR, f"{compression.upper()}_COMPRESSION")
    base = {"compression": comp, "type": OpenEXR.scanlineimage}
    if header:
        base.update(header)
    single = {k: np.ascontiguousarray(v) for k, v in parts.items() if isinstance(v, np.ndarray)}
    multi = {k: v for k, v in parts.items() if isinstance(v, dict)}
    if single:
        f = OpenEXR.File(dict(base), single)
    else:
        f = OpenEXR.File(
            [
                OpenEXR.Part(dict(base), {k: np.ascontiguousarray(v) for k, v in chans.items()}, name)
                for name, chans in multi.items()
            ]
        )
    f.write(os.fspath(path))
