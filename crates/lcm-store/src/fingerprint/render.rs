//! The text and JSON forms `lcm fingerprint` prints for a [`Manifest`] and a
//! [`ManifestDiff`], kept here so that every front end prints the same lines.

use std::path::Path;

use serde_json::{Value, json};

use super::{Kind, Manifest, ManifestDiff};

impl Manifest {
    /// Writes the manifest as pretty JSON to `file` (`lcm fingerprint --out FILE`), replacing
    /// it atomically ([`crate::files::write_replacing`]); [`Manifest::from_json`] reads it back.
    ///
    /// # Errors
    ///
    /// [`crate::files::FileError`] when the file cannot be written.
    pub fn save(&self, file: &Path) -> Result<(), crate::files::FileError> {
        let json =
            serde_json::to_vec_pretty(self).map_err(|source| crate::files::FileError::Json {
                path: file.to_path_buf(),
                source,
            })?;
        crate::files::write_replacing(file, &json)
    }

    /// The summary lines: `DIGEST  PATH` for a file (`DIGEST  PATH/  (N files, ALG tree)` for a
    /// directory), then `ROOT  PATH (parameter fingerprint: N tensors, M elements)` when the
    /// manifest has a model file. With `parts`, then one line per file
    /// (`file<TAB>DIGEST<TAB>BYTES<TAB>PATH`) and per tensor
    /// (`tensor<TAB>DIGEST<TAB>FILE<TAB>NAME`).
    pub fn text_lines(&self, parts: bool) -> Vec<String> {
        let shown = &self.path;
        let mut out = vec![match self.kind {
            Kind::File => format!("{}  {shown}", self.digest),
            Kind::Directory => format!(
                "{}  {shown}/  ({} files, {} tree)",
                self.digest,
                self.files.len(),
                self.algorithm
            ),
        }];
        if let Some(p) = self.model_parameters() {
            let from = match (self.kind, &self.model) {
                (Kind::Directory, Some(model)) => format!("{shown}/{model}"),
                _ => shown.clone(),
            };
            out.push(format!(
                "{}  {from} (parameter fingerprint: {} tensors, {} elements)",
                p.root,
                p.tensors.len(),
                p.elements
            ));
        }
        if parts {
            for f in &self.files {
                out.push(format!("file\t{}\t{}\t{}", f.digest, f.bytes, f.path));
                for (name, d) in f.parameters.iter().flat_map(|p| &p.tensors) {
                    out.push(format!("tensor\t{d}\t{}\t{name}", f.path));
                }
            }
        }
        out
    }

    /// The one-object summary `lcm --json fingerprint` prints: `path`, `type`, `algorithm`,
    /// `digest`, then `bytes` for a file or `files` (the count) for a directory, and
    /// `parameters` (`root`, `tensors` count, `elements`, and `file` in a directory) when the
    /// manifest has a model file.
    pub fn summary_json(&self) -> Value {
        let mut v = json!({"path": self.path, "type": self.kind, "algorithm": self.algorithm,
            "digest": self.digest});
        if let Some(obj) = v.as_object_mut() {
            match self.kind {
                Kind::File => obj.insert("bytes".into(), self.bytes.into()),
                Kind::Directory => obj.insert("files".into(), self.files.len().into()),
            };
            if let Some(p) = self.model_parameters() {
                let mut params =
                    json!({"root": p.root, "tensors": p.tensors.len(), "elements": p.elements});
                if let (Kind::Directory, Some(model), Some(o)) =
                    (self.kind, &self.model, params.as_object_mut())
                {
                    o.insert("file".into(), model.clone().into());
                }
                obj.insert("parameters".into(), params);
            }
        }
        v
    }
}

impl ManifestDiff {
    /// The object `lcm --json fingerprint diff A B` prints: `equal`, `algorithm`, `a` and `b`
    /// (`path`, `type`, `digest`), and `files` and `tensors` as `{"change", "name"}` lists.
    pub fn to_json(&self, a: &Manifest, b: &Manifest) -> Value {
        json!({
            "equal": self.equal,
            "algorithm": a.algorithm,
            "a": {"path": a.path, "type": a.kind, "digest": a.digest},
            "b": {"path": b.path, "type": b.kind, "digest": b.digest},
            "files": self.files,
            "tensors": self.tensors,
        })
    }

    /// One line per change, `VERB<TAB>file|tensor<TAB>NAME` (files first), or `identical` when
    /// there is none and the fingerprints are equal; `differ` ends the list otherwise.
    pub fn text_lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .files
            .iter()
            .map(|c| format!("{}\tfile\t{}", c.verb(), c.name()))
            .chain(
                self.tensors
                    .iter()
                    .map(|c| format!("{}\ttensor\t{}", c.verb(), c.name())),
            )
            .collect();
        out.push(if self.equal { "identical" } else { "differ" }.to_owned());
        out
    }

    /// The error `lcm fingerprint diff A B` ends with when the fingerprints differ: `A and B
    /// differ (N files and M tensors)`.
    pub fn differ_message(&self, a: &Path, b: &Path) -> String {
        use crate::lifecycle::views::plural;
        format!(
            "{} and {} differ ({} and {})",
            a.display(),
            b.display(),
            plural(self.files.len(), "file", "files"),
            plural(self.tensors.len(), "tensor", "tensors")
        )
    }
}
