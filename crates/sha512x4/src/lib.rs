//! SHA-512 of several messages at once.
//!
//! SHA-512 of one message is a chain of dependent rounds, so one stream runs at the speed
//! of that chain whatever the width of the core. A bag holds many files, so this crate
//! hashes four of them side by side in the lanes of a vector register instead:
//!
//! - [`kernel`]: the four-lane compression function (AVX-512 or AVX2, chosen at run time,
//!   safe code throughout).
//! - [`engine`]: [`Sha512Stream`], a running digest whose blocks are compressed on engine
//!   threads together with those of other open streams.
//!
//! Where the CPU has neither instruction set, [`Sha512Stream::open`] returns `None` and
//! callers hash one stream at a time as before.

pub mod engine;
pub mod kernel;

pub use engine::Sha512Stream;
