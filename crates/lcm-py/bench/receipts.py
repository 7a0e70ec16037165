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
import contextlib
import io
import json
import os
import pathlib
import resource
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


def cpu() -> float:
    """This process's CPU time (user + system, all threads), in seconds."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_lcm(reqs: list[dict[str, str]]) -> tuple[float, float]:
    doc = json.loads(LIFECYCLE.read_text())
    with tempfile.TemporaryDirectory() as tmp:
        with lcm.Store(pathlib.Path(tmp) / "lcm.db") as store:
            store.record_lifecycle(doc, dataset_password="bench-d", model_password="bench-m")
            deployment = doc["deployment"]["deployment_id"]
            start, start_cpu = time.perf_counter(), cpu()
            receipts = store.infer(deployment, reqs)
            elapsed, used = time.perf_counter() - start, cpu() - start_cpu
            assert len(receipts) == len(reqs)
            assert receipts[-1].sequence == len(reqs) - 1
    return elapsed, used


def run_pyciaf(reqs: list[dict[str, str]]) -> tuple[float, float]:
    with contextlib.redirect_stdout(io.StringIO()):
        from ciaf.lcm.inference_manager import LCMInferenceConnections

    chain = LCMInferenceConnections("bench")
    # pyciaf prints a line per receipt: sent to a null sink, so the terminal is not timed.
    sink = open(os.devnull, "w")
    start, start_cpu = time.perf_counter(), cpu()
    with contextlib.redirect_stdout(sink):
        for r in reqs:
            chain.add_receipt(
                receipt_id=r["request_id"],
                model_anchor_ref="m_pneumonia_model@v1.0",
                deployment_anchor_ref="d_deploy_001",
                request_id=r["request_id"],
                query=r["query"],
                ai_output=r["output"],
            )
    elapsed, used = time.perf_counter() - start, cpu() - start_cpu
    sink.close()
    assert len(chain.receipts) == len(reqs)
    return elapsed, used


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-pyciaf", action="store_true", help="time lcm only")
    args = parser.parse_args()
    reqs = requests(args.requests)
    n = args.requests
    lcm_runs, py_runs = [], []
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs", flush=True)
    for run in range(args.runs):
        lcm_runs.append(run_lcm(reqs))
        wall, used = lcm_runs[-1]
        line = f"run {run + 1}: lcm {n / wall:,.0f} receipts/s durable ({used:.2f} s CPU)"
        if not args.no_pyciaf:
            py_runs.append(run_pyciaf(reqs))
            wall, used = py_runs[-1]
            line += f"; pyciaf {n / wall:,.0f} receipts/s in memory ({used:.2f} s CPU)"
        print(line, flush=True)
    lcm_rate = n / statistics.median(w for w, _ in lcm_runs)
    lcm_best = n / min(w for w, _ in lcm_runs)
    print(f"lcm.Store.infer, {n:,} requests in one list: median {lcm_rate:,.0f}, best {lcm_best:,.0f} receipts/s")
    if py_runs:
        py_rate = n / statistics.median(w for w, _ in py_runs)
        print(f"pyciaf 1.7.0 add_receipt: median {py_rate:,.0f} receipts/s")
        print(f"ratio of medians (lcm / pyciaf): {lcm_rate / py_rate:.1f}x")
        lcm_cpu = statistics.median(c for _, c in lcm_runs)
        py_cpu = statistics.median(c for _, c in py_runs)
        print(f"CPU time per receipt: lcm {lcm_cpu / n * 1e6:.2f} us, pyciaf {py_cpu / n * 1e6:.2f} us ({py_cpu / lcm_cpu:.1f}x)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
