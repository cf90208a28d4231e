//! Formatting for people.

use std::error::Error;

/// The error and its causes, joined, without repeating a cause already quoted.
pub fn error_chain(e: &(dyn Error + 'static)) -> String {
    let mut msg = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

pub fn size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit < UNITS.len() - 1 {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// A file name or path as text output shows it: control characters (line breaks,
/// terminal escapes, DEL) and the marks that reorder text on screen (bidirectional
/// embeddings, overrides and isolates) written visibly as `\u{..}`, so that a seized
/// file's name can neither break a line, rewrite the terminal nor read backwards.
/// `--json` gives names as they are.
pub fn shown(name: &str) -> std::borrow::Cow<'_, str> {
    escaped(name, |_| false)
}

/// `text` with the characters [`shown`] writes visibly so written as `\u{..}`, except
/// those `kept` allows.
fn escaped(text: &str, kept: impl Fn(char) -> bool) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| {
        !kept(c)
            && (c.is_control()
                || matches!(c, '\u{200e}' | '\u{200f}' | '\u{061c}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
    };
    if !text.chars().any(hidden) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if hidden(c) {
                format!("\\u{{{:x}}}", c as u32)
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

thread_local! {
    /// Set while a view of text read from evidence is written: see [`evidence_text`].
    static EVIDENCE_TEXT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, whose text output shows what files, certificates and other vaults said (an
/// item's metadata, content credentials, a sender's history), with every character
/// [`shown`] escapes written visibly except line breaks between lines: a camera model,
/// a PDF title or a certificate's name can neither rewrite the terminal nor forge a
/// line of the view. Not for `--json` or data written to standard output.
pub fn evidence_text<T>(f: impl FnOnce() -> T) -> T {
    let before = EVIDENCE_TEXT.with(|e| e.replace(true));
    let out = f();
    EVIDENCE_TEXT.with(|e| e.set(before));
    out
}

pub fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// Set once a write to standard output has failed; later output is dropped.
static STDOUT_LOST: std::sync::Mutex<Option<std::io::ErrorKind>> = std::sync::Mutex::new(None);

/// Writes to standard output. When that fails (the reader closed the pipe, as `custody
/// list | head -1` does, or a redirection's disk filled up), the command is not cut
/// short: an ingest or an export carries on to the end, its output is dropped, and
/// `main` reports the failure once the command is done (see [`stdout_failure`]).
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut lost = STDOUT_LOST.lock().unwrap_or_else(|p| p.into_inner());
    if lost.is_some() {
        return;
    }
    let mut out = std::io::stdout().lock();
    let written = if EVIDENCE_TEXT.with(std::cell::Cell::get) {
        let text = args.to_string();
        out.write_all(escaped(&text, |c| c == '\n').as_bytes())
    } else {
        out.write_fmt(args)
    };
    if let Err(e) = written.and_then(|()| out.flush()) {
        *lost = Some(e.kind());
    }
}

/// Records a failed write of standard output made outside [`write_stdout`].
pub fn stdout_failed(e: &std::io::Error) {
    let mut lost = STDOUT_LOST.lock().unwrap_or_else(|p| p.into_inner());
    lost.get_or_insert(e.kind());
}

/// What `main` must say of standard output when the command is done: nothing when every
/// write went through or the reader simply left (a closed pipe is not an error of the
/// command's), else the error, for an exit status of 2.
pub fn stdout_failure() -> Option<String> {
    let lost = *STDOUT_LOST.lock().unwrap_or_else(|p| p.into_inner());
    match lost {
        None | Some(std::io::ErrorKind::BrokenPipe) => None,
        Some(kind) => Some(format!(
            "cannot write to standard output ({}); the command itself ran to the end",
            std::io::Error::from(kind)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::shown;

    #[test]
    fn names_cannot_break_lines_or_drive_the_terminal() {
        assert_eq!(shown("IMG_0001.jpg"), "IMG_0001.jpg");
        assert_eq!(shown("Свідчення 2.jpg"), "Свідчення 2.jpg");
        assert_eq!(
            shown("a\u{1b}[2K\rITM-000099 forged\nb\u{7f}\u{85}"),
            "a\\u{1b}[2K\\u{d}ITM-000099 forged\\u{a}b\\u{7f}\\u{85}"
        );
        // "photo_\u{202e}gpj.exe" would read as "photo_exe.jpg".
        assert_eq!(shown("photo_\u{202e}gpj.exe"), "photo_\\u{202e}gpj.exe");
        // Arabic and Hebrew letters are text, not marks: shown as they are.
        assert_eq!(shown("شهادة.jpg"), "شهادة.jpg");
        // A view keeps its line breaks, and only them.
        assert_eq!(
            super::escaped("make Nikon\u{1b}[2K\r\n", |c| c == '\n'),
            "make Nikon\\u{1b}[2K\\u{d}\n"
        );
    }
}
