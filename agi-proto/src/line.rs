//! Framing: where lines end, and how long they may grow.

use crate::error::{ParseError, ParseErrorKind};

/// Bounds that keep a parser's buffer from growing without limit.
///
/// A peer that never sends a line feed gets [`ParseErrorKind::LineTooLong`]
/// once the buffer passes `max_line`, instead of being buffered forever.
///
/// ```
/// use agi_proto::{FrameDecoder, Limits, ParseErrorKind};
///
/// let mut decoder = FrameDecoder::new(Limits { max_line: 8, ..Limits::default() });
/// let err = decoder.decode(b"200 result=00000").unwrap_err();
/// assert_eq!(err.kind, ParseErrorKind::LineTooLong { limit: 8 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Longest line accepted, line feed excluded. Default 64 KiB.
    pub max_line: usize,
    /// Longest multi-line frame (the environment block, a 520 usage block).
    /// Default 256 KiB.
    pub max_block: usize,
    /// Longest command line the peer accepts, line feed excluded: 2046 for
    /// Asterisk releases before 20.16/21.11/22.6/23.0, 8190 from them on. See
    /// [`crate::AsteriskVersion::command_limit`]. Default 2046, safe for all.
    pub max_command: usize,
}

impl Limits {
    /// Asterisk's 127-token limit per command line, command words included.
    pub const MAX_TOKENS: usize = 127;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line: 64 * 1024,
            max_block: 256 * 1024,
            max_command: crate::version::LEGACY_COMMAND_LIMIT,
        }
    }
}

/// One complete line: `start..end` excludes its LF, and only that (a CR
/// before it is data to the environment block; replies drop it where they
/// read one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Line {
    pub(crate) start: usize,
    pub(crate) end: usize,
}

impl Line {
    /// The offset just after the LF, where the next line starts.
    pub(crate) fn next(self) -> usize {
        self.end + 1
    }
}

/// Finds the line starting at `start`. `Ok(None)` when no LF has arrived
/// yet and the partial line is still within `max_line`.
#[inline]
pub(crate) fn next_line(
    buf: &[u8],
    start: usize,
    max_line: usize,
) -> Result<Option<Line>, ParseError> {
    let rest = &buf[start..];
    match memchr::memchr(b'\n', rest) {
        Some(lf) => {
            if lf > max_line {
                return Err(too_long(buf, start, max_line));
            }
            Ok(Some(Line {
                start,
                end: start + lf,
            }))
        }
        None if rest.len() > max_line => Err(too_long(buf, start, max_line)),
        None => Ok(None),
    }
}

fn too_long(buf: &[u8], start: usize, limit: usize) -> ParseError {
    ParseError::new(ParseErrorKind::LineTooLong { limit }, buf, start)
}

/// Call at end of stream with what is left unparsed in the buffer: bytes
/// there mean the peer stopped in the middle of a line (a reply with no
/// final line feed), which is an error rather than a frame.
///
/// ```
/// use agi_proto::{check_eof, ParseErrorKind};
///
/// assert!(check_eof(b"").is_ok());
/// assert_eq!(check_eof(b"200 result=0").unwrap_err().kind, ParseErrorKind::UnexpectedEof);
/// ```
pub fn check_eof(rest: &[u8]) -> Result<(), ParseError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(ParseError::new(ParseErrorKind::UnexpectedEof, rest, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_lines_and_keeps_cr() {
        let buf = b"ab\r\ncd\nef";
        let l = next_line(buf, 0, 10).unwrap().unwrap();
        assert_eq!((l.start, l.end, l.next()), (0, 3, 4));
        let l = next_line(buf, 4, 10).unwrap().unwrap();
        assert_eq!((l.start, l.end, l.next()), (4, 6, 7));
        assert_eq!(next_line(buf, 7, 10).unwrap(), None);
    }

    #[test]
    fn refuses_long_lines_with_or_without_lf() {
        assert!(next_line(b"abcdef", 0, 5).is_err());
        assert!(next_line(b"abcdef\n", 0, 5).is_err());
        assert!(next_line(b"abcde\n", 0, 5).unwrap().is_some());
        assert!(next_line(b"abcde", 0, 5).unwrap().is_none());
    }
}
