"""Tamper twins: every verified document, changed by one byte, field or index, fails with
the right error; malformed input is an InputError, never a VerificationError."""

from __future__ import annotations

import json
import pathlib
import sqlite3

import pytest

import lcm
from conftest import requests


@pytest.fixture()
def exported(store: lcm.Store, deployment: str, key: pathlib.Path, tmp_path: pathlib.Path):
    store.infer(deployment, requests(8))
    store.close_batch(deployment)
    bundle = tmp_path / "bundle.json"
    header = tmp_path / "header.json"
    store.export(deployment, key=key, out=bundle)
    store.header(deployment, key=key, out=header)
    return bundle, header, pathlib.Path(f"{key}.pub")


def flip_hex(text: str, digest: str) -> str:
    assert digest in text
    last = "0" if digest[-1] != "0" else "1"
    return text.replace(digest, digest[:-1] + last, 1)


def test_a_changed_receipt_digest_fails(exported, tmp_path: pathlib.Path) -> None:
    bundle, _, pub = exported
    doc = json.loads(bundle.read_text())
    text = bundle.read_text()
    digest = json.dumps(doc).split('"digest": "')[3][:64]
    tampered = tmp_path / "t.json"
    tampered.write_text(flip_hex(text, digest))
    with pytest.raises(lcm.VerificationError) as e:
        lcm.verify(tampered, key=pub)
    assert e.value.report is not None
    assert not e.value.report.valid
    assert e.value.report.failures()
    with pytest.raises(lcm.VerificationError):
        lcm.verify_bytes(tampered.read_bytes(), key=pub)


def test_a_changed_field_fails(exported) -> None:
    bundle, _, pub = exported
    text = bundle.read_text()
    assert '"req_3"' in text
    with pytest.raises(lcm.VerificationError) as e:
        lcm.verify_bytes(text.replace('"req_3"', '"req_X"', 1), key=pub)
    first = e.value.report.failures()[0]
    assert first.error


def test_a_dropped_receipt_fails(exported) -> None:
    bundle, _, pub = exported
    doc = json.loads(bundle.read_text())
    groups = doc["lifecycle"]["inference"]["batches"]
    receipts = next(g for g in groups if g.get("receipts"))["receipts"]
    del receipts[2]
    with pytest.raises(lcm.VerificationError):
        lcm.verify_bytes(json.dumps(doc), key=pub)


def test_another_key_fails(exported, tmp_path: pathlib.Path) -> None:
    bundle, header, _ = exported
    other = tmp_path / "other.key"
    lcm.keygen(other)
    for path in (bundle, header):
        with pytest.raises(lcm.VerificationError):
            lcm.verify(path, key=f"{other}.pub")


def test_a_changed_header_fails(exported) -> None:
    _, header, pub = exported
    report = lcm.verify(header, key=pub)
    assert report.kind == "header" and report.valid
    text = header.read_text()
    doc = json.loads(text)
    root = doc["stage_h_release"]["release_root"] if "stage_h_release" in doc and isinstance(doc["stage_h_release"], dict) and "release_root" in doc["stage_h_release"] else None
    if root is None:
        # Any 64-hex value in the header will do: all are signed.
        import re

        root = re.findall(r'"([0-9a-f]{64})"', text)[0]
    with pytest.raises(lcm.VerificationError):
        lcm.verify_bytes(flip_hex(text, root), key=pub)


def test_malformed_input_is_an_input_error(exported, tmp_path: pathlib.Path) -> None:
    bundle, header, pub = exported
    with pytest.raises(lcm.InputError, match="malformed JSON"):
        lcm.verify_bytes(b"{not json", key=pub)
    with pytest.raises(lcm.InputError, match="not an lcm"):
        lcm.verify_bytes(b'{"hello": 1}', key=pub)
    with pytest.raises(lcm.InputError, match="UTF-8"):
        lcm.verify_bytes(b"\xff\xfe", key=pub)
    with pytest.raises(lcm.InputError):
        lcm.verify(tmp_path / "missing.json", key=pub)
    with pytest.raises(lcm.InputError):
        lcm.verify(bundle, key=tmp_path / "missing.pub")
    bad_key = tmp_path / "bad.pub"
    bad_key.write_text("zz\n")
    with pytest.raises(lcm.InputError, match="64 hex"):
        lcm.verify(bundle, key=bad_key)
    # JSON of the right kind but not a valid document: a failed check (stage document).
    doc = json.loads(header.read_text())
    del doc["signature"]["key_id"]
    with pytest.raises(lcm.VerificationError, match="document"):
        lcm.verify_bytes(json.dumps(doc), key=pub)


def test_capsule_of_one_receipt(store: lcm.Store, exported, tmp_path: pathlib.Path) -> None:
    _, header, pub = exported
    out = tmp_path / "capsule.json"
    text = store.materialize("inf_000003", header=header, query="question 3", out=out)
    report = lcm.verify(out, key=pub, header=header)
    assert report.kind == "capsule" and report.valid
    assert lcm.verify_bytes(text, key=pub, header=header.read_bytes()).valid
    with pytest.raises(lcm.InputError, match="header"):
        lcm.verify(out, key=pub)
    # Tamper twins: the disclosed query, the receipt's sequence.
    doc = json.loads(text)
    assert "question 3" in text
    with pytest.raises(lcm.VerificationError):
        lcm.verify_bytes(text.replace("question 3", "question 4"), key=pub, header=header.read_bytes())
    moved = text.replace('"sequence": 3', '"sequence": 2', 1)
    assert moved != text
    with pytest.raises(lcm.VerificationError):
        lcm.verify_bytes(moved, key=pub, header=header.read_bytes())
    assert doc["item"]
    # A value the receipt did not commit to is refused before anything is written.
    with pytest.raises(lcm.InputError, match="committed"):
        store.materialize("inf_000003", header=header, query="question 4")
    with pytest.raises(lcm.InputError, match="no receipt"):
        store.materialize("nope", header=header)


def test_requirements(exported) -> None:
    bundle, header, pub = exported
    key_id = lcm.verify(header, key=pub).key_id
    ok = lcm.Requirements(hash_algorithm="sha256", signing_key=key_id, commitments="salted")
    assert lcm.verify(bundle, key=pub, requirements=ok).valid
    assert lcm.verify(header, key=pub, requirements=ok).valid
    for req in (
        lcm.Requirements(min_kdf_iterations=10**9),
        lcm.Requirements(hash_algorithm="blake3"),
        lcm.Requirements(signing_key="0" * 64),
        lcm.Requirements(required_frameworks=["NO-SUCH-FRAMEWORK"]),
        lcm.Requirements(commitments="hmac"),
        lcm.Requirements(commitments="plaintext"),
    ):
        for path in (bundle, header):
            with pytest.raises(lcm.VerificationError):
                lcm.verify(path, key=pub, requirements=req)
    with pytest.raises(lcm.InputError):
        lcm.Requirements(hash_algorithm="md5")
    with pytest.raises(lcm.InputError):
        lcm.Requirements(signing_key="xyz")
    with pytest.raises(lcm.InputError, match="commitments"):
        lcm.Requirements(commitments="bogus")


def test_store_check_finds_an_edited_receipt(store: lcm.Store, deployment: str, tmp_path: pathlib.Path) -> None:
    store.infer(deployment, requests(3))
    assert store.check()["receipts"] == 3
    store.close()
    db = sqlite3.connect(tmp_path / "lcm.db")
    # The lean row (schema 7): the request id is a column of its own, and the canonical JSON
    # is rebuilt from the row, so editing the column changes what the receipt's digest covers.
    cols = [r[1] for r in db.execute("pragma table_info(receipts)")]
    assert "request_id" in cols
    # The store's append-only triggers stop a careless edit, not an attacker.
    for (trigger,) in db.execute("select name from sqlite_master where type='trigger'").fetchall():
        db.execute(f"drop trigger {trigger}")
    changed = db.execute("update receipts set request_id = 'req_9' where request_id = 'req_1'").rowcount
    assert changed == 1
    db.commit()
    db.close()
    with pytest.raises(lcm.VerificationError, match="receipt"):
        lcm.Store(tmp_path / "lcm.db").check()
