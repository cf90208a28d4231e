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

pub fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("-")
}

/// Writes to standard output. When the reader has closed the pipe, the rest of the output
/// has nowhere to go: the process ends at once, quietly, with the status a shell gives a
/// command stopped by SIGPIPE. Everything the command reported was already durable
/// before it was printed, and an interrupted writer is repaired on the next open.
pub fn write_stdout(args: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        exit_on_write_error(&e);
    }
}

/// Ends the process for an error writing standard output: quietly for a closed pipe,
/// with a message otherwise (a full disk under a redirection, say).
pub fn exit_on_write_error(e: &std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(141);
    }
    eprintln!("error: cannot write to standard output: {e}");
    std::process::exit(2);
}
