//! Command lines: the only place that writes bytes to Asterisk. Quotes the
//! way Asterisk's tokenizer reads, refuses what could break out of a line.

use crate::command::Command;
use crate::error::EncodeError;
use crate::line::Limits;

/// Bytes that make an argument need quotes (it would split, or its quotes
/// and backslashes would be read as syntax).
const QUOTED: u8 = 1;
/// Bytes an argument may not hold: they would end the command line.
const FORBIDDEN: u8 = 2;
/// Bytes that need a backslash inside quotes.
const ESCAPED: u8 = 4;
const CLASS: [u8; 256] = {
    let mut class = [0; 256];
    class[b' ' as usize] = QUOTED;
    class[b'\t' as usize] = QUOTED;
    class[b'"' as usize] = QUOTED | ESCAPED;
    class[b'\\' as usize] = QUOTED | ESCAPED;
    class[b'\n' as usize] = FORBIDDEN;
    class[b'\r' as usize] = FORBIDDEN;
    class[0] = FORBIDDEN;
    class
};

/// Writes one command line into a reusable buffer.
///
/// Each argument becomes exactly one token for Asterisk's `parse_args`:
/// arguments with a space, TAB, `"` or `\` (and empty ones) are written as
/// `"…"` with `\` and `"` escaped; others go bare. CR, LF and NUL are
/// refused: LF would start a second command.
///
/// ```
/// use agi_proto::{ArgWriter, Limits};
///
/// let mut line = Vec::new();
/// let mut w = ArgWriter::new(&mut line, &Limits::default());
/// w.words("SET VARIABLE");
/// w.arg("GREETING")?;
/// w.arg("say \"hi\" C:\\")?;
/// w.finish()?;
/// assert_eq!(line, b"SET VARIABLE GREETING \"say \\\"hi\\\" C:\\\\\"\n");
/// # Ok::<(), agi_proto::EncodeError>(())
/// ```
#[derive(Debug)]
pub struct ArgWriter<'b> {
    buf: &'b mut Vec<u8>,
    start: usize,
    tokens: usize,
    args: usize,
    max_len: usize,
}

impl<'b> ArgWriter<'b> {
    /// A writer appending to `buf` under `limits.max_command`.
    pub fn new(buf: &'b mut Vec<u8>, limits: &Limits) -> Self {
        let start = buf.len();
        ArgWriter {
            buf,
            start,
            tokens: 0,
            args: 0,
            max_len: limits.max_command,
        }
    }

    fn separator(&mut self) {
        if self.buf.len() > self.start {
            self.buf.push(b' ');
        }
    }

    /// Writes the command words, e.g. `"STREAM FILE"`: trusted constants
    /// from the command table, never user data.
    pub fn words(&mut self, words: &'static str) {
        self.separator();
        self.buf.extend_from_slice(words.as_bytes());
        self.tokens += 1 + words.bytes().filter(|&b| b == b' ').count();
    }

    /// Writes one argument, quoted if it needs to be.
    ///
    /// # Errors
    /// [`EncodeError::ForbiddenByte`] for CR, LF or NUL.
    #[inline]
    pub fn arg(&mut self, value: impl AsRef<[u8]>) -> Result<(), EncodeError> {
        // One body for every argument type (`&str`, `&[u8]`, `String`…).
        self.arg_bytes(value.as_ref())
    }

    fn arg_bytes(&mut self, value: &[u8]) -> Result<(), EncodeError> {
        // One pass over the (usually short) value classifies every byte.
        let class = value.iter().fold(0, |acc, &b| acc | CLASS[usize::from(b)]);
        if class & FORBIDDEN != 0 {
            let position = value
                .iter()
                .position(|&b| CLASS[usize::from(b)] & FORBIDDEN != 0)
                .unwrap_or_default();
            return Err(EncodeError::ForbiddenByte {
                arg: self.args,
                byte: value[position],
                position,
            });
        }
        self.separator();
        if class == 0 && !value.is_empty() {
            self.buf.extend_from_slice(value);
        } else {
            self.buf.reserve(value.len() + 2);
            self.buf.push(b'"');
            if class & ESCAPED == 0 {
                self.buf.extend_from_slice(value);
            } else {
                for &b in value {
                    if CLASS[usize::from(b)] & ESCAPED != 0 {
                        self.buf.push(b'\\');
                    }
                    self.buf.push(b);
                }
            }
            self.buf.push(b'"');
        }
        self.tokens += 1;
        self.args += 1;
        Ok(())
    }

    /// Writes an integer argument.
    pub fn int(&mut self, n: impl itoa::Integer) {
        self.separator();
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
        self.tokens += 1;
        self.args += 1;
    }

    /// Ends the line with LF after checking Asterisk's limits; on error the
    /// buffer is left as it was before the writer started.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] or [`EncodeError::TooManyTokens`].
    pub fn finish(self) -> Result<(), EncodeError> {
        let len = self.buf.len() - self.start;
        let err = if len > self.max_len {
            Some(EncodeError::TooLong {
                len,
                max: self.max_len,
            })
        } else if self.tokens > Limits::MAX_TOKENS {
            Some(EncodeError::TooManyTokens {
                count: self.tokens,
                max: Limits::MAX_TOKENS,
            })
        } else {
            None
        };
        match err {
            Some(err) => {
                self.buf.truncate(self.start);
                Err(err)
            }
            None => {
                self.buf.push(b'\n');
                Ok(())
            }
        }
    }
}

/// Appends `cmd`'s line (with its LF) to `buf`, or leaves `buf` untouched
/// and says why it cannot be sent.
///
/// ```
/// use agi_proto::{command::StreamFile, encode_command, EscapeDigits, Limits};
///
/// let mut line = Vec::new();
/// encode_command(&StreamFile::new("beep", EscapeDigits::NONE), &Limits::default(), &mut line)?;
/// assert_eq!(line, b"STREAM FILE beep \"\"\n");
/// # Ok::<(), agi_proto::EncodeError>(())
/// ```
///
/// # Errors
/// An [`EncodeError`]; nothing is written then.
pub fn encode_command<C: Command + ?Sized>(
    cmd: &C,
    limits: &Limits,
    buf: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let start = buf.len();
    let mut w = ArgWriter::new(buf, limits);
    match cmd.encode(&mut w) {
        Ok(()) => w.finish(),
        Err(e) => {
            buf.truncate(start);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests;
