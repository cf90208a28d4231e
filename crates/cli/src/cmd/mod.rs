//! Command groups that live in their own modules. Each exposes a clap `Subcommand` enum
//! and an async `run`; `run.rs` dispatches to them. Shared helpers (`open`, `print_json`,
//! `stamp_if_due`, `write_new_file`) are in `run.rs`.
pub mod package;
pub mod similar;
