//! End-to-end tests of the `custody` binary: one test binary, one module per concern.

mod bad_input;
mod cases;
mod crash;
#[cfg(feature = "c2pa")]
mod credentials;
mod damage;
mod e2e;
mod extract;

mod interop;
mod package;
mod readme;
mod similar;
mod support;
mod timestamps;
