//! Why an isolated decode gave no picture.
//!
//! [`DecodeError::Refused`], [`DecodeError::Stopped`] and [`DecodeError::TimedOut`] are
//! the stream's own doing (the time limit is many times what the largest picture
//! allowed takes); the others say nothing of the stream, and trying again later may
//! succeed ([`DecodeError::says_nothing_of_the_stream`]).

/// Why [`Isolated::decode`](crate::Isolated::decode) gave no picture.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The decoder read the stream and refused it, saying why.
    #[error("{0}")]
    Refused(String),
    /// The decoding process ended without a whole answer: the decoder crashed on this
    /// stream, or ran out of its memory limit.
    #[error("the AV1 decoder stopped on this stream: {0}")]
    Stopped(String),
    /// The decoding process took longer than it may and was ended.
    #[error("the AV1 decoder took longer than {0} s on this stream and was stopped")]
    TimedOut(u64),
    /// The decoding process was killed from outside (the system's out-of-memory
    /// killer, an operator): nothing was learnt of the stream.
    #[error(
        "the AV1 decoding process was killed from outside, perhaps by the system for want of memory"
    )]
    Killed,
    /// The decoding process could not be started or spoken to.
    #[error("the AV1 decoding process could not be started ({0})")]
    Unavailable(String),
}

impl DecodeError {
    /// Whether this failure says nothing of the stream (the process could not be
    /// started, or was killed from outside), so that trying again later may succeed.
    pub fn says_nothing_of_the_stream(&self) -> bool {
        matches!(self, DecodeError::Killed | DecodeError::Unavailable(_))
    }
}
