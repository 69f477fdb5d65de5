//! A progress bar on stderr that costs nothing when hidden.
//!
//! Hidden when `--quiet` is given or stderr is not a terminal (CI logs, pipes, tests), so output
//! files and captured logs never contain bar redraws.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar, or nothing.
#[derive(Debug)]
pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A bar of `len` steps labelled `msg`; hidden if `quiet` or stderr is not a terminal.
    pub fn new(len: u64, msg: &str, quiet: bool) -> Self {
        Self::with_visibility(len, msg, !quiet && std::io::stderr().is_terminal())
    }

    /// A bar that never draws.
    pub fn hidden() -> Self {
        Progress { bar: None }
    }

    fn with_visibility(len: u64, msg: &str, visible: bool) -> Self {
        if !visible {
            return Self::hidden();
        }
        let bar = ProgressBar::new(len);
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta}) {msg}")
        {
            bar.set_style(style);
        }
        bar.set_prefix(msg.to_string());
        Progress { bar: Some(bar) }
    }

    /// True when nothing is drawn.
    pub fn is_hidden(&self) -> bool {
        self.bar.is_none()
    }

    /// Advance by `n` steps.
    pub fn inc(&self, n: u64) {
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Replace the trailing message (e.g. the current loss).
    pub fn set_message(&self, msg: String) {
        if let Some(b) = &self.bar {
            b.set_message(msg);
        }
    }

    /// Finish the bar, leaving its last state on screen.
    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_progress_is_hidden_and_all_calls_are_no_ops() {
        let p = Progress::new(10, "train", true);
        assert!(p.is_hidden());
        p.inc(3);
        p.set_message("loss 1e-3".to_string());
        p.finish();
    }

    #[test]
    fn visible_progress_accepts_updates() {
        let p = Progress::with_visibility(5, "train", true);
        assert!(!p.is_hidden());
        p.inc(2);
        p.set_message("loss 0.5".to_string());
        assert_eq!(p.bar.as_ref().unwrap().position(), 2);
        p.finish();
    }
}
