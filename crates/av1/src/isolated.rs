//! The asking side: one child process a picture, spoken to through its pipes.

use std::ffi::OsString;
use std::io::{BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::{DecodeError, Picture, SERVE_ARG, protocol};

/// How long one picture may take unless told otherwise. rav1d without its assembly
/// decodes a 12-megapixel still in well under two seconds here.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// Most of the child's error output kept, to say how it stopped.
const MAX_STDERR: usize = 16 * 1024;

/// How long a child that has answered, or closed its output, is given to exit.
const EXIT_GRACE: Duration = Duration::from_secs(2);

/// Decodes AV1 pictures in child processes (crate documentation).
#[derive(Clone, Debug)]
pub struct Isolated {
    program: PathBuf,
    args: Vec<OsString>,
    timeout: Duration,
}

impl Isolated {
    /// Children are `program` run with [`SERVE_ARG`]: a program that calls [`serve`]
    /// when given it, usually this one (`std::env::current_exe()`).
    ///
    /// [`serve`]: crate::serve
    pub fn new(program: impl Into<PathBuf>) -> Self {
        Self::command(program, [SERVE_ARG])
    }

    /// Children are `program` run with `args`, which must make it [`serve`].
    ///
    /// [`serve`]: crate::serve
    pub fn command(
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
    ) -> Self {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// How long one picture may take before its child is killed.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Decodes the first picture `obus` shows, in a child process, refusing pictures
    /// of more than `max_pixels`.
    pub fn decode(&self, obus: &[u8], max_pixels: u64) -> Result<Picture, DecodeError> {
        let mut child = Command::new(&self.program)
            .args(&self.args)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| DecodeError::Unavailable(format!("{}: {e}", self.program.display())))?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            kill(&mut child);
            return Err(DecodeError::Unavailable("its pipes were not opened".into()));
        };
        let header = protocol::request_header(max_pixels, obus.len() as u64);
        let (answer, timed_out, status, said) = std::thread::scope(|s| {
            // A child that stops early closes its end: the write fails, and the
            // answer (or its absence) tells why.
            s.spawn(move || {
                let _ = stdin
                    .write_all(&header)
                    .and_then(|()| stdin.write_all(obus));
            });
            // Read to its end, keeping the start: a child whose error output is left
            // unread blocks, or fails on the closed pipe.
            let said = s.spawn(move || {
                let mut stderr = stderr;
                let mut kept = Vec::new();
                let mut chunk = [0u8; 4096];
                loop {
                    match stderr.read(&mut chunk) {
                        Ok(0) => break,
                        Ok(n) => {
                            let room = MAX_STDERR.saturating_sub(kept.len());
                            kept.extend_from_slice(&chunk[..n.min(room)]);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                }
                String::from_utf8_lossy(&kept).into_owned()
            });
            let (tx, rx) = mpsc::channel();
            s.spawn(move || {
                let answer = protocol::read_answer(&mut BufReader::new(stdout), max_pixels);
                let _ = tx.send(answer);
            });
            let (answer, timed_out) = match rx.recv_timeout(self.timeout) {
                Ok(answer) => (answer, false),
                Err(mpsc::RecvTimeoutError::Timeout) => (Err("it was killed".to_string()), true),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    (Err("its answer could not be read".to_string()), false)
                }
            };
            // The child has nothing left to do once it has answered or closed its
            // output: it is given a moment to exit (its status says how it stopped),
            // then ended, which closes its pipes and ends the threads above.
            let grace = if timed_out {
                Duration::ZERO
            } else {
                EXIT_GRACE
            };
            let status = reap(&mut child, Instant::now() + grace);
            (answer, timed_out, status, said.join().unwrap_or_default())
        });
        match answer {
            Ok(Ok(picture)) => Ok(picture),
            Ok(Err(message)) => Err(DecodeError::Refused(message)),
            Err(_) if timed_out => Err(DecodeError::TimedOut(self.timeout.as_secs())),
            Err(why) => Err(stopped(&why, status, &said)),
        }
    }
}

/// How a child ended.
enum Ended {
    /// By itself (or killed from outside), with this status.
    Exited(ExitStatus),
    /// Killed here, having lingered past its deadline.
    Lingered,
    /// Its status could not be read.
    Unknown,
}

/// Waits for the child until `deadline`, then kills it; how it ended.
fn reap(child: &mut Child, deadline: Instant) -> Ended {
    let mut pause = Duration::from_millis(1);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ended::Exited(status),
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            Ok(None) => {
                kill(child);
                return Ended::Lingered;
            }
            Err(_) => {
                kill(child);
                return Ended::Unknown;
            }
        }
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// How a child that gave no whole answer ended, and the panic or failure it printed,
/// if any. Killed from outside (the out-of-memory killer, an operator) says nothing of
/// the stream; one killed here for lingering does.
fn stopped(why: &str, ended_as: Ended, said: &str) -> DecodeError {
    let mut out = match ended_as {
        Ended::Exited(status) if killed(status) => return DecodeError::Killed,
        Ended::Exited(status) if !status.success() => ended(status),
        Ended::Lingered => format!("{why}, and did not exit"),
        Ended::Exited(_) | Ended::Unknown => why.to_string(),
    };
    if let Some(panic) = panic_message(said) {
        out.push_str(&format!(", after a panic: {panic}"));
    } else if let Some(line) = said
        .lines()
        .find(|l| l.starts_with("memory allocation of "))
    {
        out.push_str(&format!(
            ", out of its memory limit ({})",
            line.trim().chars().take(120).collect::<String>()
        ));
    }
    DecodeError::Stopped(out)
}

#[cfg(unix)]
fn killed(status: ExitStatus) -> bool {
    use std::os::unix::process::ExitStatusExt;
    status.signal() == Some(9)
}

#[cfg(not(unix))]
fn killed(_: ExitStatus) -> bool {
    false
}

#[cfg(unix)]
fn ended(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.signal(), status.code()) {
        (Some(6), _) => "it aborted".into(),
        (Some(sig), _) => format!("it was ended by signal {sig}"),
        (None, Some(code)) => format!("it exited with status {code}"),
        (None, None) => "it ended".into(),
    }
}

#[cfg(not(unix))]
fn ended(status: ExitStatus) -> String {
    match status.code() {
        Some(code) => format!("it exited with status {code}"),
        None => "it ended".into(),
    }
}

/// The message of a Rust panic in the child's error output, and where in the decoder
/// it happened ("panicked at FILE:LINE:COL:", then the message), shortened.
fn panic_message(said: &str) -> Option<String> {
    let mut lines = said.lines();
    let at = lines.find_map(|l| l.split_once("panicked at ").map(|(_, at)| at))?;
    // The last three parts of the path name the crate, its version and the file.
    let at = at.trim().trim_end_matches(':');
    let parts: Vec<&str> = at.rsplitn(4, '/').collect();
    let at = if parts.len() == 4 {
        format!("{}/{}/{}", parts[2], parts[1], parts[0])
    } else {
        at.to_string()
    };
    let message = lines.next().unwrap_or("").trim();
    let text = if message.is_empty() {
        at.to_string()
    } else {
        format!("{message} (at {at})")
    };
    Some(text.chars().take(300).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A child played by the shell, with real pipes and a real process.
    fn shell(script: &str) -> Isolated {
        Isolated::command("sh", ["-c", script])
    }

    #[test]
    fn a_child_that_aborts_is_told_with_its_panic() {
        let e = shell(
            "cat >/dev/null; printf \"thread 'main' panicked at /home/r/.cargo/registry/src/index/rav1d-1.1.0/src/x.rs:1:1:\\nindex out of bounds\\n\" >&2; kill -ABRT $$",
        )
        .decode(b"obus", 100)
        .unwrap_err();
        let msg = e.to_string();
        assert!(matches!(e, DecodeError::Stopped(_)), "{msg}");
        assert!(msg.contains("it aborted"), "{msg}");
        assert!(
            msg.contains("a panic: index out of bounds (at rav1d-1.1.0/src/x.rs:1:1)"),
            "{msg}"
        );
    }

    #[test]
    fn a_child_that_does_not_read_its_request_is_told_too() {
        // The request is larger than a pipe holds: the writer must not hang.
        let e = shell("exit 3").decode(&vec![0; 1 << 20], 100).unwrap_err();
        assert!(e.to_string().contains("exited with status 3"), "{e}");
    }

    #[test]
    fn a_child_that_takes_too_long_is_killed() {
        let started = std::time::Instant::now();
        let e = shell("exec sleep 30")
            .with_timeout(Duration::from_millis(300))
            .decode(b"obus", 100)
            .unwrap_err();
        assert!(matches!(e, DecodeError::TimedOut(_)), "{e}");
        // A stream that keeps the decoder that long is the stream's doing.
        assert!(!e.says_nothing_of_the_stream());
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn a_refusal_and_a_picture_are_read_back() {
        let e = shell("cat >/dev/null; printf 'cav1err1\\005\\000\\000\\000hello'")
            .decode(b"obus", 100)
            .unwrap_err();
        assert!(matches!(&e, DecodeError::Refused(m) if m == "hello"), "{e}");
        let p = shell(
            "cat >/dev/null; printf 'cav1pic1\\002\\000\\000\\000\\001\\000\\000\\000\\007\\010'",
        )
        .decode(b"obus", 100)
        .unwrap();
        assert_eq!((p.width, p.height, p.luma), (2, 1, vec![7, 8]));
    }

    #[test]
    fn a_child_that_answers_and_lingers_is_ended() {
        let started = std::time::Instant::now();
        let p = shell(
            "cat >/dev/null; printf 'cav1pic1\\001\\000\\000\\000\\001\\000\\000\\000\\011'; exec sleep 30",
        )
        .decode(b"obus", 100)
        .unwrap();
        assert_eq!(p.luma, vec![9]);
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn a_child_that_closes_its_output_and_lingers_is_ended_and_told() {
        let started = std::time::Instant::now();
        let e = shell("cat >/dev/null; exec 1>&-; exec sleep 30")
            .decode(b"obus", 100)
            .unwrap_err();
        assert!(
            matches!(&e, DecodeError::Stopped(m) if m.contains("did not exit")),
            "{e}"
        );
        assert!(!e.says_nothing_of_the_stream());
        assert!(started.elapsed() < Duration::from_secs(20));
    }

    #[test]
    fn a_child_killed_from_outside_says_nothing_of_the_stream() {
        let e = shell("cat >/dev/null; kill -KILL $$")
            .decode(b"obus", 100)
            .unwrap_err();
        assert!(matches!(e, DecodeError::Killed), "{e}");
        assert!(e.says_nothing_of_the_stream());
        assert!(!DecodeError::Stopped("it aborted".into()).says_nothing_of_the_stream());
    }

    #[test]
    fn much_error_output_neither_blocks_nor_hides_the_answer() {
        let e = shell(
            "cat >/dev/null; head -c 1000000 /dev/zero >&2; printf 'cav1err1\\005\\000\\000\\000hello'",
        )
        .decode(b"obus", 100)
        .unwrap_err();
        assert!(matches!(&e, DecodeError::Refused(m) if m == "hello"), "{e}");
    }

    #[test]
    fn a_child_out_of_memory_says_so() {
        let e = shell(
            "cat >/dev/null; echo 'memory allocation of 4096 bytes failed' >&2; kill -ABRT $$",
        )
        .decode(b"obus", 100)
        .unwrap_err();
        assert!(
            e.to_string().contains(
                "it aborted, out of its memory limit (memory allocation of 4096 bytes failed)"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_program_that_cannot_run_says_so() {
        let e = Isolated::new("/nonexistent/custody")
            .decode(b"obus", 100)
            .unwrap_err();
        assert!(matches!(e, DecodeError::Unavailable(_)), "{e}");
        assert!(e.to_string().contains("/nonexistent/custody"), "{e}");
    }
}
