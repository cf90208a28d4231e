//! `custody`: the command line of the Custody evidence vault.

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
    let args = cli::Cli::parse();
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
        Ok(code) => code,
        Err(e) => {
            if json {
                let msg = serde_json::json!({"error": output::error_chain(e.as_ref())});
                println!("{msg}");
            }
            eprintln!("error: {}", output::error_chain(e.as_ref()));
            ExitCode::from(2)
        }
    }
}
