//! The result of an incremental parse: a whole frame, or "need more bytes".

/// Outcome of feeding a buffer to an incremental parser.
///
/// `Partial` is not an error: the buffer ends before the frame does. Append
/// more bytes and call the parser again with the whole buffer; nothing that
/// was already read is lost.
///
/// ```
/// use agi_proto::{parse_frame, Status};
///
/// assert!(matches!(parse_frame(b"200 res").unwrap(), Status::Partial));
/// let Status::Complete { consumed, .. } = parse_frame(b"200 result=0\nHANGUP\n").unwrap() else {
///     unreachable!()
/// };
/// assert_eq!(consumed, 13);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status<T> {
    /// A whole frame was parsed from the first `consumed` bytes.
    Complete {
        /// The parsed frame, borrowing from the input.
        value: T,
        /// How many bytes of the input the frame took; the caller advances
        /// its buffer by exactly this much.
        consumed: usize,
    },
    /// The input ends inside a frame; read more and retry.
    Partial,
}

impl<T> Status<T> {
    /// `true` when a whole frame was parsed.
    pub fn is_complete(&self) -> bool {
        matches!(self, Status::Complete { .. })
    }

    /// The parsed value and the bytes it consumed, or `None` when partial.
    pub fn complete(self) -> Option<(T, usize)> {
        match self {
            Status::Complete { value, consumed } => Some((value, consumed)),
            Status::Partial => None,
        }
    }

    /// Maps the completed value, keeping `consumed`.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Status<U> {
        match self {
            Status::Complete { value, consumed } => Status::Complete {
                value: f(value),
                consumed,
            },
            Status::Partial => Status::Partial,
        }
    }
}
