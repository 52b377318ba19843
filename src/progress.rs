//! Progress of long work on a terminal (a backup, a spreadsheet import, a
//! year of `simulate`), drawn on stderr with `indicatif`; nothing at all
//! when stderr is not a terminal (a pipe, a file, the journal), so scripts
//! and logs see only the command's output.
//!
//! Must not: write to stdout, or be used by the daemon.

use std::io::IsTerminal as _;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar, or nothing when stderr is not a terminal. Cleared when
/// finished or dropped.
#[derive(Debug)]
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Counts `total` items (rows, days) under `message`.
    pub fn items(total: u64, message: &str) -> Progress {
        Progress::new(
            total,
            message,
            "{msg} [{bar:30}] {pos}/{len} ({eta} còn lại)",
        )
    }

    /// Counts `total` bytes under `message`.
    pub fn bytes(total: u64, message: &str) -> Progress {
        Progress::new(
            total,
            message,
            "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta} còn lại)",
        )
    }

    fn new(total: u64, message: &str, template: &str) -> Progress {
        let bar =
            ProgressBar::with_draw_target(Some(total), target(std::io::stderr().is_terminal()));
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(message.to_owned());
        Progress { bar }
    }

    /// Whether anything is drawn.
    pub fn is_drawn(&self) -> bool {
        !self.bar.is_hidden()
    }

    pub fn set(&self, done: u64) {
        self.bar.set_position(done);
    }

    pub fn inc(&self, by: u64) {
        self.bar.inc(by);
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Where a bar is drawn: stderr on a terminal, nowhere otherwise.
fn target(on_terminal: bool) -> ProgressDrawTarget {
    if on_terminal {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_drawn_without_a_terminal() {
        let bar = ProgressBar::with_draw_target(Some(10), target(false));
        bar.inc(3);
        assert!(bar.is_hidden());
        assert_eq!(bar.position(), 3);
    }
}
