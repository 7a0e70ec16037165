//! Progress on standard error with `indicatif`: drawn only when standard error is a
//! terminal (indicatif hides the bar otherwise), at most 20 times a second, with the rate
//! and an ETA when the total is known.

use indicatif::{HumanCount, ProgressBar, ProgressState, ProgressStyle};

/// The `{rate}` key: whole items per second since the start. indicatif's own `{per_sec}`
/// estimate swings with the bursts in which the work reports (a committed batch, a checked
/// chunk) and prints four decimals.
fn average_rate(state: &ProgressState, w: &mut dyn std::fmt::Write) {
    // In whole milliseconds and integers: no lossy casts, and 0 before the first one.
    let per_sec = match state.elapsed().as_millis() {
        0 => 0,
        millis => u128::from(state.pos()) * 1000 / millis,
    };
    let _ = write!(
        w,
        "{}/s",
        HumanCount(u64::try_from(per_sec).unwrap_or(u64::MAX))
    );
}

/// A progress bar; nothing is drawn when standard error is not a terminal.
#[derive(Debug)]
pub(crate) struct Progress {
    bar: ProgressBar,
    bytes: bool,
}

impl Progress {
    /// A bar labelled `label` that counts up to `total` (when known); `bytes` formats the
    /// counts and the rate as sizes.
    pub(crate) fn new(label: &str, total: Option<u64>, bytes: bool) -> Self {
        let progress = Self {
            bar: ProgressBar::no_length().with_message(label.to_owned()),
            bytes,
        };
        progress.set_total(total);
        progress
    }

    /// Sets the total once it is known (or when it changes), and the style that fits.
    pub(crate) fn set_total(&self, total: Option<u64>) {
        let (count, rate) = if self.bytes {
            ("{binary_bytes}", "{binary_bytes_per_sec}")
        } else {
            ("{human_pos}", "{rate}")
        };
        let template = match total {
            Some(total) if total > 0 => {
                let of = if self.bytes {
                    "{binary_total_bytes}"
                } else {
                    "{human_len}"
                };
                format!("{{msg}} [{{bar:30}}] {count}/{of} ({rate}, {{eta}} left)")
            }
            _ => format!("{{msg}} {count} ({rate})"),
        };
        // The style first: setting the length draws.
        if let Ok(style) = ProgressStyle::with_template(&template) {
            self.bar
                .set_style(style.with_key("rate", average_rate).progress_chars("#>-"));
        }
        if let Some(total) = total.filter(|t| *t > 0) {
            self.bar.set_length(total);
        }
    }

    /// Updates the count (indicatif redraws at most 20 times a second).
    pub(crate) fn set(&self, done: u64) {
        self.bar.set_position(done);
    }

    /// Clears the bar's line.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
