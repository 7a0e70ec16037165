//! `lcm header` and `lcm export` as data: the signed document of a lifecycle as text, and
//! what is said about it once it is written to a file.

use std::io::Write;
use std::path::Path;

use lcm_capsule::{Capsule, CapsuleHeader, DocumentKind};
use lcm_crypto::SigningKey;
use lcm_model::Timestamp;
use serde_json::{Value, json};

use crate::lifecycle::views::plural;
use crate::{Error, Store};

/// How [`write_document`] lays a document out as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Layout {
    /// Indented by two spaces (`lcm header` and `lcm export` without `--compact`).
    #[default]
    Indented,
    /// One line, no white space between tokens: the same JSON value in fewer bytes (a bundle
    /// of 10^6 receipts in 0.62 of its indented size).
    Compact,
}

impl Layout {
    /// The layout `lcm header` and `lcm export` write: compact with `--compact`.
    pub fn compact_if(compact: bool) -> Self {
        if compact {
            Self::Compact
        } else {
            Self::Indented
        }
    }

    /// The indentation of [`CapsuleHeader::to_json`] for this layout.
    fn indent(self) -> Option<usize> {
        match self {
            Self::Indented => Some(2),
            Self::Compact => None,
        }
    }
}

/// A document to write: its kind and its [`Layout`] (indented unless given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Document {
    /// The header or the whole bundle.
    pub kind: DocumentKind,
    /// Indented or compact.
    pub layout: Layout,
}

impl From<DocumentKind> for Document {
    fn from(kind: DocumentKind) -> Self {
        Self {
            kind,
            layout: Layout::Indented,
        }
    }
}

/// The signed header of the lifecycle of `deployment` ([`super::header`]), or with `kind`
/// [`DocumentKind::Bundle`] its whole bundle ([`super::bundle`]'s, streamed by
/// [`super::write_bundle`]), made at `now`: the header and the document as indented JSON (no
/// final newline).
///
/// # Errors
///
/// As [`write_document`].
pub fn document(
    store: &dyn Store,
    deployment: &str,
    kind: DocumentKind,
    now: Timestamp,
    key: &SigningKey,
) -> Result<(CapsuleHeader, String), Error> {
    let mut text = Vec::new();
    let (header, _) = write_document(store, deployment, kind, None, now, key, &mut text)?;
    let text = String::from_utf8(text).map_err(|_| Error::NotUtf8)?;
    Ok((header, text))
}

/// [`document`] written to `out` as it is made (a bundle's receipts as they are scanned,
/// nothing held per receipt) in the layout `doc` gives (a bare [`DocumentKind`] is indented),
/// its header naming the log origin `origin` (default `lcm.local/DEPLOYMENT`, see
/// [`super::header_named`]): the header and the number of bytes written (no final newline).
///
/// # Errors
///
/// As [`super::header`] and [`super::write_bundle`]; [`Error::Write`] when `out` fails.
pub fn write_document(
    store: &dyn Store,
    deployment: &str,
    doc: impl Into<Document>,
    origin: Option<&str>,
    now: Timestamp,
    key: &SigningKey,
    out: &mut dyn Write,
) -> Result<(CapsuleHeader, u64), Error> {
    let Document { kind, layout } = doc.into();
    if kind == DocumentKind::Bundle {
        return super::write_bundle_as(store, deployment, origin, now, key, layout, out);
    }
    let (header, _) = super::header_named(store, deployment, origin, now, key)?;
    let text = header.to_json(layout.indent())?;
    out.write_all(text.as_bytes()).map_err(Error::Write)?;
    Ok((header, text.len() as u64))
}

/// What `header` and `export` say once they wrote the document of `kind` (`bytes` long,
/// without its final newline) of `deployment` to `path`: the JSON object a script needs (the
/// path, the header digest and key id, the receipts) and the line a person reads.
///
/// # Errors
///
/// The header's digest cannot be computed (capsule errors).
pub fn written(
    kind: DocumentKind,
    path: &Path,
    deployment: &str,
    header: &CapsuleHeader,
    bytes: usize,
) -> Result<(Value, String), Error> {
    let digest = header.digest()?;
    let inference = header.stage_g_inference.as_ref();
    let receipts = inference.map_or(0, |g| g.receipt_count);
    let batches = inference.map_or(0, |g| g.batches.len());
    let value = json!({
            "kind": kind.name(),
            "path": path.display().to_string(),
            "bytes": bytes.saturating_add(1),
            "deployment": deployment,
            "header_digest": digest,
            "key_id": header.signature.key_id.to_hex(),
            "generated_at": header.generated_at,
            "receipts": receipts,
            "batches": batches,
            "receipts_root": inference.map(|g| g.receipts_root),
            "chain_head": inference.and_then(|g| g.chain_head),
            "release_root": header.stage_h_roots.as_ref().map(|h| h.release_root),
            "synthetic": header.synthetic,
    });
    let text = format!(
        "wrote {} {}: header {digest} of {deployment}, {}, {}, signed by key {}",
        kind.name(),
        path.display(),
        plural(receipts, "receipt", "receipts"),
        plural(batches, "batch", "batches"),
        header.signature.key_id
    );
    Ok((value, text))
}

/// What `materialize --out PATH` says once it wrote the capsule `text` (without its final
/// newline) to `path`: the path, its size and the capsule's facts as `lcm inspect` gives them
/// (`header_digest`, `item`), and the line a person reads.
///
/// # Errors
///
/// The capsule does not parse (capsule errors).
pub fn capsule_written(path: &Path, text: &str) -> Result<(Value, String), Error> {
    let summary = lcm_capsule::summarize(DocumentKind::Capsule, text)?;
    let mut value = json!({"kind": DocumentKind::Capsule.name(),
        "path": path.display().to_string(), "bytes": text.len().saturating_add(1)});
    if let Value::Object(map) = &mut value {
        map.extend(summary.facts);
    }
    let line = format!(
        "wrote capsule {}: {}",
        path.display(),
        summary.lines.join("; ")
    );
    Ok((value, line))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::demo;

    #[test]
    fn documents_of_the_demo_are_signed_and_described() {
        let (store, dir, deployment, key) = demo::tests::demo_store("export-document", 4);
        let now = Timestamp::now();
        let (header, text) =
            document(&*store, &deployment, DocumentKind::Header, now, &key).unwrap();
        assert_eq!(CapsuleHeader::from_json(&text).unwrap(), header);
        let (bundled, bundle) =
            document(&*store, &deployment, DocumentKind::Bundle, now, &key).unwrap();
        assert_eq!(
            lcm_capsule::Bundle::from_json(&bundle).unwrap().header,
            bundled
        );
        assert_eq!(
            DocumentKind::of_json(&bundle).unwrap(),
            Some(DocumentKind::Bundle)
        );

        let path = dir.join("header.json");
        let (value, line) = written(
            DocumentKind::Header,
            &path,
            &deployment,
            &header,
            text.len(),
        )
        .unwrap();
        assert_eq!(value["bytes"], text.len() + 1);
        assert_eq!(value["receipts"], 4);
        assert_eq!(value["header_digest"], json!(header.digest().unwrap()));
        assert!(
            line.contains(", 4 receipts, 4 batches, signed by key "),
            "{line}"
        );
        assert!(
            line.starts_with(&format!("wrote header {}", path.display())),
            "{line}"
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// Why [`materialize`] refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaterializeError {
    /// A deployment was named, and the header is another deployment's.
    #[error("--deployment {given}, but this is the header of deployment {named}")]
    OtherDeployment {
        /// The deployment named.
        given: String,
        /// The header's deployment.
        named: String,
    },
    /// The header is not a state of the deployment's chain in the store
    /// ([`super::check_header_of`]).
    #[error("{0}")]
    Header(Error),
    /// The receipt's capsule cannot be made against the header.
    #[error("{0}")]
    Capsule(lcm_capsule::Error),
    /// The store failed, or holds no such receipt.
    #[error(transparent)]
    Store(#[from] Error),
}

/// `lcm materialize`: the capsule of receipt `receipt_id` against `header`, from the chain of
/// `deployment` (by default the deployment the header names), with the query and output
/// disclosed when given (each checked against its commitment). The log's proof is read from
/// its tiles: `O(log n)` reads.
///
/// # Errors
///
/// [`MaterializeError::OtherDeployment`] when `deployment` is not the header's;
/// [`MaterializeError::Header`] when the header is not a state of the chain;
/// [`MaterializeError::Capsule`] when the capsule cannot be made (for example a disclosure that
/// does not open its commitment); [`MaterializeError::Store`] otherwise.
pub fn materialize(
    store: &dyn Store,
    deployment: Option<&str>,
    header: &CapsuleHeader,
    receipt_id: &str,
    (query, output): (Option<&str>, Option<&str>),
) -> Result<Capsule, MaterializeError> {
    let named = header
        .stage_e_deployment
        .as_ref()
        .map(|e| e.deployment_id.as_str());
    if let (Some(given), Some(named)) = (deployment, named)
        && given != named
    {
        return Err(MaterializeError::OtherDeployment {
            given: given.to_owned(),
            named: named.to_owned(),
        });
    }
    let deployment = super::chain_of(store, deployment.or(named))?;
    let log =
        super::check_header_of(store, &deployment, header).map_err(MaterializeError::Header)?;
    let receipt = super::receipt(store, &deployment, receipt_id)?;
    let disclosure = super::disclosure(store, &deployment, &receipt, query, output)?;
    lcm_capsule::materialize_receipt(header, &*log, &receipt, disclosure)
        .map_err(MaterializeError::Capsule)
}
