"""Index passes -> Regional Prompter masks, region tables and nearest-first prompts.

Pipeline for one camera (everything vectorised over the canvas):

1. **Labels** from an index source: the object index pass (``IndexOB`` / ``Object Index``), the
   material index pass, a Value AOV holding the pass index (``aov:NAME``; EEVEE's workaround,
   cleaned: only values within 0.01 of an integer are trusted, the antialiased rest takes the
   value of the nearest trusted pixel), or the ``region`` flags of a depth split plan. Index 0 (and
   anything negative, non-finite or not an integer) is unassigned; for splits, -1 is unassigned
   and every region flag, 0 included, is a label.
2. **Visibility**: coverage = an index's pixels / all pixels; visible when coverage > threshold.
   Invisible indices are unassigned and absent from the prompt.
3. **Regions**: visible indices with the same description form one region (several objects that
   share a pass index are one index already).
4. **Order**: nearest first by the median depth of the region's hit pixels ("depth", occlusion
   aware), or by the distance object origin -> camera ("distance": ``distance`` from the
   descriptions, else computed from the sidecar's ``location`` and the translation column of
   ``matrix_world``). Ties go to the smaller pass index.
5. **Mask**: the k-th region in order is painted in Regional Prompter colour k (exact palette,
   :mod:`lib_scene.palette`); unassigned pixels are black. Seams: ``grow`` passes of a 3x3
   (8-neighbour) dilation into *unassigned pixels only*; a pixel reached by several regions in the
   same pass takes the lowest region number (the nearest region wins, as the nearest layer is on
   top in a hand-painted stack). Growth never paints over a region.
6. **Prompt**: ``base BREAK d0 BREAK d1 ...`` (Regional Prompter with "use base" on), or the flat
   form ``base, d0, d1, ...``. Descriptions are sanitised (:func:`sanitize_description`).

The regional prompt always has exactly ``len(regions) + 1`` BREAK sections: the base section is
emitted even when the base text is empty (the prompt then starts with ``BREAK``), so with
"use base" on the first section is always the base and region k always binds to colour k.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from .errors import PresetError, SceneImportError
from .palette import MAX_REGIONS, region_palette

#: Default visibility threshold: an index must cover more than this share of the frame.
DEFAULT_THRESHOLD = 0.005
#: An AOV value is trusted when it lies this close to an integer.
AOV_TOLERANCE = 0.01
#: Larger index values are treated as garbage (Blender's pass index is a 16-bit short).
_MAX_ID = float(1 << 30)
#: Keywords Regional Prompter matches as case-sensitive *substrings* (``str.count`` /
#: ``str.replace`` in scripts/rp.py and scripts/regions.py @ be62345). A1111 itself treats the
#: whole words BREAK (chunk break) and AND (composable diffusion) specially as well.
RP_KEYWORDS = ("ADDBASE", "ADDCOMM", "ADDCOL", "ADDROW", "BREAK", "AND")
#: RP switches to Prompt mode when ``"ADDP" in prompt.upper()``: matched case-insensitively.
RP_KEYWORD_NOCASE = "ADDP"

SOURCES = ("auto", "index", "material", "splits")  # plus "aov:NAME"
ORDERS = ("depth", "distance")
FORMS = ("regional", "flat")

_KEYWORD_WORD = re.compile(r"\w*(?:" + "|".join(RP_KEYWORDS) + r")\w*")
_ADDP = re.compile(r"(?i)(add)(p)")
_SPACES = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class RegionError(SceneImportError):
    """Regions cannot be built from what the camera holds (no such source, bad options)."""


# --------------------------------------------------------------------------- descriptions


@dataclass(frozen=True)
class Descriptions:
    """What the artist wrote about the objects, by pass index.

    ``text``: index -> description; ``names``: index -> object names; ``distances``: index ->
    distance object origin -> camera (scene units); ``by_name``: object name -> description for
    entries keyed by name (resolved against a sidecar's ``objects`` map when regions are built).
    Mappings are not to be mutated.
    """

    text: Mapping[int, str] = field(default_factory=dict)
    names: Mapping[int, tuple[str, ...]] = field(default_factory=dict)
    distances: Mapping[int, float] = field(default_factory=dict)
    by_name: Mapping[str, str] = field(default_factory=dict)
    source: str | None = None
    warnings: tuple[str, ...] = ()
    camera: str | None = None  # the camera the distances were measured from, when the file says
    borrowed: frozenset[int] = frozenset()  # indices whose text came from the sidecar (fill_from)

    def __bool__(self) -> bool:
        return bool(self.text or self.names or self.by_name)

    def description(self, index: int) -> str | None:
        return self.text.get(index)

    def indices(self) -> list[int]:
        """Every index named anywhere (text, names or distances)."""
        return sorted(set(self.text) | set(self.names) | set(self.distances))

    def resolve_names(self, sidecar: Mapping | None) -> Descriptions:
        """Bind ``by_name`` entries to pass indices through a sidecar's ``objects`` map."""
        if not self.by_name:
            return self
        objects = _sidecar_objects(sidecar)
        text = dict(self.text)
        names = {k: tuple(v) for k, v in self.names.items()}
        warnings = list(self.warnings)
        for name, desc in self.by_name.items():
            idx = objects.get(name, {}).get("pass_index")
            if idx is None:
                warnings.append(
                    f"descriptions name object {name!r}, which the camera sidecar does not list with a "
                    "pass index; ignored"
                )
                continue
            text.setdefault(idx, desc)
            if name not in names.get(idx, ()):
                names[idx] = (*names.get(idx, ()), name)
        return replace(self, text=text, names=names, by_name={}, warnings=tuple(warnings))

    def fill_from(self, other: Descriptions | None) -> Descriptions:
        """These descriptions, with texts, names and distances missing here taken from ``other``
        (the camera's sidecar); the indices whose text came from ``other`` are in ``borrowed``."""
        if other is None:
            return self
        text = {**other.text, **self.text}
        names = {**{k: tuple(v) for k, v in other.names.items()}, **self.names}
        distances = {**other.distances, **self.distances}
        borrowed = frozenset(set(other.text) - set(self.text))
        return replace(self, text=text, names=names, distances=distances, borrowed=borrowed)

    def for_camera(self, camera: str) -> tuple[Descriptions, str | None]:
        """Drop distances measured from another camera (the file's ``camera``); returns a warning."""
        if self.camera is None or self.camera == camera or not self.distances:
            return self, None
        return replace(self, distances={}), (
            f"the distances in {os.path.basename(self.source or 'the descriptions')} were measured from camera "
            f"{self.camera!r}; camera {camera!r} uses distances from its own sidecar"
        )

    def to_dict(self) -> dict:
        return {
            "source": self.source,
            "objects": [
                {
                    "index": i,
                    "description": self.text.get(i),
                    "names": list(self.names.get(i, ())),
                    "distance": self.distances.get(i),
                }
                for i in self.indices()
            ],
        }


def with_edits(
    descriptions: Descriptions | None, edits: Mapping | None, source: str = "edits"
) -> Descriptions | None:
    """``descriptions`` with the texts in ``edits`` (pass index -> text) taking precedence: the
    descriptions an artist edited in the tab or sent as ``region_descriptions``."""
    if not edits:
        return descriptions
    edited = Descriptions(text={int(k): str(v) for k, v in edits.items()}, source=source)
    return edited.fill_from(descriptions) if descriptions is not None else edited


def _as_index(value: object, what: str, path: str | None) -> int:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise PresetError(f"{what} must be a whole number, got {value!r}", path) from exc
    if not math.isfinite(f) or not f.is_integer():
        raise PresetError(f"{what} must be a whole number, got {value!r}", path)
    return int(f)


def _as_float(value: object, what: str, path: str | None) -> float:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise PresetError(f"{what} must be a number, got {value!r}", path) from exc
    if not math.isfinite(f):
        raise PresetError(f"{what} must be finite, got {value!r}", path)
    return f


def camera_position(sidecar: Mapping | None) -> np.ndarray | None:
    """The camera's world position: the translation column of the sidecar's ``matrix_world``."""
    if not sidecar:
        return None
    m = sidecar.get("matrix_world")
    try:
        arr = np.asarray(m, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.shape not in ((4, 4), (3, 4)) or not np.isfinite(arr[:3, 3]).all():
        return None
    return arr[:3, 3].copy()


def _sidecar_objects(sidecar: Mapping | None, key: str = "objects") -> dict[str, dict]:
    """name -> {"pass_index": int|None, "description": str|None, "location": array|None, "distance"}."""
    out: dict[str, dict] = {}
    objects = (sidecar or {}).get(key)
    if not isinstance(objects, Mapping):
        return out
    for name, obj in objects.items():
        if not isinstance(obj, Mapping):
            continue
        idx = obj.get("pass_index", obj.get("index"))
        try:
            idx = int(idx) if idx is not None and float(idx).is_integer() else None
        except (TypeError, ValueError):
            idx = None
        desc = obj.get("Description", obj.get("description"))
        loc = obj.get("location")
        try:
            loc = np.asarray(loc, dtype=np.float64) if loc is not None else None
            if loc is not None and (loc.shape != (3,) or not np.isfinite(loc).all()):
                loc = None
        except (TypeError, ValueError):
            loc = None
        dist = obj.get("distance")
        try:
            dist = float(dist) if dist is not None and math.isfinite(float(dist)) else None
        except (TypeError, ValueError):
            dist = None
        out[str(name)] = {
            "pass_index": idx,
            "description": None if desc is None else str(desc),
            "location": loc,
            "distance": dist,
        }
    return out


def descriptions_from_sidecar(
    sidecar: Mapping, source: str | None = None, key: str = "objects"
) -> Descriptions:
    """Descriptions from a camera's JSON sidecar ``objects`` map (``{name: {pass_index, Description,
    location}}``). Objects sharing a pass index are one entry: their names are all kept; differing
    descriptions are joined with ", " (and reported). Distances come from ``distance`` or, when the
    sidecar has ``matrix_world``, from ``location`` (the nearest object of an index counts)."""
    if not isinstance(sidecar, Mapping):
        raise PresetError("a sidecar must be a JSON object", source)
    objects = _sidecar_objects(sidecar, key)
    cam = camera_position(sidecar)
    text: dict[int, str] = {}
    names: dict[int, tuple[str, ...]] = {}
    distances: dict[int, float] = {}
    warnings: list[str] = []
    for name, obj in objects.items():
        idx = obj["pass_index"]
        if idx is None:
            if obj["description"]:
                warnings.append(f"object {name!r} has a description but no pass index; ignored")
            continue
        if idx <= 0:
            if obj["description"]:
                warnings.append(
                    f"object {name!r} has a description but pass index {idx} (background); it gets no region"
                )
            continue
        names[idx] = (*names.get(idx, ()), name)
        desc = (obj["description"] or "").strip()
        if desc:
            if idx in text and text[idx] != desc:
                warnings.append(
                    f"objects {', '.join(names[idx])} share pass index {idx} but not their description; "
                    "the descriptions are joined"
                )
                text[idx] = f"{text[idx]}, {desc}"
            else:
                text[idx] = desc
        dist = obj["distance"]
        if dist is None and cam is not None and obj["location"] is not None:
            dist = float(np.linalg.norm(obj["location"] - cam))
        if dist is not None:
            distances[idx] = min(dist, distances.get(idx, math.inf))
    camera = sidecar.get("camera")
    return Descriptions(
        text, names, distances, {}, source, tuple(warnings), None if camera is None else str(camera)
    )


_PROPS_KEY = re.compile(r"^objects\.([^.]+)\.([A-Za-z_]+)$")


def _unescape_properties(s: str) -> str:
    out = []
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s):
            n = s[i + 1]
            if n == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", s[i + 2 : i + 6] or ""):
                out.append(chr(int(s[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append({"t": "\t", "n": "\n", "r": "\r", "f": "\f"}.get(n, n))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _properties_lines(text: str) -> list[tuple[int, str, str]]:
    """Java .properties: comments (#, !), ``key = value`` / ``key: value`` / ``key value``,
    backslash line continuations and escapes. Returns (line number, key, value)."""
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        start = i
        line = lines[i].lstrip()
        i += 1
        if not line or line[0] in "#!":
            continue
        # continuation: an odd number of trailing backslashes
        while (len(line) - len(line.rstrip("\\"))) % 2 == 1 and i < len(lines):
            line = line[:-1] + lines[i].lstrip()
            i += 1
        m = re.match(r"((?:\\.|[^\s=:\\])*)\s*[=:]?\s*(.*)$", line)
        key, value = (m.group(1), m.group(2)) if m else (line, "")
        out.append((start + 1, _unescape_properties(key), _unescape_properties(value)))
    return out


def parse_properties(text: str, source: str | None = None) -> Descriptions:
    """The seed workflow's ``.properties``: ``objects.N.index``, ``.description``, ``.name`` (several
    names comma-separated), ``.distance`` (N is an entry number; ``index`` defaults to N), and
    ``camera`` (the camera the distances are measured from). Other keys are ignored."""
    entries: dict[str, dict[str, tuple[int, str]]] = {}
    camera = None
    for lineno, key, value in _properties_lines(text):
        if key.strip() == "camera" and value.strip():
            camera = value.strip()
        m = _PROPS_KEY.match(key.strip())
        if not m:
            continue
        entries.setdefault(m.group(1), {})[m.group(2).lower()] = (lineno, value.strip())
    text_: dict[int, str] = {}
    names: dict[int, tuple[str, ...]] = {}
    distances: dict[int, float] = {}
    warnings: list[str] = []
    for n, fields in entries.items():
        where = f"objects.{n}"
        if "index" in fields or "pass_index" in fields:
            lineno, raw = fields.get("index") or fields["pass_index"]
            idx = _as_index(raw, f"line {lineno}: {where}.index", source)
        else:
            idx = _as_index(n, f"{where} has no index and its entry number", source)
        name = fields.get("name", (0, ""))[1]
        desc = fields.get("description", (0, ""))[1]
        if idx <= 0:
            if desc:
                warnings.append(f"{where} ({name or 'unnamed'}) has pass index {idx} (background); ignored")
            continue
        for nm in (n.strip() for n in name.split(",")):
            if nm and nm not in names.get(idx, ()):
                names[idx] = (*names.get(idx, ()), nm)
        if desc:
            if idx in text_ and text_[idx] != desc:
                warnings.append(
                    f"{where}: pass index {idx} already has another description; the descriptions are joined"
                )
                text_[idx] = f"{text_[idx]}, {desc}"
            else:
                text_[idx] = desc
        if "distance" in fields and fields["distance"][1]:
            lineno, raw = fields["distance"]
            d = _as_float(raw, f"line {lineno}: {where}.distance", source)
            distances[idx] = min(d, distances.get(idx, math.inf))
    return Descriptions(text_, names, distances, {}, source, tuple(warnings), camera)


def parse_index_text(text: str, source: str | None = None) -> Descriptions:
    """``index = description`` lines (``#`` comments, blank lines). A key that is not a number is
    an object name, bound to its pass index through the camera's sidecar."""
    text_: dict[int, str] = {}
    by_name: dict[str, str] = {}
    warnings: list[str] = []
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            raise PresetError(f"line {lineno}: expected 'index = description', got {line[:60]!r}", source)
        key, desc = (s.strip() for s in line.split("=", 1))
        if not key:
            raise PresetError(f"line {lineno}: missing index before '='", source)
        try:
            f = float(key)
        except ValueError:
            f = None
        if f is None:
            by_name[key] = desc
            continue
        idx = _as_index(key, f"line {lineno}: index", source)
        if idx <= 0:
            warnings.append(f"line {lineno}: pass index {idx} is background; ignored")
            continue
        if idx in text_:
            warnings.append(f"line {lineno}: pass index {idx} described twice; the descriptions are joined")
            text_[idx] = f"{text_[idx]}, {desc}"
        else:
            text_[idx] = desc
    return Descriptions(text_, {}, {}, by_name, source, tuple(warnings))


def load_descriptions(path: str | os.PathLike) -> Descriptions:
    """Read descriptions from a ``.json`` sidecar (``objects`` map, or a plain ``{"3": "text"}``
    map), a ``.properties`` file (``objects.N.*``), or ``index = description`` text. The format is
    chosen by extension, then by content."""
    path = os.fspath(path)
    try:
        with open(path, encoding="utf-8-sig") as fh:
            text = fh.read()
    except FileNotFoundError as exc:
        raise PresetError("no such descriptions file", path) from exc
    except UnicodeDecodeError as exc:
        raise PresetError("descriptions file is not UTF-8 text", path) from exc
    except OSError as exc:
        raise PresetError(f"cannot read descriptions ({exc.strerror})", path) from exc
    ext = os.path.splitext(path)[1].lower()
    if ext == ".json" or (ext not in (".properties", ".txt") and text.lstrip().startswith("{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PresetError(f"not valid JSON (line {exc.lineno}: {exc.msg})", path) from exc
        if not isinstance(data, dict):
            raise PresetError("a descriptions JSON file must hold an object", path)
        if "objects" in data:
            if not isinstance(data["objects"], dict):
                raise PresetError("'objects' must map object names to {pass_index, Description}", path)
            return descriptions_from_sidecar(data, source=path)
        lines = "\n".join(f"{k} = {_single_line(v)}" for k, v in data.items())
        return parse_index_text(lines, source=path)
    is_props = ext == ".properties" or any(
        _PROPS_KEY.match(k.strip()) for _, k, _ in _properties_lines(text) if k.startswith("objects.")
    )
    if is_props:
        return parse_properties(text, source=path)
    return parse_index_text(text, source=path)


def _single_line(v: object) -> str:
    return _SPACES.sub(" ", str(v)).strip()


# --------------------------------------------------------------------------- sanitising


def _escape_unbalanced(text: str) -> tuple[str, bool]:
    """Backslash-escape ( ) [ ] that have no partner, so A1111's attention syntax cannot leak
    emphasis from one description into the sections after it."""
    pairs = {")": "(", "]": "["}
    stack: list[tuple[str, int]] = []
    bad: set[int] = set()
    i = 0
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c in "([":
            stack.append((c, i))
        elif c in ")]":
            if stack and stack[-1][0] == pairs[c]:
                stack.pop()
            else:
                bad.add(i)
        i += 1
    bad.update(i for _, i in stack)
    if not bad:
        return text, False
    return "".join("\\" + c if i in bad else c for i, c in enumerate(text)), True


def sanitize_description(text: object, warnings: list[str] | None = None, what: str = "description") -> str:
    """Make untrusted text safe inside one Regional Prompter section.

    * newlines, tabs and control characters become spaces; runs of spaces collapse; ends stripped;
    * every word containing an RP keyword (``BREAK``, ``AND``, ``ADDBASE``, ``ADDCOMM``,
      ``ADDCOL``, ``ADDROW``, matched case-sensitively *as substrings*, as RP does) is lower-cased;
      ``ADDP`` (which RP matches in any case) gets a hyphen: ``add-p``;
    * unbalanced ``( ) [ ]`` are backslash-escaped.

    Each change appends a warning to ``warnings`` when given.
    """
    s = "" if text is None else str(text)
    s = _CONTROL.sub(" ", s)
    s = _SPACES.sub(" ", s).strip()
    found: list[str] = []

    def lower(m: re.Match) -> str:
        found.append(m.group(0))
        return m.group(0).lower()

    while True:  # lower-casing cannot create an upper-case keyword; loop only for safety
        s2 = _KEYWORD_WORD.sub(lower, s)
        if s2 == s:
            break
        s = s2
    if _ADDP.search(s):
        found.extend(m.group(0) for m in re.finditer(r"(?i)\w*addp\w*", s))
        s = _ADDP.sub(r"\1-\2", s)
    s, escaped = _escape_unbalanced(s)
    if warnings is not None:
        if found:
            warnings.append(
                f"{what} {s[:60]!r}: Regional Prompter keyword(s) in {', '.join(dict.fromkeys(found))} "
                "neutralised (they would shift every region after it)"
            )
        if escaped:
            warnings.append(f"{what} {s[:60]!r}: unbalanced brackets escaped")
    assert not _has_keyword(s), s
    return s


def _has_keyword(s: str) -> bool:
    return any(k in s for k in RP_KEYWORDS) or RP_KEYWORD_NOCASE in s.upper()


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Region:
    """One Regional Prompter region: number k (0-based, nearest first) painted in colour k."""

    number: int
    color: tuple[int, int, int]
    indices: tuple[int, ...]
    objects: tuple[str, ...]
    description: str
    coverage: float
    median_depth: float | None
    distance: float | None = None
    pixels: int = 0

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "color": list(self.color),
            "color_hex": "#{:02x}{:02x}{:02x}".format(*self.color),
            "indices": list(self.indices),
            "objects": list(self.objects),
            "description": self.description,
            "coverage": round(self.coverage, 6),
            "pixels": self.pixels,
            "median_depth": None if self.median_depth is None else round(self.median_depth, 6),
            "distance": None if self.distance is None else round(self.distance, 6),
        }


@dataclass(frozen=True)
class Hidden:
    """An index that is present in the descriptions or the pass but gets no region."""

    index: int
    coverage: float
    objects: tuple[str, ...]
    reason: str  # "below threshold" | "not in frame"

    def to_dict(self) -> dict:
        return {
            "index": self.index,
            "coverage": round(self.coverage, 6),
            "objects": list(self.objects),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class RegionResult:
    camera: str
    mask: np.ndarray  # (H, W, 3) uint8: region k in palette colour k, black unassigned
    labels: np.ndarray  # (H, W) int16: region number, -1 unassigned (after seam growth)
    regions: tuple[Region, ...]
    hidden: tuple[Hidden, ...]
    warnings: tuple[str, ...]
    source: str  # "index" | "material" | "aov:NAME" | "splits"
    order: str
    threshold: float
    grow: int
    depth_unit: str = "scene"

    def table(self) -> list[dict]:
        """The region table: number, colour, pass indices, object names, description, coverage,
        median depth (JSON-able)."""
        return [r.to_dict() for r in self.regions]

    @property
    def descriptions(self) -> list[str]:
        return [r.description for r in self.regions]

    def to_dict(self) -> dict:
        return {
            "camera": self.camera,
            "width": int(self.mask.shape[1]),
            "height": int(self.mask.shape[0]),
            "source": self.source,
            "order": self.order,
            "threshold": self.threshold,
            "grow": self.grow,
            "depth_unit": self.depth_unit,
            "regions": self.table(),
            "hidden": [h.to_dict() for h in self.hidden],
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class PromptResult:
    text: str
    sections: tuple[str, ...]  # the BREAK-separated sections (base first); one for the flat form
    warnings: tuple[str, ...] = ()
    form: str = "regional"


# --------------------------------------------------------------------------- index sources


def _cv2():
    """opencv when importable (it speeds up nearest fills and dilation), else None."""
    try:
        import cv2
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return cv2


def _fill_nearest_numpy(ids: np.ndarray, valid: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Frontier passes: each pass, every unfilled pixel with a filled 8-neighbour (filled before
    the pass) takes that neighbour's id; among several, the id closest to the pixel's own value
    (the majority of a two-object blend), then the first in a fixed neighbour order. Work per
    pass is proportional to the unfilled pixels."""
    h, w = ids.shape
    flat = ids.ravel().copy()
    filled = valid.ravel().copy()
    vals = values.ravel()
    todo = np.flatnonzero(~filled)
    offsets = ((-1, 0), (1, 0), (0, -1), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))
    while todo.size:
        y, x = np.divmod(todo, w)
        cand = np.empty((len(offsets), todo.size), dtype=flat.dtype)
        diff = np.full((len(offsets), todo.size), np.inf)
        for k, (dy, dx) in enumerate(offsets):
            ny, nx = y + dy, x + dx
            inb = (ny >= 0) & (ny < h) & (nx >= 0) & (nx < w)
            nidx = np.where(inb, ny * w + nx, 0)
            ok = inb & filled[nidx]
            cand[k] = flat[nidx]
            with np.errstate(invalid="ignore"):
                d = np.abs(cand[k] - vals[todo])
            diff[k] = np.where(ok, np.nan_to_num(d, nan=1e30, posinf=1e30), np.inf)
        best = np.argmin(diff, axis=0)
        got = np.isfinite(diff[best, np.arange(todo.size)])
        if not got.any():
            break
        flat[todo[got]] = cand[best[got], np.flatnonzero(got)]
        filled[todo[got]] = True
        todo = todo[~got]
    out = flat.reshape(h, w)
    if todo.size:
        out.ravel()[todo] = -1
    return out


def _between_neighbours(v: np.ndarray, tolerance: float) -> np.ndarray:
    """True where a pixel's value lies strictly between its two opposite neighbours along some
    axis (horizontal, vertical, either diagonal): the signature of an antialiased blend, e.g. 2.0
    on a one-pixel edge between objects 1 and 3, which is a whole number yet no object's id."""
    h, w = v.shape
    p = np.full((h + 2, w + 2), np.nan, dtype=np.float32)
    p[1:-1, 1:-1] = v
    out = np.zeros(v.shape, dtype=bool)
    with np.errstate(invalid="ignore"):
        for (ay, ax), (by, bx) in (((1, 0), (1, 2)), ((0, 1), (2, 1)), ((0, 0), (2, 2)), ((0, 2), (2, 0))):
            a = p[ay : ay + h, ax : ax + w]
            b = p[by : by + h, bx : bx + w]
            lo, hi = np.fmin(a, b), np.fmax(a, b)
            out |= (lo < v - tolerance) & (v + tolerance < hi)
    return out


def clean_index_aov(values: np.ndarray, tolerance: float = AOV_TOLERANCE) -> tuple[np.ndarray, int]:
    """Integer ids from a pixel-filtered Value AOV.

    A pixel is trusted when its value is within ``tolerance`` of a whole number and does not lie
    strictly between its opposite neighbours along any axis (an antialiased edge between objects
    1 and 3 can read exactly 2.0). Every other pixel takes the id of its nearest trusted pixel
    (opencv's labelled distance transform when available, else :func:`_fill_nearest_numpy`).
    Returns (ids int32, number of pixels filled). With no trusted pixel at all every id is -1.
    """
    v = np.asarray(values, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        r = np.rint(v)
        valid = np.isfinite(v) & (np.abs(v - r) <= tolerance) & (np.abs(r) < _MAX_ID)
    valid &= ~_between_neighbours(v, tolerance)
    ids = np.where(valid, r, 0).astype(np.int32)
    n_bad = int(valid.size - np.count_nonzero(valid))
    if n_bad == 0:
        return ids, 0
    if not valid.any():
        return np.full(v.shape, -1, dtype=np.int32), 0
    cv2 = _cv2()
    if cv2 is not None:
        src = (~valid).astype(np.uint8)  # zero pixels are the trusted ones
        _, lab = cv2.distanceTransformWithLabels(src, cv2.DIST_L2, 5, labelType=cv2.DIST_LABEL_PIXEL)
        # DIST_LABEL_PIXEL numbers the zero pixels 1.. in raster order
        trusted = ids[valid]
        return trusted[lab - 1], n_bad
    return _fill_nearest_numpy(ids, valid, v), n_bad


def _find_aov(cs, name: str) -> tuple[str, np.ndarray]:
    if name in cs.aovs:
        return name, cs.aovs[name]

    def norm(s: str) -> str:
        return re.sub(r"[\s_\-.]", "", s).lower()

    for k, v in cs.aovs.items():
        if norm(k) == norm(name):
            return k, v
    have = ", ".join(sorted(cs.aovs)) or "none"
    raise RegionError(f"camera {cs.camera!r} has no AOV {name!r} (AOVs in the file: {have})", cs.primary_path)


_INDEX_AOV = re.compile(r"(?i)index")


def pick_source(cs, source: str = "auto", splits=None) -> str:
    """Resolve ``auto``: a split plan whose splits carry region flags (the artist asked for
    regions from depth), else object index, else material index, else an AOV named like
    ``*index*``. Raises :class:`RegionError` when nothing fits."""
    src = (source or "auto").strip()
    if src.lower() in ("object", "objectindex", "indexob"):
        src = "index"
    if src != "auto":
        if src not in SOURCES and not src.startswith("aov:"):
            raise RegionError(f"unknown index source {source!r}; use index, material, aov:NAME or splits")
        return src
    if splits is not None and any(s.region is not None for s in splits.splits):
        return "splits"
    if cs.object_index is not None:
        return "index"
    if cs.material_index is not None:
        return "material"
    scalar = [k for k, v in cs.aovs.items() if _INDEX_AOV.search(k) and np.ndim(v) == 2]
    if scalar:
        return f"aov:{sorted(scalar)[0]}"
    raise RegionError(
        f"camera {cs.camera!r} has no object or material index pass, no index AOV"
        + (
            " and the split plan has no region flags"
            if splits is not None
            else " and no split plan was given"
        )
        + "; render an Object Index pass or flag depth splits as regions",
        cs.primary_path,
    )


def _index_labels(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Exact index pass -> codes (int32, 0 unassigned) and the count of non-integer pixels."""
    v = np.asarray(values, dtype=np.float32)
    with np.errstate(invalid="ignore"):
        r = np.rint(v)
        ok = np.isfinite(v) & (np.abs(v - r) <= AOV_TOLERANCE) & (np.abs(r) < _MAX_ID)
    bad = int(v.size - np.count_nonzero(ok))
    lab = np.where(ok & (r > 0), r, 0).astype(np.int32)
    return lab, bad


def source_labels(cs, source: str, splits=None) -> tuple[np.ndarray, int, list[str]]:
    """Per-pixel codes for a resolved source: (codes int32 >= 0 with 0 = unassigned, offset,
    warnings); the label of code c > 0 is ``c - offset`` (offset 1 for split region flags, which
    may be 0; 0 for pass indices, where 0 is the background)."""
    warnings: list[str] = []
    if source in ("index", "material"):
        arr = cs.object_index if source == "index" else cs.material_index
        if arr is None:
            kind = "Object Index (IndexOB)" if source == "index" else "Material Index (IndexMA)"
            raise RegionError(f"camera {cs.camera!r} has no {kind} pass", cs.primary_path)
        lab, bad = _index_labels(arr)
        if bad:
            warnings.append(
                f"{bad} pixels of the {source} pass are not whole numbers and count as unassigned "
                "(an antialiased pass? use aov:NAME for pixel-filtered index AOVs)"
            )
        return lab, 0, warnings
    if source.startswith("aov:"):
        name, arr = _find_aov(cs, source[4:])
        if np.ndim(arr) == 3:
            warnings.append(f"AOV {name!r} is a colour AOV; its first channel is read as the index")
            arr = arr[..., 0]
        ids, filled = clean_index_aov(arr)
        if filled:
            warnings.append(
                f"AOV {name!r}: {filled} antialiased pixels (not within {AOV_TOLERANCE} of a whole number, "
                "or between their neighbours' values) took the index of their nearest clean neighbour"
            )
        np.maximum(ids, 0, out=ids)
        return ids, 0, warnings
    if source == "splits":
        if splits is None:
            raise RegionError("source 'splits' needs a split plan with region flags (--splits PRESET)")
        if not any(s.region is not None for s in splits.splits):
            raise RegionError("the split plan has no region flags; flag splits with region=N first")
        from .depth import split_region_labels

        depth = cs.require_depth()
        return split_region_labels(depth, cs.hit, splits).astype(np.int32) + 1, 1, warnings
    raise RegionError(f"unknown index source {source!r}")


def _count_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(keys, values, counts, codes) of the codes > 0 present: ``keys`` are their values in the
    returned ``codes`` array, ``values`` the original codes. Codes too large for a bincount are
    compacted to 1..K with np.unique (then keys != values)."""
    top = int(codes.max()) if codes.size else 0
    if top < (1 << 22):
        counts = np.bincount(codes.ravel(), minlength=top + 1)
        present = np.flatnonzero(counts[1:]) + 1
        return present, present, counts[present], codes
    uniq, inv, counts = np.unique(codes.ravel(), return_inverse=True, return_counts=True)
    compact = inv.reshape(codes.shape).astype(np.int32)
    if uniq[0] != 0:  # no unassigned pixel: shift so that code 0 stays "unassigned"
        compact += 1
        uniq = np.concatenate(([0], uniq))
        counts = np.concatenate(([0], counts))
    keys = np.arange(1, uniq.size)
    return keys, uniq[keys], counts[keys], compact


def _group_medians(
    groups: np.ndarray, depth: np.ndarray | None, hit: np.ndarray | None, n: int, bins: int = 1024
) -> list:
    """Exact median depth of each group's hit pixels (``groups`` == n: no group); None where a
    group has no hit pixel. No sort of the canvas: one histogram of (group, depth bin), then only
    the pixels in each group's median bin(s) are gathered and partitioned. The bin mapping is
    monotonic, so the ranks found in the histogram are exact."""
    if depth is None or n == 0:
        return [None] * n
    sel = groups < n
    if hit is not None:
        sel &= hit
    else:
        with np.errstate(invalid="ignore"):
            sel &= np.isfinite(depth) & (depth < 1e9)
    if not sel.any():
        return [None] * n
    lo = float(np.min(depth, where=sel, initial=np.inf))
    hi = float(np.max(depth, where=sel, initial=-np.inf))
    scale = np.float32((bins - 1) / (hi - lo)) if hi > lo else np.float32(0.0)
    x = np.zeros(depth.shape, dtype=np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        np.subtract(depth, np.float32(lo), out=x, where=sel)
        np.multiply(x, scale, out=x)
    b = x.astype(np.int32)
    np.clip(b, 0, bins - 1, out=b)
    g = np.where(sel, groups, n).astype(np.int32)
    key = g * bins
    key += b
    hist = np.bincount(key.ravel(), minlength=(n + 1) * bins).reshape(n + 1, bins)[:n]
    cnt = hist.sum(axis=1)
    cum = np.cumsum(hist, axis=1)
    k1 = (cnt - 1) // 2
    k2 = cnt // 2
    before = np.zeros(n, dtype=np.int64)
    wanted = np.zeros((n + 1) * bins, dtype=bool)  # (group, bin) pairs holding a median rank
    for k in np.flatnonzero(cnt):
        b1 = int(np.searchsorted(cum[k], k1[k], side="right"))
        b2 = int(np.searchsorted(cum[k], k2[k], side="right"))
        before[k] = cum[k][b1] - hist[k][b1]
        wanted[k * bins + b1] = wanted[k * bins + b2] = True
    pick = np.take(wanted, key)
    dv = depth[pick]
    gv = g[pick].astype(np.uint16)  # 16-bit keys: numpy's stable sort is a radix sort
    order = np.argsort(gv, kind="stable")
    dv = dv[order]
    sizes = np.bincount(gv, minlength=n)[:n]
    ends = np.cumsum(sizes)
    starts = ends - sizes
    out: list = []
    for k in range(n):
        if cnt[k] == 0:
            out.append(None)
            continue
        seg = dv[starts[k] : ends[k]]
        a, c = int(k1[k] - before[k]), int(k2[k] - before[k])
        part = np.partition(seg, (a, c)) if a != c else np.partition(seg, a)
        out.append((float(part[a]) + float(part[c])) / 2.0)
    return out


# --------------------------------------------------------------------------- mask


_SENTINEL = np.uint16(65535)


def _min3x3(lab: np.ndarray) -> np.ndarray:
    """3x3 minimum filter (border = +inf) of a uint16 array."""
    cv2 = _cv2()
    if cv2 is not None:
        return cv2.erode(lab, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_CONSTANT, borderValue=65535)
    h, w = lab.shape
    p = np.full((h + 2, w + 2), _SENTINEL, dtype=np.uint16)
    p[1:-1, 1:-1] = lab
    out = lab.copy()
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            if dy == 1 and dx == 1:
                continue
            np.minimum(out, p[dy : dy + h, dx : dx + w], out=out)
    return out


def grow_regions(lab: np.ndarray, grow: int) -> np.ndarray:
    """``grow`` passes of 8-neighbour dilation of region numbers (uint16, 65535 = unassigned) into
    unassigned pixels only; a pixel reached by several regions in one pass takes the lowest number.
    Identical with and without opencv (opencv only computes the same 3x3 minimum faster)."""
    out = lab.copy()
    for _ in range(max(0, int(grow))):
        free = out == _SENTINEL
        if not free.any():
            break
        m = _min3x3(out)
        upd = free & (m != _SENTINEL)
        if not upd.any():
            break
        np.copyto(out, m, where=upd)
    return out


def paint_mask(numbers: np.ndarray, n: int) -> np.ndarray:
    """Region numbers (uint16, 65535 unassigned) -> (H, W, 3) uint8 with exact RP colours."""
    lut = np.zeros((n + 1, 3), dtype=np.uint8)
    lut[:n] = region_palette(n)
    return np.take(lut, np.minimum(numbers, n), axis=0)


# --------------------------------------------------------------------------- build


def _fallback_name(source: str, idx: int) -> str:
    if source == "material":
        return f"material {idx}"
    if source == "splits":
        return f"region {idx}"
    return f"object {idx}"


def build_regions(
    cs,
    descriptions: Descriptions | None = None,
    source: str = "auto",
    threshold: float = DEFAULT_THRESHOLD,
    order: str = "depth",
    grow: int = 1,
    splits=None,
) -> RegionResult:
    """Regions of one camera (:class:`lib_scene.canvas.CanvasSet`): mask, table and warnings.

    ``descriptions`` default to the camera's sidecar (its ``objects`` map; ``materials`` for the
    material source). Names and distances missing from given descriptions are taken from the
    sidecar. An index without a description is described by its object name, else "object N",
    with a warning.
    """
    try:
        threshold = float(threshold)
    except (TypeError, ValueError):
        threshold = math.nan
    if not 0 <= threshold < 1:
        raise RegionError(f"threshold must be a share of the frame in [0, 1), got {threshold!r}")
    if order not in ORDERS:
        raise RegionError(f"order must be one of {', '.join(ORDERS)}, got {order!r}")
    if isinstance(grow, bool) or not isinstance(grow, (int, np.integer)) or grow < 0:
        raise RegionError(f"grow must be a whole number of pixels >= 0, got {grow!r}")
    grow = int(grow)
    src = pick_source(cs, source, splits)
    codes, offset, warnings = source_labels(cs, src, splits)
    if codes.shape != (cs.height, cs.width):
        raise RegionError(
            f"{src} labels are {codes.shape[::-1]}, the canvas {cs.width}x{cs.height}", cs.primary_path
        )

    # descriptions: explicit ones, completed with names/distances from the sidecar
    side_key = "materials" if src == "material" else "objects"
    side_desc = None
    if cs.sidecar and src != "splits":
        side_desc = descriptions_from_sidecar(cs.sidecar, cs.sidecar_path, key=side_key)
    if descriptions is None:
        desc = side_desc or Descriptions()
        if side_desc is not None:
            warnings.extend(side_desc.warnings)
    else:
        desc, note = descriptions.for_camera(cs.camera)
        desc = desc.resolve_names(cs.sidecar).fill_from(side_desc)
        warnings.extend(desc.warnings)
        if note and order == "distance":
            warnings.append(note)
    known_scene = set(side_desc.names) if side_desc is not None else set()

    total = codes.size
    keys, values, counts, codes = _count_codes(codes)
    ids = values - offset  # the label (pass index / region flag) of each present code
    cover = counts / total
    visible = cover > threshold

    # split labels, for descriptions of depth-split regions
    split_labels: dict[int, list[str]] = {}
    if src == "splits":
        for s in splits.splits:
            if s.region is not None and s.label:
                split_labels.setdefault(int(s.region), []).append(s.label)

    # describe the visible indices; group equal descriptions into one region
    group_of: dict[str, int] = {}
    members: list[list[int]] = []  # group -> positions in ids
    texts: list[str] = []
    borrowed = sorted(int(ids[p]) for p in np.flatnonzero(visible) if int(ids[p]) in desc.borrowed)
    if borrowed and descriptions is not None:
        warnings.append(
            f"{os.path.basename(descriptions.source or 'the descriptions')} does not describe pass "
            f"index(es) {', '.join(map(str, borrowed))}; their descriptions come from the camera sidecar"
        )
    for pos in np.flatnonzero(visible):
        idx = int(ids[pos])
        names = tuple(desc.names.get(idx, ()))
        text = desc.description(idx)
        if not text and src == "splits" and idx in split_labels:
            text = ", ".join(split_labels[idx])
        if not text:
            text = names[0] if names else _fallback_name(src, idx)
            warnings.append(
                f"{_fallback_name(src, idx)} ({100 * cover[pos]:.2f}% of the frame) has no description; "
                f"using {text!r}"
            )
        clean = sanitize_description(text, warnings, what=f"description of index {idx}")
        if not clean:
            clean = _fallback_name(src, idx)
            warnings.append(f"description of index {idx} is empty; using {clean!r}")
        g = group_of.get(clean)
        if g is None:
            g = group_of[clean] = len(members)
            members.append([])
            texts.append(clean)
        members[g].append(int(pos))

    n = len(members)
    if n > MAX_REGIONS:
        raise RegionError(f"{n} visible regions; Regional Prompter's palette here stops at {MAX_REGIONS}")
    # one gather: code -> group (n = no group: unassigned or invisible)
    code_to_group = np.full(int(keys.max()) + 1 if keys.size else 1, n, dtype=np.uint16)
    for g, pos_list in enumerate(members):
        code_to_group[keys[pos_list]] = g
    groups = np.take(code_to_group, codes)

    medians = _group_medians(groups, cs.depth, cs.hit, n)
    cam = camera_position(cs.sidecar)
    dists: list[float | None] = []
    for pos_list in members:
        ds = [desc.distances[int(ids[p])] for p in pos_list if int(ids[p]) in desc.distances]
        dists.append(min(ds) if ds else None)

    first_index = [min(int(ids[p]) for p in pos_list) for pos_list in members]
    inf = math.inf
    if order == "depth" and cs.depth is None and n:
        warnings.append(f"camera {cs.camera!r} has no depth canvas; regions are ordered by distance instead")
        order_used = "distance"
    else:
        order_used = order
    if order_used == "depth":
        key = [(inf if m is None else m, first_index[g]) for g, m in enumerate(medians)]
        if any(m is None for m in medians):
            warnings.append("some regions have no hit pixels; they are ordered last")
    else:
        missing = [texts[g] for g in range(n) if dists[g] is None]
        if missing:
            why = "no matrix_world in the sidecar" if cam is None else "no location or distance"
            warnings.append(
                f"order 'distance': {len(missing)} region(s) have no distance ({why}): "
                f"{', '.join(missing[:5])}; they go last, by median depth"
            )
        key = [
            (
                0 if dists[g] is not None else 1,
                dists[g] if dists[g] is not None else (inf if medians[g] is None else medians[g]),
                first_index[g],
            )
            for g in range(n)
        ]
    rank = sorted(range(n), key=lambda g: key[g])
    number_of_group = np.empty(n + 1, dtype=np.uint16)
    number_of_group[n] = _SENTINEL
    for k, g in enumerate(rank):
        number_of_group[g] = k
    numbers = np.take(number_of_group, groups)  # n -> sentinel
    numbers = grow_regions(numbers, grow)
    mask = paint_mask(numbers, n)

    # invariant: exactly the first n palette colours are present, plus black or not
    present = np.bincount(numbers.ravel(), minlength=n + 1)
    assert (present[:n] > 0).all() and present[n:-1].sum() == 0, "mask colours != the first n palette colours"

    regions = []
    for k, g in enumerate(rank):
        pos_list = sorted(members[g], key=lambda p: ids[p])
        idxs = tuple(int(ids[p]) for p in pos_list)
        objs = tuple(dict.fromkeys(n_ for i in idxs for n_ in desc.names.get(i, ())))
        if src == "splits":
            objs = tuple(dict.fromkeys(lbl for i in idxs for lbl in split_labels.get(i, ())))
        regions.append(
            Region(
                number=k,
                color=tuple(int(c) for c in region_palette(n)[k]),
                indices=idxs,
                objects=objs,
                description=texts[g],
                coverage=float(sum(cover[p] for p in pos_list)),
                median_depth=medians[g],
                distance=dists[g],
                pixels=int(sum(counts[p] for p in pos_list)),
            )
        )

    hidden: list[Hidden] = []
    for pos in np.flatnonzero(~visible):
        idx = int(ids[pos])
        hidden.append(Hidden(idx, float(cover[pos]), tuple(desc.names.get(idx, ())), "below threshold"))
    present_ids = {int(i) for i in ids}
    for idx in desc.indices():
        if idx in present_ids:
            continue
        names = tuple(desc.names.get(idx, ()))
        hidden.append(Hidden(idx, 0.0, names, "not in frame"))
        if idx not in known_scene and (idx in desc.text or idx in desc.names):
            label = f" ({', '.join(names)})" if names else ""
            warnings.append(
                f"descriptions name pass index {idx}{label}, which no pixel of camera {cs.camera!r} holds "
                "and the scene sidecar does not list; ignored"
            )
    if n == 0:
        warnings.append(
            f"camera {cs.camera!r}: no object covers more than {100 * threshold:g}% of the frame; the prompt is "
            "the plain base prompt, there are no regions and the mask is all black (leave Regional Prompter off)"
        )
    return RegionResult(
        camera=cs.camera,
        mask=mask,
        labels=numbers.view(np.int16),  # region numbers < 32768; the sentinel 65535 reads as -1
        regions=tuple(regions),
        hidden=tuple(sorted(hidden, key=lambda h: h.index)),
        warnings=tuple(dict.fromkeys(warnings)),
        source=src,
        order=order_used,
        threshold=float(threshold),
        grow=grow,
        depth_unit=getattr(cs, "depth_unit", "scene"),
    )


# --------------------------------------------------------------------------- prompt


def build_prompt(
    base: str | None, regions: Iterable[Region | str] | RegionResult, form: str = "regional"
) -> PromptResult:
    """The prompt for a camera's regions, nearest first.

    ``regional``: ``base BREAK d0 BREAK d1 ...`` for Regional Prompter with "use base" on. The base
    section is always there, even when empty (then the text starts with ``BREAK``), so there are
    always exactly ``len(regions) + 1`` sections and region k binds to colour k. With no region
    the prompt is the plain base prompt (no BREAK; leave Regional Prompter off).
    ``flat``: ``base, d0, d1, ...`` (empty parts skipped) for users without Regional Prompter.
    The base and every description are sanitised (:func:`sanitize_description`).
    """
    if form not in FORMS:
        raise RegionError(f"prompt form must be one of {', '.join(FORMS)}, got {form!r}")
    if isinstance(regions, RegionResult):
        regions = regions.regions
    warnings: list[str] = []
    base_s = sanitize_description(base or "", warnings, what="base prompt")
    descs: list[str] = []
    for i, r in enumerate(regions):
        text = r.description if isinstance(r, Region) else str(r)
        d = sanitize_description(text, warnings, what=f"region {i}")
        if not d:
            d = f"region {i}"
            warnings.append(f"region {i} has an empty description; using {d!r}")
        descs.append(d)
    if form == "flat":
        text = ", ".join(p for p in (base_s, *descs) if p)
        sections: tuple[str, ...] = (text,)
    else:
        sections = (base_s, *descs)
        text = " BREAK ".join(sections).strip() if descs else base_s
        # the contract Regional Prompter relies on: one section per colour, plus the base
        assert len(text.split("BREAK")) == len(descs) + 1, text
    if not text:
        warnings.append("the prompt is empty")
    return PromptResult(text=text, sections=sections, warnings=tuple(warnings), form=form)


def region_outputs(cs, result: RegionResult, prompt: PromptResult, out: str, batch) -> list[str]:
    """Queue ``<camera>.regions.png``, ``.regions.json`` and ``.prompt.txt`` on an OutputBatch."""
    base = os.path.join(out, cs.camera)
    data = result.to_dict()
    data["prompt"] = {"form": prompt.form, "text": prompt.text, "sections": list(prompt.sections)}
    data["warnings"] = list(dict.fromkeys([*result.warnings, *prompt.warnings]))
    return [
        batch.add_png(base + ".regions.png", result.mask),
        batch.add(base + ".regions.json", json.dumps(data, indent=2, ensure_ascii=False) + "\n"),
        batch.add(base + ".prompt.txt", prompt.text + "\n"),
    ]


__all__ = [
    "DEFAULT_THRESHOLD",
    "RP_KEYWORDS",
    "Descriptions",
    "Hidden",
    "PromptResult",
    "Region",
    "RegionError",
    "RegionResult",
    "build_prompt",
    "build_regions",
    "camera_position",
    "clean_index_aov",
    "descriptions_from_sidecar",
    "grow_regions",
    "load_descriptions",
    "paint_mask",
    "parse_index_text",
    "parse_properties",
    "pick_source",
    "region_outputs",
    "sanitize_description",
    "source_labels",
]
