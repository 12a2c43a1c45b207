"""Fuzz the JSON readers: split presets, params, sidecars and descriptions files.

The first byte picks the parser; the rest is the document. Anything but a ``SceneImportError`` is a
finding. Run: ``tools/fuzz/run.sh json 600``.
"""

from __future__ import annotations

import sys

import _common
import atheris

with atheris.instrument_imports():
    from lib_scene.canvas import load_sidecar
    from lib_scene.descriptions import descriptions_from_sidecar, load_descriptions
    from lib_scene.errors import SceneImportError
    from lib_scene.params import PlanParams
    from lib_scene.request import HostFacts, parse_params
    from lib_scene.splits import load_preset

FACTS = HostFacts()


def _preset(doc: bytes) -> None:
    load_preset(_common.scratch_file("preset.json", doc))


def _params(doc: bytes) -> None:
    PlanParams.from_json(doc.decode("utf-8", "replace"))


def _params_resolver(doc: bytes) -> None:
    parse_params(doc.decode("utf-8", "replace"), FACTS)


def _sidecar(doc: bytes) -> None:
    side = load_sidecar(_common.scratch_file("Cam0.json", doc))
    descriptions_from_sidecar(side, source="Cam0.json")


def _descriptions_json(doc: bytes) -> None:
    load_descriptions(_common.scratch_file("descriptions.json", doc))


def _descriptions_text(doc: bytes) -> None:
    load_descriptions(_common.scratch_file("descriptions.txt", doc))


def _descriptions_props(doc: bytes) -> None:
    load_descriptions(_common.scratch_file("descriptions.properties", doc))


PARSERS = (
    _preset,
    _params,
    _params_resolver,
    _sidecar,
    _descriptions_json,
    _descriptions_text,
    _descriptions_props,
)


def TestOneInput(data: bytes) -> None:
    if not data:
        return
    parser = PARSERS[data[0] % len(PARSERS)]
    try:
        parser(data[1:])
    except SceneImportError:
        pass


if __name__ == "__main__":
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()
