//! The Python binding of `lcm`: the extension module `lcm._lcm`, re-exported by the pure-Python
//! package `lcm` (`crates/lcm-py/python/lcm`).
//!
//! It binds `lcm-store` and the library crates, never the command-line tool: a
//! `lcm.Store` is a `Box<dyn lcm_store::Store>` behind a mutex, and every method calls the
//! same `lcm_store` functions that the `lcm` commands call, so the files it writes are the ones
//! `lcm` writes. Long work (PBKDF2, receipts, export, checkpoints and consistency proofs,
//! verification, fingerprints) runs with the GIL released (`Python::detach`).
//!
//! Errors become Python exceptions under `lcm.Error`: `lcm.VerificationError` when a check
//! failed (it carries the report), `lcm.InputError` for malformed input, arguments or files, and
//! `lcm.StoreError` when the store's backend fails or holds something this build cannot read.
//!
//! Unsafe code: the workspace's `forbid(unsafe_code)` holds here too. `PyO3`'s macros expand
//! to code that is checked where it is defined (in `pyo3`), so this crate needs no exception.

/// The Python `__repr__` of the pyclass `$ty` (which has no other method): `$fmt` over the
/// `$arg`s, which name the instance `$this`.
macro_rules! py_repr {
    ($ty:ident, $this:ident, $fmt:literal, $($arg:expr),+ $(,)?) => {
        #[pyo3::pymethods]
        impl $ty {
            fn __repr__(&self) -> String {
                let $this = self;
                format!($fmt, $($arg),+)
            }
        }
    };
}

mod convert;
mod errors;
mod files;
mod records;
mod store;
mod tlog;
mod verify;

use pyo3::prelude::*;

/// The extension module `lcm._lcm`.
#[pymodule]
fn _lcm(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("Error", py.get_type::<errors::Error>())?;
    m.add(
        "VerificationError",
        py.get_type::<errors::VerificationError>(),
    )?;
    m.add("InputError", py.get_type::<errors::InputError>())?;
    m.add("StoreError", py.get_type::<errors::StoreError>())?;
    m.add_class::<store::PyStore>()?;
    m.add_class::<records::StoredRecord>()?;
    m.add_class::<records::Receipt>()?;
    m.add_class::<records::Batch>()?;
    m.add_class::<verify::Requirements>()?;
    m.add_class::<verify::Report>()?;
    m.add_class::<verify::Check>()?;
    m.add_class::<files::Fingerprint>()?;
    m.add_class::<files::ParameterFingerprint>()?;
    m.add_class::<files::PyciafAudit>()?;
    m.add_class::<files::Finding>()?;
    m.add_class::<tlog::CheckpointReport>()?;
    m.add_function(wrap_pyfunction!(files::keygen, m)?)?;
    m.add_function(wrap_pyfunction!(tlog::verify_checkpoint, m)?)?;
    m.add_function(wrap_pyfunction!(files::fingerprint, m)?)?;
    m.add_function(wrap_pyfunction!(files::audit_pyciaf_header, m)?)?;
    m.add_function(wrap_pyfunction!(verify::verify, m)?)?;
    m.add_function(wrap_pyfunction!(verify::verify_bytes, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
