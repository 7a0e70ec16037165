"""lcm: verifiable AI lifecycle records (CIAF LCM) for Python.

Record a model's lifecycle -- dataset splits, model, training, pre-deployment, deployment,
test evaluation, release -- in a store, make a chained, durable receipt for every inference,
seal receipts into batches, export signed headers, bundles and capsules, and verify them
offline. The work is done by the Rust crates of lcm (``lcm-store`` and the library crates);
this package is their binding, built with PyO3 as an abi3 extension module.

Contracts::

    import lcm
    lcm.keygen(path)                     # PATH (0600) and PATH.pub, as `lcm keygen --out`
    store = lcm.Store(path)              # opens, creating and initialising if missing
    store.record_lifecycle(doc, dataset_password=..., model_password=...)
    receipts = store.infer(deployment, requests)   # .receipt_id, .sequence, .digest
    store.close_batch(deployment)
    store.export(deployment, key=path, out=path)
    report = lcm.verify(path, key=public_key_path)  # .checks; raises VerificationError,
                                                    # InputError (both lcm.Error)
    lcm.keygen(log_key, name=origin)     # also PATH.vkey, the log's C2SP verifier key
    text = store.checkpoint(deployment, key=log_key)   # a signed C2SP checkpoint
    proof = store.prove(deployment, old_text)          # consistency proof from an older one
    lcm.verify_checkpoint(text, vkey, since=old_text, proof=proof)  # .size, .root, .since
"""

from lcm._lcm import (
    Batch,
    Check,
    CheckpointReport,
    Error,
    Finding,
    Fingerprint,
    InputError,
    ParameterFingerprint,
    PyciafAudit,
    Receipt,
    Report,
    Requirements,
    Store,
    StoredRecord,
    StoreError,
    VerificationError,
    __version__,
    audit_pyciaf_header,
    fingerprint,
    keygen,
    verify,
    verify_bytes,
    verify_checkpoint,
)

# A VerificationError raised by a verifier carries its report; one raised by a store (a
# broken link found while resolving a release, a failed `Store.check`) has none.
VerificationError.report = None

__all__ = [
    "Batch",
    "Check",
    "CheckpointReport",
    "Error",
    "Finding",
    "Fingerprint",
    "InputError",
    "ParameterFingerprint",
    "PyciafAudit",
    "Receipt",
    "Report",
    "Requirements",
    "Store",
    "StoredRecord",
    "StoreError",
    "VerificationError",
    "__version__",
    "audit_pyciaf_header",
    "fingerprint",
    "keygen",
    "verify",
    "verify_bytes",
    "verify_checkpoint",
]
