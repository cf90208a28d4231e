//! Why an isolated decode gave no picture.

/// Why [`Isolated::decode`](crate::Isolated::decode) gave no picture.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// The decoder read the stream and refused it, saying why.
    #[error("{0}")]
    Refused(String),
    /// The decoding process ended without a whole answer: the decoder crashed on this
    /// stream, was killed, or ran out of its memory limit.
    #[error("the AV1 decoder stopped on this stream: {0}")]
    Stopped(String),
    /// The decoding process took longer than it may and was ended.
    #[error("the AV1 decoder took longer than {0} s on this stream and was stopped")]
    TimedOut(u64),
    /// The decoding process could not be started or spoken to.
    #[error(
        "the AV1 decoding process could not be run ({0}); check that the program can run itself again"
    )]
    Unavailable(String),
}
