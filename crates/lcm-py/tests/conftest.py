"""Shared fixtures: a key pair, a store holding the example lifecycle, its deployment."""

from __future__ import annotations

import json
import pathlib

import pytest

import lcm

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples" / "cli"


@pytest.fixture()
def lifecycle_doc() -> dict:
    return json.loads((EXAMPLES / "lifecycle.json").read_text())


@pytest.fixture()
def key(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "signing.key"
    lcm.keygen(path)
    return path


@pytest.fixture()
def store(tmp_path: pathlib.Path, lifecycle_doc: dict):
    with lcm.Store(tmp_path / "lcm.db") as s:
        s.record_lifecycle(lifecycle_doc, dataset_password="d-pass", model_password="m-pass")
        yield s


@pytest.fixture()
def deployment(lifecycle_doc: dict) -> str:
    return lifecycle_doc["deployment"]["deployment_id"]


def requests(n: int, start: int = 0) -> list[dict]:
    return [
        {"request_id": f"req_{i}", "query": f"question {i}", "output": f"answer {i}"}
        for i in range(start, start + n)
    ]
