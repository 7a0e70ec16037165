//! `lcm fingerprint` and `lcm fingerprint diff` (arguments in, the library's manifests,
//! `lcm_store::fingerprint`, out; every path is tried, the failures are reported as they
//! happen and decide the exit code at the end), and `lcm schema`, which prints the library's
//! input-file schemas (`lcm_store::lifecycle::schema`).

use lcm_crypto::HashAlgorithm;
use lcm_store::fingerprint::Manifest;

use crate::cli::{Cli, FingerprintArgs, FingerprintCommand};
use crate::error::{CliError, input, one_line};
use crate::io::{Out, plural};
use crate::progress::Progress;

pub(crate) fn fingerprint(
    cli: &Cli,
    out: &mut Out,
    args: &FingerprintArgs,
) -> Result<(), CliError> {
    let algorithm = args.algorithm.into();
    if let Some(FingerprintCommand::Diff { a, b }) = &args.command {
        return diff(cli, out, algorithm, a, b);
    }
    if args.out.is_some() && args.paths.len() != 1 {
        return Err(input(format!(
            "--out writes the manifest of one path, not {}",
            args.paths.len()
        )));
    }
    // Each failure is reported as the next one happens (the last one ends the command), and
    // the other paths are still fingerprinted.
    let mut failed = 0usize;
    let mut last_failure: Option<String> = None;
    for path in &args.paths {
        let manifest = match build(algorithm, path, Manifest::build) {
            Ok(m) => m,
            Err(e) => {
                if let Some(earlier) = last_failure.replace(e.to_string()) {
                    out.flush()?;
                    eprintln!("lcm: {}", one_line(&earlier));
                }
                failed += 1;
                continue;
            }
        };
        if let Some(file) = &args.out {
            manifest.save(file)?;
        }
        if cli.json && args.manifest {
            let json = serde_json::to_string(&manifest)
                .map_err(|e| input(format!("encoding the manifest: {e}")))?;
            out.line(&json)?;
        } else if cli.json {
            out.line(&manifest.summary_json().to_string())?;
        } else {
            out.lines(manifest.text_lines(args.manifest))?;
        }
    }
    match last_failure {
        Some(last) if args.paths.len() > 1 => Err(input(format!(
            "{last} ({failed} of {} could not be fingerprinted)",
            plural(args.paths.len(), "path", "paths")
        ))),
        Some(last) => Err(input(last)),
        None => Ok(()),
    }
}

/// [`Manifest::build`] or [`Manifest::load_or_build`].
type ManifestFn = fn(
    HashAlgorithm,
    &std::path::Path,
    &mut dyn FnMut(u64, u64),
) -> Result<Manifest, lcm_store::fingerprint::Error>;

/// `f(algorithm, path)` with a progress bar on standard error.
fn build(
    algorithm: HashAlgorithm,
    path: &std::path::Path,
    f: ManifestFn,
) -> Result<Manifest, CliError> {
    let progress = Progress::new(&path.display().to_string(), None, true);
    let mut total = None;
    let m = f(algorithm, path, &mut |done, all| {
        if total != Some(all) {
            total = Some(all);
            progress.set_total(total);
        }
        progress.set(done);
    })?;
    progress.finish();
    Ok(m)
}

fn diff(
    cli: &Cli,
    out: &mut Out,
    algorithm: HashAlgorithm,
    a: &std::path::Path,
    b: &std::path::Path,
) -> Result<(), CliError> {
    let ma = build(algorithm, a, Manifest::load_or_build)?;
    let mb = build(algorithm, b, Manifest::load_or_build)?;
    let d = ma.diff(&mb)?;
    if cli.json {
        out.line(&d.to_json(&ma, &mb).to_string())?;
    } else {
        out.lines(d.text_lines())?;
    }
    if d.equal {
        Ok(())
    } else {
        Err(CliError::Differ(d.differ_message(a, b)))
    }
}

pub(crate) fn schema(cli: &Cli, out: &mut Out, kind: Option<&str>) -> Result<(), CliError> {
    use lcm_store::lifecycle::{schema_listing, schema_of};
    let Some(kind) = kind else {
        return out.lines(schema_listing(cli.json));
    };
    let schema = schema_of(kind).map_err(|e| input(e.to_string()))?;
    let text = serde_json::to_string_pretty(&schema)
        .map_err(|e| input(format!("encoding the schema: {e}")))?;
    out.line(&text)
}
