"""Stage-by-stage recording, fingerprints and pyciaf header audits."""

from __future__ import annotations

import hashlib
import json
import pathlib
import struct
import threading

import pytest

import lcm
from conftest import EXAMPLES, ROOT, requests

STAGES = EXAMPLES / "stages"


def test_record_stage_by_stage_from_files_and_dicts(tmp_path: pathlib.Path, key: pathlib.Path) -> None:
    s = lcm.Store(tmp_path / "s.db")
    s.record_dataset(STAGES / "dataset.json", password="d")
    s.record_model(json.loads((STAGES / "model.json").read_text()), password="m")
    s.record_training(STAGES / "training.json")
    s.record_training(STAGES / "training-complete.json")
    s.record_predeployment(STAGES / "predeployment.json")
    deployment = s.record_deployment(STAGES / "deployment.json")[0].id
    test = json.loads((STAGES / "test.json").read_text())
    s.record_test(test)
    kinds = [r.kind for r in s.record_release(deployment, test["test_id"])]
    assert "release-root" in kinds
    assert s.model_of(deployment) == "pneumonia_model@v1.0"
    receipts = s.infer(deployment, requests(3))
    assert receipts[-1].sequence == 2
    out = tmp_path / "b.json"
    s.export(deployment, key=key, out=out)
    assert lcm.verify(out, key=f"{key}.pub").valid
    # A status change: a rolled-back deployment makes no more receipts.
    s.record_status(deployment, "rollback", "bad release")
    with pytest.raises(lcm.InputError, match="rollback"):
        s.infer(deployment, requests(1))
    with pytest.raises(lcm.InputError, match="status"):
        s.record_status(deployment, "paused", "x")


def test_a_stage_out_of_order_is_refused(tmp_path: pathlib.Path) -> None:
    s = lcm.Store(tmp_path / "s.db")
    with pytest.raises(lcm.InputError):
        s.record_model(STAGES / "model.json", password="m")
    assert s.records() == []


def test_fingerprint_file_and_directory(tmp_path: pathlib.Path) -> None:
    f = tmp_path / "weights.bin"
    f.write_bytes(b"abc" * 1000)
    fp = lcm.fingerprint(f)
    assert fp.kind == "file" and fp.size == 3000 and fp.parameters is None
    assert fp.digest == hashlib.sha256(f.read_bytes()).hexdigest()
    assert lcm.fingerprint(f, "blake3").digest != fp.digest
    d = tmp_path / "model"
    d.mkdir()
    (d / "a").write_bytes(b"1")
    (d / "b").write_bytes(b"2")
    dfp = lcm.fingerprint(d)
    assert dfp.kind == "directory" and dfp.files == 2
    (d / "b").write_bytes(b"3")
    assert lcm.fingerprint(d).digest != dfp.digest
    with pytest.raises(lcm.InputError):
        lcm.fingerprint(tmp_path / "missing")
    with pytest.raises(lcm.InputError):
        lcm.fingerprint(f, "md5")


def safetensors(tensors: dict[str, tuple[str, list[int], bytes]]) -> bytes:
    header, data, offset = {}, b"", 0
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        data += raw
        offset += len(raw)
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + data


def test_fingerprint_safetensors_per_tensor(tmp_path: pathlib.Path) -> None:
    w = struct.pack("<4f", 1.0, 2.0, 3.0, 4.0)
    b = struct.pack("<2f", 0.5, -0.5)
    path = tmp_path / "model.safetensors"
    path.write_bytes(safetensors({"dense.weight": ("F32", [2, 2], w), "dense.bias": ("F32", [2], b)}))
    fp = lcm.fingerprint(path)
    p = fp.parameters
    assert p is not None and p.elements == 6
    assert set(p.tensors) == {"dense.weight", "dense.bias"}
    # One changed weight changes that tensor's digest and the root, nothing else.
    w2 = struct.pack("<4f", 1.0, 2.0, 3.0, 4.5)
    path.write_bytes(safetensors({"dense.weight": ("F32", [2, 2], w2), "dense.bias": ("F32", [2], b)}))
    q = lcm.fingerprint(path).parameters
    assert q.tensors["dense.bias"] == p.tensors["dense.bias"]
    assert q.tensors["dense.weight"] != p.tensors["dense.weight"]
    assert q.root != p.root
    # A malformed file (a shape that does not match its bytes) is refused.
    path.write_bytes(safetensors({"dense.weight": ("F32", [3, 2], w)}))
    with pytest.raises(lcm.InputError):
        lcm.fingerprint(path)


def reference_header() -> str:
    vectors = json.loads((ROOT / "tests" / "vectors" / "pyciaf" / "reference-vectors.json").read_text())
    return vectors["lifecycle"]["capsule_header"]["compact_json"]


def test_audit_pyciaf_header(tmp_path: pathlib.Path) -> None:
    text = reference_header()
    audit = lcm.audit_pyciaf_header(text)
    assert audit.summary == {"consistent": 16, "inconsistent": 0, "unverifiable": 31, "absent": 2}
    file = tmp_path / "h.json"
    file.write_text(text)
    assert lcm.audit_pyciaf_header(file).file_sha256 == audit.file_sha256
    assert lcm.audit_pyciaf_header(text.encode()).summary == audit.summary
    status = {f.field: f.status for f in audit.findings}
    assert status["stage_b_model.arch_root"] == "unverifiable"
    assert status["stage_g_inference"] == "absent"
    tampered = lcm.audit_pyciaf_header(text.replace("pd_332602fe...", "pd_332602ff..."))
    assert tampered.summary["inconsistent"] == 1
    with pytest.raises(lcm.InputError):
        lcm.audit_pyciaf_header(b"[1, 2]")


def test_one_store_from_several_threads(store: lcm.Store, deployment: str) -> None:
    errors: list[BaseException] = []

    def work(start: int) -> None:
        try:
            store.infer(deployment, requests(200, start=start), batch_size=50)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i * 1000,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.check()["receipts"] == 800


def test_policy_and_backend_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(lcm.InputError):
        lcm.Store(tmp_path / "p.db", policy={"hash_algorithm": "MD5"})
    # A PostgreSQL URL is opened (test_postgres.py); a server that does not answer is an error.
    with pytest.raises(lcm.Error):
        lcm.Store("postgres://lcm@127.0.0.1:1/x?connect_timeout=2")
    blake = lcm.Store(tmp_path / "b.db", policy=dict(lcm.Store(tmp_path / "d.db").policy, hash_algorithm="BLAKE3"))
    assert blake.policy["hash_algorithm"] == "BLAKE3"
    (tmp_path / "junk.db").write_bytes(b"this is not a database" * 100)
    with pytest.raises(lcm.Error):
        lcm.Store(tmp_path / "junk.db")


def test_infer_holds_the_strict_input_of_lcm_infer(store: lcm.Store, deployment: str) -> None:
    """Issue 11's rules reach Python too: a request id the chain already holds, one the list
    repeats, or an id with a control character is refused, and nothing of that batch is
    appended."""
    store.infer(deployment, requests(3))
    for bad, match in [
        (requests(1, start=2), "req_2"),
        ([{"request_id": "twice", "query": "q", "output": "o"}] * 2, "twice"),
        ([{"request_id": "evil\n999", "query": "q", "output": "o"}], "request_id"),
    ]:
        with pytest.raises(lcm.InputError, match=match):
            store.infer(deployment, bad)
    assert [r.sequence for r in store.infer(deployment, requests(1, start=3))] == [3]
