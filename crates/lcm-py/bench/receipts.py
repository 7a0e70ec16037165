"""Receipts per second: lcm's ``Store.infer`` (durable, in SQLite) against pyciaf's receipt
creation (in memory), on the same requests, in one run.

    pip install ./crates/lcm-py pyciaf==1.7.0
    python crates/lcm-py/bench/receipts.py [--requests 100000] [--runs 3]

lcm: one ``store.infer(deployment, requests)`` call with every request in one list; the
receipts are committed (fsync'd) before it returns. pyciaf 1.7.0:
``LCMInferenceConnections.add_receipt`` for each request, the reference's chained receipt
with its two commitments, kept in memory only (pyciaf has no store). Each run uses a fresh
store and a fresh pyciaf chain; the requests are built once, before either is timed.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import tempfile
import time

import lcm

ROOT = pathlib.Path(__file__).resolve().parents[3]
LIFECYCLE = ROOT / "examples" / "cli" / "lifecycle.json"


def requests(n: int) -> list[dict[str, str]]:
    return [
        {
            "request_id": f"req_{i:07d}",
            "query": f"Is there pneumonia in chest X-ray {i}?",
            "output": "Pneumonia detected (confidence: 91%)"
            if i % 3 == 0
            else "No pneumonia detected (confidence: 95%)",
        }
        for i in range(n)
    ]


def run_lcm(reqs: list[dict[str, str]]) -> float:
    doc = json.loads(LIFECYCLE.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        with lcm.Store(pathlib.Path(tmp) / "lcm.db") as store:
            store.record_lifecycle(doc, dataset_password="bench-d", model_password="bench-m")
            deployment = doc["deployment"]["deployment_id"]
            start = time.perf_counter()
            receipts = store.infer(deployment, reqs)
            elapsed = time.perf_counter() - start
            assert len(receipts) == len(reqs)
            assert receipts[-1].sequence == len(reqs) - 1
    return elapsed


def run_pyciaf(reqs: list[dict[str, str]]) -> float:
    from ciaf.lcm.inference_manager import LCMInferenceConnections

    chain = LCMInferenceConnections("bench")
    start = time.perf_counter()
    for r in reqs:
        chain.add_receipt(
            receipt_id=r["request_id"],
            model_anchor_ref="m_pneumonia_model@v1.0",
            deployment_anchor_ref="d_deploy_001",
            request_id=r["request_id"],
            query=r["query"],
            ai_output=r["output"],
        )
    elapsed = time.perf_counter() - start
    assert len(chain.receipts) == len(reqs)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pyciaf", action="store_true", help="time lcm only")
    args = parser.parse_args()
    reqs = requests(args.requests)
    lcm_times, py_times = [], []
    for run in range(args.runs):
        lcm_times.append(run_lcm(reqs))
        line = f"run {run + 1}: lcm {args.requests / lcm_times[-1]:,.0f} receipts/s (durable)"
        if not args.no_pyciaf:
            py_times.append(run_pyciaf(reqs))
            line += f", pyciaf {args.requests / py_times[-1]:,.0f} receipts/s (in memory)"
        print(line, flush=True)
    lcm_rate = args.requests / statistics.median(lcm_times)
    print(f"lcm.Store.infer, {args.requests:,} requests in one list: median {lcm_rate:,.0f} receipts/s")
    if py_times:
        py_rate = args.requests / statistics.median(py_times)
        print(f"pyciaf 1.7.0 add_receipt: median {py_rate:,.0f} receipts/s")
        print(f"ratio (lcm / pyciaf): {lcm_rate / py_rate:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
