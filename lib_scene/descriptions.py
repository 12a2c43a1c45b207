"""What the artist wrote about the objects, by pass index: sidecars, ``.properties`` and
``index = text`` files, and the edits made in the tab or sent as ``region_descriptions``."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .errors import PresetError
from .jsonio import MAX_JSON_BYTES, parse_json

_SPACES = re.compile(r"\s+")

__all__ = [
    "Descriptions",
    "camera_position",
    "descriptions_by_name",
    "descriptions_from_sidecar",
    "name_as_description",
    "load_descriptions",
    "parse_index_text",
    "parse_properties",
    "sidecar_objects",
    "with_edits",
]


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

    def resolve_names(self, sidecar: Mapping[str, Any] | None) -> Descriptions:
        """Bind ``by_name`` entries to pass indices through a sidecar's ``objects`` map."""
        if not self.by_name:
            return self
        objects = sidecar_objects(sidecar)
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

    def to_dict(self) -> dict[str, Any]:
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
    descriptions: Descriptions | None, edits: Mapping[str, Any] | None, source: str = "edits"
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


def camera_position(sidecar: Mapping[str, Any] | None) -> NDArray[Any] | None:
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


def sidecar_objects(sidecar: Mapping[str, Any] | None, key: str = "objects") -> dict[str, dict[str, Any]]:
    """name -> {"pass_index": int|None, "description": str|None, "location": array|None, "distance"}."""
    out: dict[str, dict[str, Any]] = {}
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
    sidecar: Mapping[str, Any], source: str | None = None, key: str = "objects"
) -> Descriptions:
    """Descriptions from a camera's JSON sidecar ``objects`` map (``{name: {pass_index, Description,
    location}}``). Objects sharing a pass index are one entry: their names are all kept; differing
    descriptions are joined with ", " (and reported). Distances come from ``distance`` or, when the
    sidecar has ``matrix_world``, from ``location`` (the nearest object of an index counts)."""
    if not isinstance(sidecar, Mapping):
        raise PresetError("a sidecar must be a JSON object", source)
    objects = sidecar_objects(sidecar, key)
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


_BLENDER_COPY = re.compile(r"\.\d{3}$")


def name_as_description(name: str) -> str:
    """An object name as a prompt: Blender's copy suffix dropped, underscores as spaces
    (``Chair_A`` -> ``Chair A``, ``Cube.001`` -> ``Cube``)."""
    text = _SPACES.sub(" ", _BLENDER_COPY.sub("", name).replace("_", " ")).strip()
    return text or name


def _explicit_for(code: int, name: str, explicit: Descriptions | None) -> str | None:
    """An explicit description of object ``name`` (region-table number ``code``): by name, else by
    its number (the numbers the region table shows for this source, as the tab's edits use them)."""
    if explicit is None:
        return None
    return explicit.by_name.get(name) or explicit.text.get(code)


def descriptions_by_name(
    names: Mapping[int, str],
    sidecar: Mapping[str, Any] | None,
    explicit: Descriptions | None = None,
) -> tuple[Descriptions, set[int]]:
    """Descriptions of objects known by name (Cryptomatte), keyed by their codes, and the codes
    that are background.

    Per object, the first that applies: an explicit description (``name = text`` entries, or a
    number entry for its code: the number the region table shows, as the tab's edits send it),
    the sidecar's ``Description``; without a sidecar, the name itself (:func:`name_as_description`). With a sidecar, an object it does
    not describe is background, as its pass index 0 would be. Distances come from the sidecar."""
    objects = sidecar_objects(sidecar)
    cam = camera_position(sidecar)
    text: dict[int, str] = {}
    distances: dict[int, float] = {}
    background: set[int] = set()
    for code, name in names.items():
        obj = objects.get(name, {})
        desc = _explicit_for(code, name, explicit) or (obj.get("description") or "").strip()
        if desc:
            text[code] = desc
        elif sidecar:
            background.add(code)
        else:
            text[code] = name_as_description(name)
        dist = obj.get("distance")
        if dist is None and cam is not None and obj.get("location") is not None:
            dist = float(np.linalg.norm(obj["location"] - cam))
        if dist is not None:
            distances[code] = float(dist)
    warnings = list(explicit.warnings) if explicit is not None else []
    if explicit is not None:
        unknown = sorted(set(explicit.by_name) - set(names.values()))
        if unknown:
            warnings.append(
                f"descriptions name object(s) {', '.join(map(repr, unknown[:5]))}, not in the Cryptomatte manifest; ignored"
            )
    desc = Descriptions(
        text=text,
        names={c: (n,) for c, n in names.items() if c not in background},
        distances=distances,
        source=explicit.source if explicit is not None else None,
        warnings=tuple(warnings),
    )
    return desc, background


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


def load_descriptions(path: str | os.PathLike[str]) -> Descriptions:
    """Read descriptions from a ``.json`` sidecar (``objects`` map, or a plain ``{"3": "text"}``
    map), a ``.properties`` file (``objects.N.*``), or ``index = description`` text. The format is
    chosen by extension, then by content."""
    path = os.fspath(path)
    text = _read_text(path)
    ext = os.path.splitext(path)[1].lower()
    if ext == ".json" or (ext not in (".properties", ".txt") and text.lstrip().startswith("{")):
        data = parse_json(text, "descriptions file", path, error=PresetError)
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


def _read_text(path: str) -> str:
    """The descriptions file as text (size-limited, UTF-8), or a PresetError naming it."""
    try:
        if os.path.isdir(path):
            raise PresetError("descriptions file is a folder; give a file", path)
        if os.path.getsize(path) > MAX_JSON_BYTES:
            raise PresetError(f"descriptions file is larger than {MAX_JSON_BYTES} bytes", path)
        with open(path, encoding="utf-8-sig") as fh:
            return fh.read()
    except FileNotFoundError as exc:
        raise PresetError("no such descriptions file", path) from exc
    except UnicodeDecodeError as exc:
        raise PresetError("descriptions file is not UTF-8 text; is it a binary file?", path) from exc
    except OSError as exc:
        raise PresetError(f"cannot read descriptions ({exc.strerror})", path) from exc
    except ValueError as exc:  # NUL byte in the name
        raise PresetError(f"invalid descriptions file name ({exc})", path) from exc


def _single_line(v: object) -> str:
    return _SPACES.sub(" ", str(v)).strip()
