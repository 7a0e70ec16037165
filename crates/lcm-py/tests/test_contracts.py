"""The contracts of issue 14, as written, and their error cases."""

from __future__ import annotations

import json
import os
import pathlib
import re
import stat

import pytest

import lcm
from conftest import EXAMPLES, requests

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def test_exceptions_form_one_hierarchy() -> None:
    assert issubclass(lcm.VerificationError, lcm.Error)
    assert issubclass(lcm.InputError, lcm.Error)
    assert issubclass(lcm.StoreError, lcm.Error)
    assert issubclass(lcm.Error, Exception)
    assert not issubclass(lcm.InputError, lcm.VerificationError)


def test_keygen_writes_the_pair_like_the_cli(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "k"
    key_id = lcm.keygen(path)
    assert HEX64.match(key_id)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    private = path.read_text()
    public = pathlib.Path(f"{path}.pub").read_text()
    assert re.fullmatch(r"[0-9a-f]{64}\n", private)
    assert re.fullmatch(r"[0-9a-f]{64}\n", public)
    assert private != public
    # Never overwritten silently.
    with pytest.raises(lcm.InputError, match="exists"):
        lcm.keygen(path)
    assert path.read_text() == private
    assert lcm.keygen(str(path), force=True) != key_id
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_store_is_created_then_reopened(tmp_path: pathlib.Path, lifecycle_doc: dict) -> None:
    path = tmp_path / "new" / "lcm.db"
    path.parent.mkdir()
    assert not path.exists()
    s = lcm.Store(path)
    assert path.exists()
    assert s.schema_version >= 1
    assert s.policy["hash_algorithm"] == "SHA-256"
    records = s.record_lifecycle(lifecycle_doc, dataset_password="a", model_password="b")
    s.close()
    with pytest.raises(lcm.InputError, match="closed"):
        s.records()
    again = lcm.Store(str(path))
    assert [r.digest for r in again.records()] != []
    assert {r.digest for r in records} <= {r.digest for r in again.records()}


def test_record_lifecycle_from_a_path_and_from_a_dict(tmp_path: pathlib.Path) -> None:
    a = lcm.Store(tmp_path / "a.db")
    b = lcm.Store(tmp_path / "b.db")
    from_path = a.record_lifecycle(
        EXAMPLES / "lifecycle.json", dataset_password="p", model_password="q"
    )
    doc = json.loads((EXAMPLES / "lifecycle.json").read_text())
    from_dict = b.record_lifecycle(doc, dataset_password="p", model_password="q")
    assert [(r.kind, r.id) for r in from_path] == [(r.kind, r.id) for r in from_dict]
    assert all(HEX64.match(r.digest) for r in from_path)
    assert from_path[0].to_dict() == json.loads(from_path[0].json)
    # The same ids again: refused, nothing written.
    before = len(a.records())
    with pytest.raises(lcm.InputError, match="already stored"):
        a.record_lifecycle(doc, dataset_password="p", model_password="q")
    assert len(a.records()) == before


def test_record_lifecycle_refuses_malformed_documents(tmp_path: pathlib.Path, lifecycle_doc: dict) -> None:
    s = lcm.Store(tmp_path / "s.db")
    with pytest.raises(lcm.InputError):
        s.record_lifecycle({"dataset": {}}, dataset_password="p", model_password="q")
    bad = dict(lifecycle_doc, unexpected=1)
    with pytest.raises(lcm.InputError, match="unexpected"):
        s.record_lifecycle(bad, dataset_password="p", model_password="q")
    with pytest.raises(lcm.InputError):
        s.record_lifecycle(tmp_path / "missing.json", dataset_password="p", model_password="q")
    with pytest.raises(lcm.InputError, match="password"):
        s.record_lifecycle(lifecycle_doc, dataset_password="", model_password="q")
    assert s.records() == []


def test_infer_returns_durable_chained_receipts(store: lcm.Store, deployment: str, tmp_path: pathlib.Path) -> None:
    receipts = store.infer(deployment, requests(5))
    assert [r.sequence for r in receipts] == [0, 1, 2, 3, 4]
    assert [r.receipt_id for r in receipts] == [f"inf_{i:06d}" for i in range(5)]
    assert all(HEX64.match(r.digest) for r in receipts)
    assert len({r.digest for r in receipts}) == 5
    body = receipts[1].to_dict()
    assert body["prev_receipt"] == receipts[0].digest
    assert body["request_id"] == "req_1"
    # The chain continues from the stored head, also from a reopened store.
    more = store.infer(deployment, requests(2, start=5))
    assert [r.sequence for r in more] == [5, 6]
    assert more[0].to_dict()["prev_receipt"] == receipts[-1].digest
    assert store.check()["receipts"] == 7


def test_infer_takes_any_json_value_and_the_optional_fields(store: lcm.Store, deployment: str) -> None:
    reqs = [
        {
            "request_id": "r1",
            "query": {"features": [5.1, 3.5, 1.4, 0.2]},
            "output": [0],
            "receipt_id": "pred-1",
            "input_metadata": {"source": "iris"},
            "output_metadata": {"label": "setosa"},
            "explanation_digests": ["ab" * 32],
        },
        {"request_id": "r2", "query": None, "output": True},
    ]
    receipts = store.infer(deployment, reqs, model="pneumonia_model@v1.0")
    assert receipts[0].receipt_id == "pred-1"
    body = receipts[0].to_dict()
    assert body["input_commitment"]["metadata"] == {"source": "iris"}
    assert body["output_commitment"]["metadata"] == {"label": "setosa"}
    assert body["explanation_digests"] == ["ab" * 32]


def test_infer_calls_on_receipt_after_each_commit_in_order(store: lcm.Store, deployment: str) -> None:
    seen = []
    receipts = store.infer(deployment, requests(10), batch_size=3, on_receipt=seen.append)
    assert [r.sequence for r in seen] == list(range(10))
    assert [r.digest for r in seen] == [r.digest for r in receipts]


def test_an_exception_from_on_receipt_stops_after_the_committed_batch(store: lcm.Store, deployment: str) -> None:
    def stop(r: lcm.Receipt) -> None:
        if r.sequence == 4:
            raise RuntimeError("enough")

    with pytest.raises(RuntimeError, match="enough"):
        store.infer(deployment, requests(10), batch_size=5, on_receipt=stop)
    # The first transaction (0..4) was committed before the callback ran.
    assert store.check()["receipts"] == 5


def test_infer_refuses_malformed_requests_before_appending(store: lcm.Store, deployment: str) -> None:
    # Each error names the request (its index in the list) and the field.
    cases = [
        ([{"request_id": "a", "query": "q"}], r"requests\[3\]: missing field output"),
        ([{"request_id": "a", "query": "q", "output": "o", "extra": 1}], r"requests\[3\]: unknown field"),
        ([{"request_id": 1, "query": "q", "output": "o"}], r"requests\[3\]\.request_id: expected a str"),
        ([{"request_id": "a", "query": object(), "output": "o"}], r"requests\[3\]\.query"),
        ([{"request_id": "a", "query": float("nan"), "output": "o"}], r"requests\[3\]\.query"),
        ([{"request_id": "a", "query": "q", "output": [1, {2: 3}]}], r"requests\[3\]\.output\[1\]"),
        (
            [{"request_id": "a", "query": "q", "output": "o", "explanation_digests": ["00"]}],
            r"requests\[3\]\.explanation_digests",
        ),
        (["not a dict"], r"requests\[3\]: expected a dict"),
    ]
    for reqs, named in cases:
        with pytest.raises(lcm.InputError, match=named):
            store.infer(deployment, requests(3) + reqs)
    assert store.check()["receipts"] == 0
    with pytest.raises(lcm.InputError, match="no deployment anchor"):
        store.infer("no-such-deployment", requests(1))
    with pytest.raises(lcm.InputError, match="no model anchor other@v9"):
        store.infer(deployment, requests(1), model="other@v9")


def test_a_duplicate_receipt_id_refuses_its_transaction(store: lcm.Store, deployment: str) -> None:
    store.infer(deployment, [{"request_id": "a", "query": "q", "output": "o", "receipt_id": "x"}])
    with pytest.raises(lcm.InputError, match="already stored"):
        store.infer(deployment, [{"request_id": "b", "query": "q", "output": "o", "receipt_id": "x"}])
    assert store.check()["receipts"] == 1


def test_close_batch_seals_what_is_open(store: lcm.Store, deployment: str) -> None:
    with pytest.raises(lcm.InputError, match="no receipt chain"):
        store.close_batch(deployment)
    store.infer(deployment, requests(4))
    batch = store.close_batch(deployment)
    assert (batch.first_sequence, batch.last_sequence, batch.count) == (0, 3, 4)
    assert HEX64.match(batch.root) and HEX64.match(batch.digest)
    assert store.close_batch(deployment) is None
    store.infer(deployment, requests(2, start=4))
    named = store.close_batch(window="w2")
    assert (named.window_id, named.first_sequence, named.last_sequence) == ("w2", 4, 5)
    with pytest.raises(lcm.InputError, match="RFC 3339"):
        store.close_batch(deployment, until="yesterday")


def test_export_then_verify(store: lcm.Store, deployment: str, key: pathlib.Path, tmp_path: pathlib.Path) -> None:
    store.infer(deployment, requests(6))
    store.close_batch(deployment)
    out = tmp_path / "bundle.json"
    text = store.export(deployment, key=key, out=out)
    assert out.read_text() == text + "\n"
    report = lcm.verify(out, key=f"{key}.pub")
    assert report.valid and report.kind == "bundle"
    assert isinstance(report.checks, list) and len(report.checks) > 10
    assert all(c.passed for c in report.checks)
    assert report.key_id == lcm.verify(str(out), key=pathlib.Path(f"{key}.pub")).key_id
    assert report.failures() == []
    # verify_bytes on the same document, as bytes and as str.
    assert lcm.verify_bytes(out.read_bytes(), key=f"{key}.pub").valid
    assert lcm.verify_bytes(text, key=f"{key}.pub").valid


def test_a_store_verification_error_has_no_report(store: lcm.Store) -> None:
    e = lcm.VerificationError("x")
    assert e.report is None
    assert isinstance(store.path, pathlib.Path)
