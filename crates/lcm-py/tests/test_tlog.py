"""The transparency log: log keys, signed checkpoints, consistency proofs and their checks."""

from __future__ import annotations

import pathlib

import pytest

import lcm
from conftest import requests

ORIGIN = "example.com/lcm-log"


@pytest.fixture()
def log_key(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "log.key"
    lcm.keygen(path, name=ORIGIN)
    return path


def vkey(path: pathlib.Path) -> str:
    return pathlib.Path(f"{path}.vkey").read_text().strip()


def signed(store: lcm.Store, deployment: str, log_key: pathlib.Path, receipts: int) -> str:
    """Infers `receipts` requests, then returns the log's checkpoint signed with `log_key`."""
    store.infer(deployment, requests(receipts))
    return store.checkpoint(deployment, key=log_key)


def test_keygen_with_a_name_writes_the_verifier_key(tmp_path: pathlib.Path) -> None:
    plain = tmp_path / "plain.key"
    lcm.keygen(plain)
    assert not pathlib.Path(f"{plain}.vkey").exists()

    named = tmp_path / "named.key"
    key_id = lcm.keygen(named, name=ORIGIN)
    assert len(key_id) == 64
    assert vkey(named).startswith(ORIGIN + "+")
    assert pathlib.Path(f"{named}.pub").exists()

    witness = tmp_path / "witness.key"
    lcm.keygen(witness, name="witness.example", witness=True)
    assert vkey(witness).startswith("witness.example+")
    assert vkey(witness) != vkey(named)

    with pytest.raises(lcm.InputError):
        lcm.keygen(tmp_path / "bad.key", name="bad name with spaces")
    assert not (tmp_path / "bad.key").exists()
    with pytest.raises(lcm.InputError):
        lcm.keygen(named, name=ORIGIN)


def test_a_checkpoint_verifies(
    store: lcm.Store, deployment: str, log_key: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    text = signed(store, deployment, log_key, 3)
    assert text.startswith(ORIGIN + "\n3\n")
    report = lcm.verify_checkpoint(text, vkey(log_key))
    assert (report.origin, report.size, report.since, report.since_size) == (ORIGIN, 3, None, None)
    assert len(report.root) == 64 and int(report.root, 16) >= 0
    assert report.log_key == ORIGIN and report.witnesses == []

    # The same as files, and as bytes.
    path = tmp_path / "c.txt"
    path.write_text(text)
    vkey_file = pathlib.Path(f"{log_key}.vkey")
    assert lcm.verify_checkpoint(path, str(vkey_file)).root == report.root
    assert lcm.verify_checkpoint(str(path), vkey(log_key)).size == 3
    assert lcm.verify_checkpoint(text.encode(), vkey(log_key)).size == 3

    # The default origin, and one named.
    plain = tmp_path / "plain.key"
    lcm.keygen(plain)
    assert store.checkpoint(deployment, key=plain).startswith(f"lcm.local/{deployment}\n")
    assert store.checkpoint(deployment, key=plain, origin="o.example/x").startswith("o.example/x\n")


def test_a_newer_checkpoint_extends_the_older_by_the_proof(
    store: lcm.Store, deployment: str, log_key: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    old = signed(store, deployment, log_key, 3)
    store.infer(deployment, requests(5, start=3))
    new = store.checkpoint(deployment, key=log_key)
    proof = store.prove(deployment, old)
    assert proof and all(len(line) == 44 for line in proof.splitlines())

    report = lcm.verify_checkpoint(new, vkey(log_key), since=old, proof=proof)
    assert (report.size, report.since, report.since_size) == (8, "extends", 3)

    # The old checkpoint and the proof as files.
    old_path, proof_path = tmp_path / "old.txt", tmp_path / "proof.txt"
    old_path.write_text(old)
    proof_path.write_text(proof)
    assert store.prove(deployment, old_path) == proof
    assert lcm.verify_checkpoint(new, vkey(log_key), since=old_path, proof=proof_path).since == "extends"

    # The same checkpoint needs no proof; an empty log's proof is empty.
    same = lcm.verify_checkpoint(new, vkey(log_key), since=new)
    assert (same.since, same.since_size) == ("same", 8)
    assert store.prove(deployment, new) == ""

    # Without the proof it does not verify, nor with a tampered one.
    with pytest.raises(lcm.VerificationError):
        lcm.verify_checkpoint(new, vkey(log_key), since=old)
    lines = proof.splitlines()
    lines[0] = ("B" if lines[0][0] == "A" else "A") + lines[0][1:]
    with pytest.raises(lcm.VerificationError, match="^fork"):
        lcm.verify_checkpoint(new, vkey(log_key), since=old, proof="\n".join(lines) + "\n")


def test_swapped_order_is_a_rollback(
    store: lcm.Store, deployment: str, log_key: pathlib.Path
) -> None:
    old = signed(store, deployment, log_key, 2)
    store.infer(deployment, requests(2, start=2))
    new = store.checkpoint(deployment, key=log_key)
    with pytest.raises(lcm.VerificationError, match="^rollback"):
        lcm.verify_checkpoint(old, vkey(log_key), since=new)


def test_prove_refuses_a_checkpoint_that_is_not_a_state_of_the_log(
    tmp_path: pathlib.Path, lifecycle_doc: dict, deployment: str, log_key: pathlib.Path
) -> None:
    with lcm.Store(tmp_path / "a.db") as a, lcm.Store(tmp_path / "b.db") as b:
        for s in (a, b):
            s.record_lifecycle(lifecycle_doc, dataset_password="d", model_password="m")
        a.infer(deployment, requests(4))
        b.infer(deployment, requests(2, start=100))
        bigger = a.checkpoint(deployment, key=log_key)
        with pytest.raises(lcm.VerificationError, match="^rollback"):
            b.prove(deployment, bigger)
        b.infer(deployment, requests(2, start=200))
        with pytest.raises(lcm.VerificationError, match="^fork"):
            b.prove(deployment, bigger)
        with pytest.raises(lcm.InputError):
            b.prove(deployment, "not a checkpoint\n")


def test_a_tampered_checkpoint_fails(
    store: lcm.Store, deployment: str, log_key: pathlib.Path
) -> None:
    text = signed(store, deployment, log_key, 3)
    origin, size, root, rest = text.split("\n", 3)
    # One byte of the size, of the root, of the origin: the signature no longer holds.
    for tampered in (
        f"{origin}\n4\n{root}\n{rest}",
        f"{origin}\n{size}\n{('B' if root[0] == 'A' else 'A') + root[1:]}\n{rest}",
        f"{origin[:-1]}X\n{size}\n{root}\n{rest}",
    ):
        with pytest.raises(lcm.VerificationError, match="^signature"):
            lcm.verify_checkpoint(tampered, vkey(log_key))
    # A byte of the signature line.
    sig = text.index("\u2014 ") + 2 + len(ORIGIN) + 1 + 10
    flipped = text[:sig] + ("B" if text[sig] == "A" else "A") + text[sig + 1 :]
    with pytest.raises(lcm.VerificationError, match="^signature"):
        lcm.verify_checkpoint(flipped, vkey(log_key))
    # Not a checkpoint at all.
    with pytest.raises(lcm.InputError):
        lcm.verify_checkpoint("garbage\n", vkey(log_key))
    with pytest.raises(lcm.InputError):
        lcm.verify_checkpoint(text, "not a key")


def test_a_wrong_key_fails(
    store: lcm.Store, deployment: str, log_key: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    text = signed(store, deployment, log_key, 2)
    other = tmp_path / "other.key"
    lcm.keygen(other, name=ORIGIN)
    with pytest.raises(lcm.VerificationError, match="^signature"):
        lcm.verify_checkpoint(text, vkey(other))
    # An older checkpoint signed by another key is refused too.
    store.infer(deployment, requests(1, start=10))
    foreign = store.checkpoint(deployment, key=other)
    with pytest.raises(lcm.VerificationError, match="^signature"):
        lcm.verify_checkpoint(text, vkey(log_key), since=foreign)


def test_witness_quorum(
    store: lcm.Store, deployment: str, log_key: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    text = signed(store, deployment, log_key, 2)
    witness = tmp_path / "w.key"
    lcm.keygen(witness, name="witness.example", witness=True)
    assert lcm.verify_checkpoint(text, vkey(log_key), witnesses=[vkey(witness)]).size == 2
    with pytest.raises(lcm.VerificationError, match="^quorum"):
        lcm.verify_checkpoint(text, vkey(log_key), witnesses=[vkey(witness)], quorum=1)
