"""The binding on a PostgreSQL store: the same calls as on SQLite, in a fresh schema of the
server named by LCM_TEST_POSTGRES_URL (created and dropped with psql); skipped, saying so,
when that variable is not set."""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import time

import pytest

import lcm
from conftest import requests

URL = os.environ.get("LCM_TEST_POSTGRES_URL", "")

pytestmark = pytest.mark.skipif(
    not URL, reason="PostgreSQL leg skipped (LCM_TEST_POSTGRES_URL is not set)"
)


def lcm_redacted(url: str) -> str:
    """The URL with a `user:password@` password replaced by `***`, as lcm prints it."""
    scheme, rest = url.split("://", 1)
    if "@" in rest and ":" in rest[: rest.rindex("@")]:
        user = rest[: rest.rindex("@")].split(":", 1)[0]
        rest = f"{user}:***@{rest[rest.rindex('@') + 1:]}"
    return f"{scheme}://{rest}"


def psql(sql: str) -> None:
    if shutil.which("psql") is None:
        pytest.skip("psql is needed to make the test schema")
    subprocess.run(["psql", URL, "-qc", sql], check=True)


@pytest.fixture()
def pg_location():
    schema = f"lcm_py_{os.getpid()}_{time.monotonic_ns()}"
    psql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in URL else "?"
    try:
        yield f"{URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def test_a_postgres_store_records_appends_exports_and_checks(
    pg_location: str, lifecycle_doc: dict, deployment: str, key: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    with lcm.Store(pg_location) as s:
        assert s.schema_version > 0
        assert repr(s).startswith('Store("postgres://')
        # The URL as given (not folded into a path), its password hidden.
        assert s.path == lcm_redacted(pg_location)
        s.record_lifecycle(lifecycle_doc, dataset_password="d-pass", model_password="m-pass")
        receipts = s.infer(deployment, requests(50))
        assert [r.sequence for r in receipts] == list(range(50))
    # Opened again: what was appended is there, and the chain goes on after it.
    with lcm.Store(pg_location) as s:
        more = s.infer(deployment, requests(5, start=50))
        assert more[0].sequence == 50
        report = s.check()
        assert report["receipts"] == 55
        out = tmp_path / "bundle.json"
        s.export(deployment, key=key, out=out)
        assert lcm.verify(out, key=f"{key}.pub").valid
        header = tmp_path / "header.json"
        s.header(deployment, key=key, out=header)
        capsule = tmp_path / "capsule.json"
        s.materialize(receipts[7].receipt_id, header=header, out=capsule)
        assert lcm.verify(capsule, key=f"{key}.pub", header=header).valid
        # Tamper twin: another receipt id inside the capsule fails verification.
        text = capsule.read_text()
        rid = receipts[7].receipt_id
        assert f'"{rid}"' in text
        tampered = tmp_path / "tampered.json"
        tampered.write_text(text.replace(f'"{rid}"', f'"{receipts[8].receipt_id}"'))
        with pytest.raises(lcm.VerificationError, match="record digest"):
            lcm.verify(tampered, key=f"{key}.pub", header=header)
        # A repeated request id is refused as on SQLite.
        with pytest.raises(lcm.Error, match="req_0"):
            s.infer(deployment, requests(1))
