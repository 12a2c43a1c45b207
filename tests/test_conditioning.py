"""The glue's conditioning walk with real torch (skipped where torch is absent; the A1111 venv has it):
ControlNet's leading mark token kept bit for bit, chunks interpolated one by one, exact at t = 0 and 1,
the variation offset added to the chunks only, and nothing done for another run's denoiser."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from lib_scene.travel import slerp, walk_offset  # noqa: E402
from scene_import_a1111 import conditioning as cd  # noqa: E402


@pytest.fixture
def parser(monkeypatch):
    mod = types.ModuleType("modules.prompt_parser")
    mod.reconstruct_multicond_batch = lambda c, step: ([[(0, 1.0)]], c)  # the "conds" are the tensor
    pkg = sys.modules.get("modules") or types.ModuleType("modules")
    monkeypatch.setitem(sys.modules, "modules", pkg)
    monkeypatch.setitem(sys.modules, "modules.prompt_parser", mod)
    return mod


def _params(p, cond):
    return types.SimpleNamespace(denoiser=types.SimpleNamespace(p=p, step=0), text_cond=cond)


def test_travel_moves_the_chunks_and_keeps_controlnets_mark(parser):
    g = torch.Generator().manual_seed(0)
    a = torch.randn(1, 1 + 154, 8, generator=g)  # ControlNet's mark + two 77-token chunks
    b = torch.randn(1, 154, 8, generator=g)
    p = object()
    for t, how in ((0.5, "slerp"), (0.25, "linear")):
        walk = cd._Walk(p=p, target=b, position=t, interpolation=how)
        cd._ACTIVE.append(walk)
        try:
            params = _params(p, a.clone())
            cd.on_cfg_denoiser(params)
            other = _params(object(), a.clone())
            cd.on_cfg_denoiser(other)  # another run's denoiser: untouched
        finally:
            cd._ACTIVE.remove(walk)
        out = params.text_cond
        assert torch.equal(other.text_cond, a) and walk.calls == 1
        assert torch.equal(out[:, :1], a[:, :1])  # the mark, bit for bit
        for k in range(2):
            sl = slice(1 + 77 * k, 1 + 77 * (k + 1))
            ca, cb = a[0, sl].double().numpy(), b[0, 77 * k : 77 * (k + 1)].double().numpy()
            want = slerp(ca, cb, t) if how == "slerp" else (1 - t) * ca + t * cb
            assert np.allclose(out[0, sl].double().numpy(), want, atol=1e-5)
    assert torch.equal(cd._interpolate(a[:, 1:], b, 0.0, "slerp"), a[:, 1:])
    assert torch.equal(cd._interpolate(a[:, 1:], b, 1.0, "slerp"), b)


def test_variation_adds_the_walk_to_the_chunks_only(parser):
    a = torch.randn(1, 1 + 77, 8)
    p = object()
    walk = cd._Walk(p=p, variation=2, sigma=0.02, seed=5)
    cd._ACTIVE.append(walk)
    try:
        params = _params(p, a.clone())
        cd.on_cfg_denoiser(params)
    finally:
        cd._ACTIVE.remove(walk)
    assert torch.equal(params.text_cond[:, :1], a[:, :1])
    want = a[0, 1:].numpy() + walk_offset((77, 8), 2, 0.02, 5)
    assert np.allclose(params.text_cond[0, 1:].numpy(), want, atol=1e-6)


def test_an_error_in_the_callback_is_kept_for_the_run(parser):
    p = object()
    walk = cd._Walk(p=p, target=torch.zeros(1, 154, 8), position=0.5)
    cd._ACTIVE.append(walk)
    try:
        with pytest.raises(Exception, match="tokens"):
            cd.on_cfg_denoiser(_params(p, torch.zeros(1, 77, 8)))
    finally:
        cd._ACTIVE.remove(walk)
    assert walk.error is not None and walk.calls == 0
