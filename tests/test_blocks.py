"""lib_scene/blocks.py: block by block, exactly what the one-call numpy function gives."""

from __future__ import annotations

import numpy as np
import pytest

from lib_scene import blocks


@pytest.mark.parametrize("block", [1, 7, 1 << 20])
def test_bincount_and_take_match_numpy(monkeypatch, block):
    monkeypatch.setattr(blocks, "BLOCK", block)
    rng = np.random.default_rng(3)
    for dtype in (np.uint16, np.int32, np.uint8):
        values = rng.integers(0, 40, (23, 17)).astype(dtype)
        for minlength in (0, 10, 60):
            got = blocks.bincount(values, minlength)
            assert got.dtype == np.int64
            np.testing.assert_array_equal(got, np.bincount(values.ravel(), minlength=minlength))
        table = rng.integers(0, 255, (40, 3)).astype(np.uint8)
        np.testing.assert_array_equal(blocks.take(table, values), np.take(table, values, axis=0))
        np.testing.assert_array_equal(blocks.take(table[:, 0], values), np.take(table[:, 0], values))
    assert blocks.bincount(np.zeros((0, 4), np.uint16), 3).tolist() == [0, 0, 0]
    with pytest.raises(IndexError):
        blocks.take(np.zeros(3, np.uint8), np.array([[0, 5]], np.uint16))
