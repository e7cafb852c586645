//! Progress bars and spinners, drawn on stderr only when it is a terminal.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

/// A bar over `len` items with rate and time left.
pub fn bar(len: usize, message: &'static str) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{msg} [{wide_bar:.cyan/blue}] {human_pos}/{human_len} {rate} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    // indicatif's own {per_sec} prints four decimals.
    .with_key(
        "rate",
        |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{:.0}/s", state.per_sec());
        },
    )
    .progress_chars("=> ");
    ProgressBar::new(len as u64)
        .with_style(style)
        .with_message(message)
}

/// A spinner for a step whose length is unknown; finish it with `done`.
pub fn spinner(message: &'static str) -> ProgressBar {
    let style = ProgressStyle::with_template("{spinner} {msg} {elapsed}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let spinner = ProgressBar::new_spinner()
        .with_style(style)
        .with_message(message);
    spinner.enable_steady_tick(Duration::from_millis(100));
    spinner
}

/// Leaves a finished step on screen with how long it took.
pub fn done(progress: &ProgressBar) {
    let took = progress.elapsed().as_secs_f64();
    let style =
        ProgressStyle::with_template("{msg}").unwrap_or_else(|_| ProgressStyle::default_spinner());
    progress.set_style(style);
    progress.finish_with_message(format!("{} ({took:.1} s)", progress.message()));
}
