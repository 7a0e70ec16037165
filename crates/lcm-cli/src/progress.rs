//! A minimal progress bar on standard error, drawn only when standard error is a terminal.
//!
//! Hand-written instead of `indicatif` (which brings `console`, `unicode-width`,
//! `portable-atomic` and more into the build): the CLI needs one bar style, redrawn at most
//! ten times a second.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// How often the bar is redrawn at most.
const REDRAW: Duration = Duration::from_millis(100);

/// A progress bar; a no-op when standard error is not a terminal.
#[derive(Debug)]
pub(crate) struct Progress {
    label: String,
    total: Option<u64>,
    bytes: bool,
    start: Instant,
    last_draw: Option<Instant>,
    enabled: bool,
}

fn human(n: u64, bytes: bool) -> String {
    if !bytes {
        return n.to_string();
    }
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n;
    let mut unit = 0;
    while value >= 1024 * 10 && unit + 1 < UNITS.len() {
        value /= 1024;
        unit += 1;
    }
    format!("{value} {}", UNITS.get(unit).copied().unwrap_or("B"))
}

impl Progress {
    /// A bar labelled `label` that counts up to `total` (when known); `bytes` formats the
    /// counts as sizes.
    pub(crate) fn new(label: &str, total: Option<u64>, bytes: bool) -> Self {
        Self {
            label: label.to_owned(),
            total,
            bytes,
            start: Instant::now(),
            last_draw: None,
            enabled: std::io::stderr().is_terminal(),
        }
    }

    /// Sets the total once it is known (or when it changes).
    pub(crate) fn set_total(&mut self, total: Option<u64>) {
        self.total = total;
    }

    /// Updates the count; redraws when enough time has passed.
    pub(crate) fn set(&mut self, done: u64) {
        if !self.enabled {
            return;
        }
        let now = Instant::now();
        if self
            .last_draw
            .is_some_and(|t| now.duration_since(t) < REDRAW)
        {
            return;
        }
        self.last_draw = Some(now);
        let elapsed = now.duration_since(self.start).as_secs_f64().max(1e-9);
        // Display only: the rate needs no exactness.
        #[allow(clippy::cast_precision_loss)]
        let rate = done as f64 / elapsed;
        let line = match self.total {
            Some(total) if total > 0 => {
                let width = 30u64;
                let filled = done.min(total).saturating_mul(width) / total;
                let bar: String = (0..width)
                    .map(|i| if i < filled { '#' } else { '-' })
                    .collect();
                format!(
                    "\r{} [{bar}] {}/{} ({:.0}/s)",
                    self.label,
                    human(done, self.bytes),
                    human(total, self.bytes),
                    rate
                )
            }
            _ => format!(
                "\r{} {} ({:.0}/s)",
                self.label,
                human(done, self.bytes),
                rate
            ),
        };
        let mut err = std::io::stderr().lock();
        // A failed progress write must not fail the work.
        let _ = err.write_all(line.as_bytes());
        let _ = err.flush();
    }

    /// Clears the bar's line.
    pub(crate) fn finish(&self) {
        if self.enabled && self.last_draw.is_some() {
            let _ = std::io::stderr().write_all(b"\r\x1b[2K");
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
        self.last_draw = None;
    }
}
