//! Command groups that live in their own modules. Each exposes a clap `Subcommand` enum
//! and an async `run`; `run.rs` dispatches to them. Shared helpers (`open`, `print_json`,
//! `finish_write`, `write_new_file`) are in `run.rs`.
pub mod args;
pub mod case;
pub mod claims;
pub mod demo;
pub mod package;
pub mod remains;
pub mod similar;
pub mod trust;
pub mod witness;
