//! Progress bars on standard error, hidden when it is not a terminal.

use std::io::IsTerminal;

use custody_app::ingest::{FileOutcome, IngestObserver};
use custody_app::verify::VerifyObserver;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn bar() -> ProgressBar {
    let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if !std::io::stderr().is_terminal() {
        pb.set_draw_target(ProgressDrawTarget::hidden());
    }
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} {msg:10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> "),
    );
    pb
}

/// Prints each file's outcome as it happens (unless JSON was asked for) above a bar.
pub struct IngestProgress {
    pb: ProgressBar,
    print: bool,
}

impl IngestProgress {
    pub fn new(print: bool) -> Self {
        let pb = bar();
        pb.set_message("ingesting");
        Self { pb, print }
    }
    pub fn finish(&self) {
        self.pb.finish_and_clear();
    }
}

pub fn outcome_line(o: &FileOutcome) -> String {
    match o {
        FileOutcome::Ingested {
            path,
            item,
            sha256,
            size,
            media_type,
            duplicate_of,
            ..
        } => {
            let dup = duplicate_of
                .map(|d| format!("  (same bytes as {d})"))
                .unwrap_or_default();
            format!(
                "ingested {item}  {}  {:>9}  {media_type:<24} {}{dup}",
                &sha256.to_hex()[..16],
                crate::output::size(*size),
                crate::output::shown(path)
            )
        }
        FileOutcome::Failed { path, reason } => {
            format!("FAILED   {}: {reason}", crate::output::shown(path))
        }
        FileOutcome::Skipped { path, reason } => {
            format!("skipped  {}: {reason}", crate::output::shown(path))
        }
    }
}

impl IngestObserver for IngestProgress {
    fn planned(&self, _files: u64, bytes: u64) {
        self.pb.set_length(bytes);
    }
    fn bytes(&self, n: u64) {
        self.pb.inc(n);
    }
    fn outcome(&self, o: &FileOutcome) {
        let line = outcome_line(o);
        if self.print {
            // Print through the bar so lines and bar do not interleave.
            self.pb.suspend(|| outln!("{line}"));
        } else if !matches!(o, FileOutcome::Ingested { .. }) {
            self.pb.suspend(|| eprintln!("{line}"));
        }
    }
}

pub struct VerifyProgress {
    pb: ProgressBar,
}

impl VerifyProgress {
    pub fn new() -> Self {
        let pb = bar();
        pb.set_message("hashing");
        Self { pb }
    }
    pub fn finish(&self) {
        self.pb.finish_and_clear();
    }
}

impl VerifyObserver for VerifyProgress {
    fn hashing(&self, total: u64) {
        self.pb.set_length(total);
    }
    fn bytes(&self, n: u64) {
        self.pb.inc(n);
    }
}

/// A bar counting files, for work measured in files rather than bytes.
pub struct CountProgress {
    pb: ProgressBar,
    /// The message to show once files are counted, when it starts as a spinner.
    counting: Option<&'static str>,
}

impl CountProgress {
    pub fn new(message: &'static str) -> Self {
        let pb = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
        if !std::io::stderr().is_terminal() {
            pb.set_draw_target(ProgressDrawTarget::hidden());
        }
        pb.set_style(Self::bar_style());
        pb.set_message(message);
        Self { pb, counting: None }
    }

    /// A spinner saying `message` until some files are planned (work that may read no
    /// file at all), then a bar counting them as `counting`.
    pub fn spinning(message: &'static str, counting: &'static str) -> Self {
        let spinner = Spinner::new(message);
        Self {
            pb: spinner.0,
            counting: Some(counting),
        }
    }

    fn bar_style() -> ProgressStyle {
        ProgressStyle::with_template(
            "{spinner} {msg:10} [{bar:30}] {pos}/{len} files {per_sec} eta {eta}",
        )
        .expect("valid template")
        .progress_chars("=> ")
    }

    pub fn finish(&self) {
        self.pb.finish_and_clear();
    }
}

impl custody_app::extract::ExtractObserver for CountProgress {
    fn planned(&self, files: u64) {
        if let Some(message) = self.counting
            && files > 0
        {
            self.pb.set_style(Self::bar_style());
            self.pb.set_message(message);
            self.pb.reset_elapsed();
        }
        self.pb.set_length(files);
    }
    fn done(&self, n: u64) {
        self.pb.inc(n);
    }
}

/// A bar counting bytes, fed from any thread.
pub struct ByteProgress {
    pb: ProgressBar,
}

impl ByteProgress {
    pub fn new(message: &'static str) -> Self {
        let pb = bar();
        pb.set_length(0);
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg:10} {bytes} {bytes_per_sec}")
                .expect("valid template"),
        );
        pb.set_message(message);
        Self { pb }
    }
    pub fn inc(&self, n: u64) {
        self.pb.inc(n);
    }
    pub fn finish(&self) {
        self.pb.finish_and_clear();
    }
}

/// A spinner with a message, for work whose size is not known ahead (one file decoded,
/// a vault's hashes grouped); hidden when standard error is not a terminal.
pub struct Spinner(ProgressBar);

impl Spinner {
    pub fn new(message: &'static str) -> Self {
        let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if !std::io::stderr().is_terminal() {
            pb.set_draw_target(ProgressDrawTarget::hidden());
        }
        pb.set_style(
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("valid template"),
        );
        pb.set_message(message);
        pb.enable_steady_tick(std::time::Duration::from_millis(120));
        Self(pb)
    }
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
