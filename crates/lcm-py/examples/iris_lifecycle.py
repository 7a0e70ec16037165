"""A scikit-learn model's lifecycle recorded with lcm, from Python.

Train a logistic regression on the iris dataset that ships with scikit-learn, record the
dataset splits, the model, the training (one checkpoint per epoch of a warm-started solver),
the pre-deployment, the deployment and the test evaluation, answer predictions with one
durable receipt each, seal them into a batch, export the signed bundle and verify it, as an
auditor would, offline.

    pip install ./crates/lcm-py scikit-learn
    python crates/lcm-py/examples/iris_lifecycle.py [OUT_DIR]

Exits 0 when the bundle verifies; it also shows that a bundle changed by one byte does not.
"""

from __future__ import annotations

import hashlib
import json
import pathlib
import struct
import sys
import tempfile
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, log_loss, precision_score, recall_score
from sklearn.model_selection import train_test_split

import lcm

FAMILY = "iris_v1"
MODEL, VERSION = "iris_logreg", "v1.0"
SESSION, DEPLOYMENT = "iris_train_001", "iris_api_001"


def safetensors(tensors: dict[str, np.ndarray]) -> bytes:
    """The model's weights as a safetensors file (so lcm fingerprints them per tensor)."""
    header, data = {}, b""
    for name, array in tensors.items():
        raw = np.ascontiguousarray(array, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(array.shape), "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header).encode()
    return struct.pack("<Q", len(text)) + text + data


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(out: pathlib.Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    iris = load_iris()
    ids = np.array([f"iris_{i:03d}" for i in range(len(iris.target))])
    X_train, X_rest, y_train, y_rest, id_train, id_rest = train_test_split(
        iris.data, iris.target, ids, test_size=0.4, random_state=42, stratify=iris.target
    )
    X_val, X_test, y_val, y_test, id_val, id_test = train_test_split(
        X_rest, y_rest, id_rest, test_size=0.5, random_state=42, stratify=y_rest
    )

    key = out / "signing.key"
    if not key.exists():
        lcm.keygen(key)
    store = lcm.Store(out / "lcm.db")

    def split(ids_: np.ndarray, ratio: float) -> dict:
        return {
            "sample_count": len(ids_),
            "record_ids": [str(i) for i in ids_],
            "rng_seed": 42,
            "selection_rules": {"method": "stratified", "ratio": ratio},
            "stratify_by": ["species"],
        }

    # Stage A: the dataset family and its three splits.
    store.record_dataset(
        {
            "family_id": FAMILY,
            "metadata": {
                "name": "iris",
                "version": "v1.0",
                "owner": "scikit-learn",
                "license": "BSD-3-Clause",
                "description": "Fisher's iris flowers, as shipped with scikit-learn",
                "tags": ["tabular", "classification"],
                "contains_pii": False,
                "privacy_level": "public",
                "compliance_frameworks": [],
            },
            "splits": {"train": split(id_train, 0.6), "val": split(id_val, 0.2), "test": split(id_test, 0.2)},
        },
        password="iris-dataset-password",
    )

    # Stage B: the model, authorized on the family.
    params = {"C": 1.0, "solver": "lbfgs", "max_iter_per_epoch": 5, "epochs": 8}
    store.record_model(
        {
            "model_name": MODEL,
            "version": VERSION,
            "authorized_datasets": [FAMILY],
            "architecture": {
                "type": "LogisticRegression",
                "layers": [{"type": "linear", "units": 3}, {"type": "softmax"}],
                "input_dim": 4,
                "output_dim": 3,
                "total_params": 15,
            },
            "hyperparameters": params,
            "environment": {
                "framework": "scikit-learn",
                "framework_version": sklearn.__version__,
                "python_version": sys.version.split()[0],
                "os_info": sys.platform,
                "hardware": "cpu",
                "dependencies": {"numpy": np.__version__},
            },
            "trainer_commit": "examples/iris_lifecycle.py",
        },
        password="iris-model-password",
    )

    # Stage C: train, one checkpoint per epoch (the solver warm-starts from the last one).
    clf = LogisticRegression(C=params["C"], max_iter=params["max_iter_per_epoch"], warm_start=True)
    checkpoints, series = [], {"train": [], "val": []}
    for epoch in range(1, params["epochs"] + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X_train, y_train)
        weights = safetensors({"coef": clf.coef_, "intercept": clf.intercept_})
        series["train"].append(log_loss(y_train, clf.predict_proba(X_train)))
        series["val"].append(log_loss(y_val, clf.predict_proba(X_val)))
        checkpoints.append(
            {
                "checkpoint_id": f"epoch_{epoch}",
                "epoch": epoch,
                "step": epoch * params["max_iter_per_epoch"],
                "metrics": {
                    "loss": series["train"][-1],
                    "val_loss": series["val"][-1],
                    "val_accuracy": accuracy_score(y_val, clf.predict(X_val)),
                },
                "model_state_digest": sha256_hex(weights),
                "optimizer_state_digest": sha256_hex(json.dumps(clf.get_params(), sort_keys=True).encode()),
            }
        )
    store.record_training(
        {
            "session_id": SESSION,
            "model": f"{MODEL}@{VERSION}",
            "family_id": FAMILY,
            "training_config": params,
            "checkpoints": checkpoints,
        }
    )
    model_file = out / "model.safetensors"
    model_file.write_bytes(safetensors({"coef": clf.coef_, "intercept": clf.intercept_}))
    fingerprint = lcm.fingerprint(model_file)
    print(f"model weights {fingerprint.digest} ({len(fingerprint.parameters.tensors)} tensors)")
    epochs = list(range(1, params["epochs"] + 1))
    store.record_training(
        {
            "session_id": SESSION,
            "final_model_digest": fingerprint.digest,
            "metrics": {
                "train_metrics": {"loss": series["train"]},
                "val_metrics": {"loss": series["val"]},
                "epochs": epochs,
            },
            "user_id": "data_scientist",
        }
    )

    # Stages D and E: the release candidate and its deployment.
    store.record_predeployment(
        {
            "predeployment_id": "iris_predeploy_001",
            "session_id": SESSION,
            "build_artifact": {
                "artifact_type": "safetensors",
                "artifact_digest": f"sha256:{fingerprint.digest}",
                "build_timestamp": "2026-01-01T00:00:00.000000Z",
                "builder_info": "examples/iris_lifecycle.py",
                "size_bytes": fingerprint.size,
            },
            "sbom": {
                "dependencies": {"scikit-learn": sklearn.__version__, "numpy": np.__version__},
                "security_scan_digest": sha256_hex(b"no scan in this example"),
                "vulnerability_count": 0,
                "compliance_status": "passed",
            },
            "approval_ticket_id": "IRIS-1",
            "intended_env": "staging",
            "intended_region": "local",
        }
    )
    store.record_deployment(
        {
            "deployment_id": DEPLOYMENT,
            "predeployment_id": "iris_predeploy_001",
            "infrastructure": {"host": "localhost"},
            "network_config": {},
            "deployed_by": "ml_engineer",
        }
    )

    # Stage F: the test evaluation, then the release root.
    predicted = clf.predict(X_test)
    store.record_test(
        {
            "test_id": "iris_test_001",
            "family_id": FAMILY,
            "split": "test",
            "evaluation_type": "pre_deploy",
            "metrics": {
                "accuracy": accuracy_score(y_test, predicted),
                "precision": precision_score(y_test, predicted, average="macro"),
                "recall": recall_score(y_test, predicted, average="macro"),
                "f1_score": f1_score(y_test, predicted, average="macro"),
            },
        }
    )
    store.record_release(DEPLOYMENT, "iris_test_001")

    # Stage G: serve predictions, one durable receipt each.
    requests = []
    for record_id, features in zip(id_test, X_test):
        proba = clf.predict_proba([features])[0]
        label = iris.target_names[int(np.argmax(proba))]
        requests.append(
            {
                "request_id": str(record_id),
                "query": {"features": [float(x) for x in features]},
                "output": {"species": str(label), "probability": round(float(max(proba)), 6)},
                "output_metadata": {"model": f"{MODEL}@{VERSION}"},
            }
        )
    receipts = store.infer(DEPLOYMENT, requests)
    batch = store.close_batch(DEPLOYMENT)
    print(f"{len(receipts)} predictions, one receipt each; batch {batch.window_id} root {batch.root}")

    # Export the signed bundle and verify it.
    bundle = out / "bundle.json"
    store.export(DEPLOYMENT, key=key, out=bundle)
    report = lcm.verify(bundle, key=f"{key}.pub")
    print(f"{bundle}: valid {report.kind}, {len(report.checks)} checks, key {report.key_id[:16]}...")

    # One receipt's capsule, disclosing its query, against the signed header.
    header = out / "header.json"
    store.header(DEPLOYMENT, key=key, out=header)
    capsule = out / "capsule.json"
    store.materialize(receipts[0].receipt_id, header=header, query=requests[0]["query"], out=capsule)
    assert lcm.verify(capsule, key=f"{key}.pub", header=header).valid

    # What an auditor sees when the bundle was changed by one byte.
    text = bundle.read_text()
    changed = text.replace(receipts[0].digest, receipts[0].digest[:-1] + ("0" if receipts[0].digest[-1] != "0" else "1"), 1)
    try:
        lcm.verify_bytes(changed, key=f"{key}.pub")
    except lcm.VerificationError as e:
        print(f"a bundle changed by one byte is refused: {e}")
    else:
        print("error: a changed bundle verified")
        return 1
    store.close()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1:
        sys.exit(main(pathlib.Path(sys.argv[1])))
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(main(pathlib.Path(tmp)))
