//! The progress spinner `sim` and `check` show on a terminal while a run's length is
//! unknown.

use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

/// A spinner with the elapsed time and a message, for runs whose length is unknown.
pub fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed} {msg}").unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    bar
}
