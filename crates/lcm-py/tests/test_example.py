"""The scikit-learn example runs end to end: splits, model, training, release, a receipt per
prediction, a verified bundle and capsule, and a refused one-byte change."""

from __future__ import annotations

import importlib.util
import pathlib

import lcm

EXAMPLE = pathlib.Path(__file__).resolve().parents[1] / "examples" / "iris_lifecycle.py"


def test_iris_example(tmp_path: pathlib.Path) -> None:
    spec = importlib.util.spec_from_file_location("iris_lifecycle", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(tmp_path) == 0
    report = lcm.verify(tmp_path / "bundle.json", key=tmp_path / "signing.key.pub")
    assert report.valid
    with lcm.Store(tmp_path / "lcm.db") as store:
        assert store.check()["receipts"] == 30
