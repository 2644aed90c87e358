//! Error types of the protocol core: parsing, encoding, and refused commands.

use std::fmt;

/// A few bytes of the input around a parse error, kept inline so that
/// [`ParseError`] stays `Copy` and allocation-free.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Excerpt {
    bytes: [u8; Excerpt::CAPACITY],
    len: u8,
}

impl Excerpt {
    /// The longest excerpt kept, in bytes.
    pub const CAPACITY: usize = 16;

    /// Takes up to [`Excerpt::CAPACITY`] bytes of `input` from `offset` on.
    pub fn new(input: &[u8], offset: usize) -> Self {
        let start = offset.min(input.len());
        let end = (start + Self::CAPACITY).min(input.len());
        let mut bytes = [0; Self::CAPACITY];
        bytes[..end - start].copy_from_slice(&input[start..end]);
        Excerpt {
            bytes,
            len: (end - start) as u8,
        }
    }

    /// The excerpt's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }
}

impl fmt::Display for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{}\"", self.as_bytes().escape_ascii())
    }
}

impl fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// What was wrong with the bytes Asterisk (or a peer claiming to be it) sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParseErrorKind {
    /// A line grew past the configured limit without a line feed.
    LineTooLong {
        /// The limit in bytes, line feed excluded.
        limit: usize,
    },
    /// A multi-line frame (environment block, 520 usage text) grew past the
    /// configured limit.
    BlockTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// The environment block does not start with an `agi_` variable.
    NotEnvironment,
    /// The line is neither `HANGUP` nor a three-digit reply code.
    InvalidLine,
    /// A reply's `result=` value holds bytes other than an optional `-`
    /// followed by digits, `*`, `#` and `A`–`D`.
    InvalidResult,
    /// A NUL byte, which Asterisk never sends.
    NulByte,
    /// The stream ended in the middle of a line or block.
    UnexpectedEof,
}

impl fmt::Display for ParseErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::LineTooLong { limit } => write!(f, "line longer than {limit} bytes"),
            Self::BlockTooLong { limit } => write!(f, "block longer than {limit} bytes"),
            Self::NotEnvironment => f.write_str("not an AGI environment block"),
            Self::InvalidLine => f.write_str("not an AGI reply line"),
            Self::InvalidResult => f.write_str("invalid result value"),
            Self::NulByte => f.write_str("NUL byte"),
            Self::UnexpectedEof => f.write_str("stream ended inside a line"),
        }
    }
}

/// Bytes that cannot be an AGI environment block or reply.
///
/// Carries the byte offset of the problem from the start of the buffer that
/// was parsed, and a short excerpt of the input from there.
///
/// ```
/// use agi_proto::{parse_frame, ParseErrorKind};
///
/// let err = parse_frame(b"200 result=abc\n").unwrap_err();
/// assert_eq!(err.kind, ParseErrorKind::InvalidResult);
/// assert_eq!(err.offset, 11);
/// assert_eq!(err.to_string(), "invalid result value at byte 11 near \"abc\\n\"");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{kind} at byte {offset} near {excerpt}")]
pub struct ParseError {
    /// What was wrong.
    pub kind: ParseErrorKind,
    /// Where, in bytes from the start of the parsed buffer.
    pub offset: usize,
    /// The input from `offset` on, cut to a few bytes.
    pub excerpt: Excerpt,
}

impl ParseError {
    /// Builds an error at `offset` of `input`.
    pub fn new(kind: ParseErrorKind, input: &[u8], offset: usize) -> Self {
        ParseError {
            kind,
            offset,
            excerpt: Excerpt::new(input, offset),
        }
    }
}

/// A command that cannot be sent as it is; nothing was written.
///
/// ```
/// use agi_proto::{command::SetVariable, encode_command, EncodeError, Limits};
///
/// let cmd = SetVariable::new("X", "a\nEXEC System rm");
/// let mut line = Vec::new();
/// let err = encode_command(&cmd, &Limits::default(), &mut line).unwrap_err();
/// assert!(matches!(err, EncodeError::ForbiddenByte { arg: 1, byte: b'\n', .. }));
/// assert!(line.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// An argument holds CR, LF or NUL. LF would end the command and start a
    /// second one; Asterisk keeps CR as data; NUL cuts the C string.
    #[error("argument {arg} holds forbidden byte {byte:#04x} at position {position}")]
    ForbiddenByte {
        /// Index of the argument (0 = first argument after the command words).
        arg: usize,
        /// The byte.
        byte: u8,
        /// Its position inside the argument.
        position: usize,
    },
    /// The line is longer than Asterisk's command buffer; Asterisk would run
    /// its tail as a second command.
    #[error("command line of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// Bytes before the line feed.
        len: usize,
        /// The limit for the peer's Asterisk version.
        max: usize,
    },
    /// More tokens than Asterisk's argument array holds.
    #[error("command of {count} tokens exceeds the limit of {max}")]
    TooManyTokens {
        /// Tokens, command words included.
        count: usize,
        /// Asterisk's limit (127).
        max: usize,
    },
    /// An argument the command cannot take (an empty variable name, a
    /// negative maximum…).
    #[error("invalid argument: {0}")]
    InvalidArgument(&'static str),
}

/// Asterisk answered a command with something other than success.
///
/// ```
/// use agi_proto::Failure;
///
/// assert!(Failure::DeadChannel.is_dead_channel());
/// assert_eq!(Failure::InvalidCommand.to_string(), "invalid or unknown command (510)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Failure {
    /// `510`: Asterisk does not know the command.
    #[error("invalid or unknown command (510)")]
    InvalidCommand,
    /// `511`: the channel is hung up (or in an intercept routine) and the
    /// command is not allowed there.
    #[error("command not permitted on a dead channel (511)")]
    DeadChannel,
    /// `520`: wrong arguments; holds Asterisk's usage text.
    #[error("invalid command syntax (520): {0}")]
    Usage(String),
    /// The command ran and reported failure, e.g. `200 result=-1`.
    #[error("{command} failed: {line}")]
    Rejected {
        /// The command's name, e.g. `STREAM FILE`.
        command: &'static str,
        /// The result value Asterisk sent.
        result: i64,
        /// The whole reply line, lossily decoded.
        line: String,
    },
    /// `EXEC` of an application that does not exist (`200 result=-2`).
    #[error("application {0:?} not found")]
    ApplicationNotFound(String),
    /// A reply this command never gives (wrong code or shape).
    #[error("unexpected reply to {command}: {line}")]
    Unexpected {
        /// The command's name.
        command: &'static str,
        /// The reply, lossily decoded.
        line: String,
    },
}

impl Failure {
    /// `true` for `511`: the channel is dead.
    pub fn is_dead_channel(&self) -> bool {
        matches!(self, Failure::DeadChannel)
    }
}
