//! `custody`: the command line of the Custody evidence vault.

/// `println!` to standard output that never panics: when the reader has gone away
/// (`custody list | head`) the rest of the output is dropped (see `output::write_stdout`).
macro_rules! outln {
    () => {
        $crate::output::write_stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `print!` with the same handling as [`outln!`].
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::output::write_stdout(format_args!($($arg)*))
    };
}

mod av1;
mod cli;
mod cmd;
mod output;
mod progress;
mod run;

use std::process::ExitCode;

use clap::Parser;

#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The AV1 decoding child answers one picture and exits (`av1.rs`).
    if av1::is_child() {
        return custody_av1::serve();
    }
    av1::install();
    let args = match cli::Cli::try_parse() {
        Ok(a) => a,
        Err(e) => {
            // An environment variable set to nothing reads to clap as an option given
            // without its value, which the user never typed.
            for var in ["CUSTODY_VAULT", "CUSTODY_ACTOR"] {
                if std::env::var_os(var).is_some_and(|v| v.is_empty())
                    && e.kind() == clap::error::ErrorKind::InvalidValue
                {
                    eprintln!(
                        "error: {var} is set but empty; set it to a value, or unset it (`unset {var}`)"
                    );
                    return ExitCode::from(2);
                }
            }
            e.exit()
        }
    };
    let json = args.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run::run(args)) {
        Ok(code) => match output::stdout_failure() {
            Some(msg) => {
                eprintln!("error: {msg}");
                ExitCode::from(2)
            }
            None => code,
        },
        Err(e) => {
            if json {
                let msg = serde_json::json!({"error": output::error_chain(e.as_ref())});
                outln!("{msg}");
            }
            eprintln!("error: {}", output::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}
