//! Asterisk's side after the environment: one frame per reply line, or a
//! multi-line `520` usage block, or the out-of-band `HANGUP` line.

use nom::bytes::complete::tag;
use nom::combinator::eof;
use nom::{IResult, Parser};

use crate::error::{ParseError, ParseErrorKind};
use crate::line::{Limits, next_line};
use crate::status::Status;
use crate::value::parse_int;

/// One thing Asterisk sent after the environment block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// `<code> result=<value>…`: `200` replies, GOSUB's interim `100`, and
    /// GOSUB's `503`.
    Reply(Reply<'a>),
    /// The bare `HANGUP` line a FastAGI peer gets when the caller hangs up,
    /// between replies, and once more when the session ends.
    Hangup,
    /// `510 Invalid or unknown command`.
    InvalidCommand,
    /// `511 Command Not Permitted on a dead channel or intercept routine`.
    DeadChannel,
    /// `520`: a usage block (`520-…` lines up to `520 End of proper usage.`)
    /// or its one-line form.
    Usage(Usage<'a>),
    /// Any other `<code> <text>` line.
    Other {
        /// The three-digit code.
        code: u16,
        /// The text after it.
        text: &'a [u8],
    },
}

/// Asterisk's usage text from a `520` reply, for humans: it keeps the XML
/// markup of Asterisk's documentation and is not meant to be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage<'a> {
    /// The lines between `520-…` and `520 End of proper usage.`, or the text
    /// of the one-line form.
    pub text: &'a [u8],
}

/// A `<code> result=<value>[ (<data>)][ key=value…| free text]` line.
///
/// Only the framing is checked when parsing; the accessors read the rest on
/// demand, because the same shape means different things per command.
///
/// ```
/// use agi_proto::{parse_frame, Frame};
///
/// let (frame, _) = parse_frame(b"200 result=1 (he said \"hi\" (ok) )()\n")?.complete().unwrap();
/// let Frame::Reply(reply) = frame else { unreachable!() };
/// assert_eq!(reply.result_int(), Some(1));
/// assert_eq!(reply.data().unwrap(), b"he said \"hi\" (ok) )(");
///
/// let (frame, _) = parse_frame(b"200 result=53 endpos=10560\n")?.complete().unwrap();
/// let Frame::Reply(reply) = frame else { unreachable!() };
/// assert_eq!(reply.field("endpos"), Some(&b"10560"[..]));
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    line: &'a [u8],
    code: u16,
    /// Where the value ends; it starts after `NNN result=`. Offsets instead
    /// of slices keep frames small, and they are returned by value per line.
    result_end: u32,
}

/// Length of `NNN result=`.
const RESULT_START: usize = 11;

impl<'a> Reply<'a> {
    /// The three-digit code: 200, or 100 / 503 from GOSUB.
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The whole line, without its line feed (the lines, when its data
    /// holds line feeds: see [`Reply::data`]).
    pub fn line(&self) -> &'a [u8] {
        self.line
    }

    /// The raw `result=` value: an integer, or GET DATA's digit string
    /// (possibly empty, possibly with `*` and leading zeros).
    pub fn result(&self) -> &'a [u8] {
        &self.line[RESULT_START..self.result_end as usize]
    }

    /// The `result=` value as an integer, when it is one.
    #[inline]
    pub fn result_int(&self) -> Option<i64> {
        parse_int(self.result())
    }

    /// What follows the value, leading space removed: free text such as
    /// `Gosub complete`, or `(data) key=value…`.
    pub fn text(&self) -> &'a [u8] {
        let tail = &self.line[self.result_end as usize..];
        tail.strip_prefix(b" ").unwrap_or(tail)
    }

    /// The parenthesised data of GET VARIABLE, DATABASE GET and friends: from
    /// the first `(` to the **last** `)` of the line, since Asterisk does not
    /// escape it. `None` when the reply has no `(`.
    ///
    /// Nor does Asterisk escape a line feed in it: when the first line has
    /// no `)`, the data runs on to the first line that ends in one. Nothing
    /// on the wire says where such data ends, so a value with a line feed
    /// and a `)` can end early (at a first line holding a `)`, or at a
    /// later line ending in one), and its rest is then read as what comes
    /// next: garbage that fails the session, or, if it was made to look
    /// like one, the next command's reply. Text from outside the PBX (a
    /// message from the far end read with RECEIVE TEXT, a variable set from
    /// one) should cross encoded: `${BASE64_ENCODE(${X})}` in the dialplan,
    /// as the protocol reference advises.
    pub fn data(&self) -> Option<&'a [u8]> {
        let inner = self.text().strip_prefix(b"(")?;
        let close = memchr::memrchr(b')', inner)?;
        Some(&inner[..close])
    }

    /// The fixed word in parentheses of RECORD FILE, GET DATA, RECEIVE CHAR
    /// and SPEECH RECOGNIZE (`timeout`, `dtmf`, `hangup`…): up to the
    /// **first** `)`.
    pub fn keyword(&self) -> Option<&'a [u8]> {
        let inner = self.text().strip_prefix(b"(")?;
        let close = memchr::memchr(b')', inner)?;
        Some(&inner[..close])
    }

    /// The value of a `key=value` field after the keyword (`endpos`,
    /// `results`, `digit`, `score0`…). A value in double quotes
    /// (`text0="…"`) is returned without them.
    pub fn field(&self, key: &str) -> Option<&'a [u8]> {
        self.fields()
            .find(|(k, _)| *k == key.as_bytes())
            .map(|(_, v)| v)
    }

    /// All `key=value` fields after the keyword, in order.
    pub fn fields(&self) -> impl Iterator<Item = (&'a [u8], &'a [u8])> + 'a {
        let mut rest = self.text();
        if rest.first() == Some(&b'(') {
            rest = memchr::memchr(b')', rest).map_or(&[][..], |i| &rest[i + 1..]);
        }
        std::iter::from_fn(move || {
            loop {
                rest = trim_start(rest);
                if rest.is_empty() {
                    return None;
                }
                let eq = memchr::memchr2(b'=', b' ', rest);
                match eq {
                    Some(i) if rest[i] == b'=' => {
                        let key = &rest[..i];
                        let after = &rest[i + 1..];
                        let (value, next) = field_value(after);
                        rest = next;
                        return Some((key, value));
                    }
                    Some(i) => rest = &rest[i..],
                    None => rest = &[],
                }
            }
        })
    }
}

fn trim_start(mut s: &[u8]) -> &[u8] {
    while let [b' ', tail @ ..] = s {
        s = tail;
    }
    s
}

/// A field value: `"…"`, or up to the next space.
///
/// Asterisk does not escape quotes inside a quoted value (SPEECH
/// RECOGNIZE's `text0="say "hi" now"`), so the closing quote is the first
/// one that ends the line or comes before the next ` name=`. A value whose
/// closing quote never comes (a line Asterisk cut short) runs to the end.
fn field_value(s: &[u8]) -> (&[u8], &[u8]) {
    if let Some(inner) = s.strip_prefix(b"\"") {
        let mut from = 0;
        while let Some(q) = memchr::memchr(b'"', &inner[from..]) {
            let q = from + q;
            let after = &inner[q + 1..];
            if trim_start(after).is_empty() || starts_field(after) {
                return (&inner[..q], after);
            }
            from = q + 1;
        }
        return (inner, &[]);
    }
    let end = memchr::memchr(b' ', s).unwrap_or(s.len());
    (&s[..end], &s[end..])
}

/// `true` when `s` is a space, then `name=`.
fn starts_field(s: &[u8]) -> bool {
    let Some(rest) = s.strip_prefix(b" ") else {
        return false;
    };
    let name = rest
        .iter()
        .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
        .count();
    name > 0 && rest.get(name) == Some(&b'=')
}

impl std::fmt::Debug for Reply<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reply({:?})", self.line.escape_ascii().to_string())
    }
}

/// What the first line of a frame is.
enum Head<'a> {
    Hangup,
    Reply {
        code: u16,
        result: &'a [u8],
        tail: &'a [u8],
    },
    Text {
        code: u16,
        text: &'a [u8],
    },
    BlockStart {
        code: u16,
    },
}

fn reply_code(input: &[u8]) -> IResult<&[u8], u16> {
    match input {
        [a, b, c, rest @ ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            Ok((
                rest,
                u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'),
            ))
        }
        _ => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Digit,
        ))),
    }
}

fn head(line: &[u8]) -> IResult<&[u8], Head<'_>> {
    // Branch on the first byte instead of trying alternatives in turn: this
    // runs once per reply.
    if line.first() == Some(&b'H') {
        let (rest, _) = tag(&b"HANGUP"[..]).parse(line)?;
        let (rest, _) = eof(rest)?;
        return Ok((rest, Head::Hangup));
    }
    let (input, code) = reply_code(line)?;
    match input.first() {
        Some(b' ') => match tag::<_, _, nom::error::Error<&[u8]>>(&b" result="[..]).parse(input) {
            Ok((r, _)) => {
                // Values are a few bytes: a plain scan beats a memchr call.
                let end = r.iter().position(|&b| b == b' ').unwrap_or(r.len());
                Ok((
                    &[],
                    Head::Reply {
                        code,
                        result: &r[..end],
                        tail: &r[end..],
                    },
                ))
            }
            Err(_) => Ok((
                &[],
                Head::Text {
                    code,
                    text: &input[1..],
                },
            )),
        },
        Some(b'-') => Ok((&input[1..], Head::BlockStart { code })),
        _ => Err(nom::Err::Error(nom::error::Error::new(
            input,
            nom::error::ErrorKind::Tag,
        ))),
    }
}

/// `true` when `bytes` could still grow into a valid first line; lets the
/// decoder refuse garbage before its line feed arrives.
fn plausible_prefix(bytes: &[u8]) -> bool {
    if bytes.first() == Some(&b'H') {
        let n = bytes.len().min(6);
        return bytes[..n] == b"HANGUP"[..n];
    }
    bytes.iter().take(3).all(u8::is_ascii_digit)
        && bytes.get(3).is_none_or(|&b| b == b' ' || b == b'-')
}

fn valid_result(value: &[u8]) -> bool {
    let digits = value.strip_prefix(b"-").unwrap_or(value);
    digits
        .iter()
        .all(|&b| b.is_ascii_digit() || matches!(b, b'*' | b'#' | b'A'..=b'D'))
}

/// Incremental reply parser that remembers how far it got, so a slow peer
/// or a long usage block costs linear time.
///
/// ```
/// use agi_proto::{Frame, FrameDecoder, Limits, Status};
///
/// let mut decoder = FrameDecoder::new(Limits::default());
/// let mut buf = b"520-Invalid command syntax.  Proper usage follows:\nSends a message.\n".to_vec();
/// assert!(matches!(decoder.decode(&buf)?, Status::Partial));
/// buf.extend_from_slice(b"520 End of proper usage.\n");
/// let (frame, consumed) = decoder.decode(&buf)?.complete().unwrap();
/// assert_eq!(consumed, buf.len());
/// let Frame::Usage(usage) = frame else { unreachable!() };
/// assert_eq!(usage.text, b"Sends a message.");
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct FrameDecoder {
    limits: Limits,
    /// Bytes of the first line already searched for a line feed.
    searched: usize,
    /// A frame of several lines whose first line has been read.
    pending: Option<Pending>,
}

/// What the lines after a first line belong to, and where the next starts.
#[derive(Debug, Clone, Copy)]
enum Pending {
    /// A `NNN-` block, to its closing `NNN ` line.
    Block { code: u16, next: usize },
    /// A reply whose data holds line feeds, to the line that ends in `)`;
    /// `result_end` as in [`Reply`].
    Data {
        code: u16,
        result_end: u32,
        next: usize,
    },
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(Limits::default())
    }
}

impl FrameDecoder {
    /// A decoder enforcing `limits.max_line` per line and `limits.max_block`
    /// per usage block.
    pub fn new(mut limits: Limits) -> Self {
        // Reply offsets are kept as u32.
        limits.max_line = limits.max_line.min(u32::MAX as usize);
        FrameDecoder {
            limits,
            searched: 0,
            pending: None,
        }
    }

    fn reset(&mut self) {
        self.searched = 0;
        self.pending = None;
    }

    /// Parses the frame at the start of `buf`, which must begin with the
    /// same bytes as in the previous call. Other bytes give wrong results,
    /// never a panic; a buffer shorter than the part already read (a
    /// decoder reused for another stream) starts the frame over.
    ///
    /// # Errors
    /// A [`ParseError`] naming the problem and its offset; the decoder is
    /// reset and the stream should be dropped.
    #[inline]
    pub fn decode<'b>(&mut self, buf: &'b [u8]) -> Result<Status<Frame<'b>>, ParseError> {
        // The usual reply, whole in the buffer, from a decoder that has
        // nothing pending: read in one pass, leaving nothing to reset.
        if self.searched == 0 && self.pending.is_none() {
            if let Some(done) = usual_reply(buf, self.limits.max_line) {
                return Ok(done);
            }
        }
        let result = self.decode_inner(buf);
        if !matches!(result, Ok(Status::Partial)) {
            self.reset();
        }
        result
    }

    /// How far the previous calls read: the least the next buffer holds.
    fn resume_at(&self) -> usize {
        match self.pending {
            Some(Pending::Block { next, .. } | Pending::Data { next, .. }) => next,
            None => self.searched,
        }
    }

    /// `decode` past the one-pass reader: the restart for a shorter buffer,
    /// then the frame from where the previous call stopped.
    fn decode_inner<'b>(&mut self, buf: &'b [u8]) -> Result<Status<Frame<'b>>, ParseError> {
        if buf.len() < self.resume_at() {
            self.reset();
        }
        match self.pending {
            Some(Pending::Block { code, next }) => self.block_rest(buf, code, next),
            Some(Pending::Data {
                code,
                result_end,
                next,
            }) => self.data_rest(buf, code, result_end, next),
            None => self.decode_line(buf),
        }
    }

    /// The general path: any first line, complete or not.
    fn decode_line<'b>(&mut self, buf: &'b [u8]) -> Result<Status<Frame<'b>>, ParseError> {
        let lf = memchr::memchr(b'\n', &buf[self.searched..]).map(|i| i + self.searched);
        let lf = match lf {
            Some(lf) if lf <= self.limits.max_line => lf,
            lf => {
                // A line still arriving, or past the limit, is judged by its
                // start alone, so that the error does not depend on whether
                // its line feed had arrived.
                if !plausible_prefix(buf) {
                    return Err(ParseError::new(ParseErrorKind::InvalidLine, buf, 0));
                }
                if lf.unwrap_or(buf.len()) > self.limits.max_line {
                    let limit = self.limits.max_line;
                    return Err(ParseError::new(
                        ParseErrorKind::LineTooLong { limit },
                        buf,
                        0,
                    ));
                }
                self.searched = buf.len();
                return Ok(Status::Partial);
            }
        };
        let line = &buf[..lf];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let consumed = lf + 1;
        let complete = |value| Ok(Status::Complete { value, consumed });
        let Ok((_, head)) = head(line) else {
            return Err(ParseError::new(ParseErrorKind::InvalidLine, buf, 0));
        };
        match head {
            Head::Hangup => complete(Frame::Hangup),
            Head::Reply { code, result, tail } => {
                let at = line.len() - tail.len() - result.len();
                if !valid_result(result) {
                    return Err(ParseError::new(ParseErrorKind::InvalidResult, buf, at));
                }
                // Lines are bounded by `max_line`, far below 4 GiB.
                let result_end = (line.len() - tail.len()) as u32;
                if tail.starts_with(b" (") && !tail.contains(&b')') {
                    return self.data_rest(buf, code, result_end, consumed);
                }
                complete(Frame::Reply(Reply {
                    line,
                    code,
                    result_end,
                }))
            }
            Head::Text { code, text } => complete(match code {
                510 => Frame::InvalidCommand,
                511 => Frame::DeadChannel,
                520 => Frame::Usage(Usage { text }),
                _ => Frame::Other { code, text },
            }),
            // The block holds its first line: past `max_block` already
            // (a limit set below `max_line`), nothing more to read.
            Head::BlockStart { .. } if consumed > self.limits.max_block => {
                let limit = self.limits.max_block;
                Err(ParseError::new(
                    ParseErrorKind::BlockTooLong { limit },
                    buf,
                    0,
                ))
            }
            Head::BlockStart { code } => self.block_rest(buf, code, consumed),
        }
    }

    /// The rest of a reply whose `(` its first line did not close: data
    /// with line feeds in it (RECEIVE TEXT of a message of several lines,
    /// GET VARIABLE of a value holding one), which Asterisk does not escape.
    /// It runs to the first line that ends in `)`, all within `max_line`.
    fn data_rest<'b>(
        &mut self,
        buf: &'b [u8],
        code: u16,
        result_end: u32,
        mut next: usize,
    ) -> Result<Status<Frame<'b>>, ParseError> {
        let cap = buf.len().min(self.limits.max_line.saturating_add(1));
        while let Some(line) = next_line(&buf[..cap], next, usize::MAX)? {
            let whole = &buf[..line.end];
            let whole = whole.strip_suffix(b"\r").unwrap_or(whole);
            if whole.ends_with(b")") {
                return Ok(Status::Complete {
                    value: Frame::Reply(Reply {
                        line: whole,
                        code,
                        result_end,
                    }),
                    consumed: line.next(),
                });
            }
            next = line.next();
        }
        if buf.len() > self.limits.max_line {
            let limit = self.limits.max_line;
            return Err(ParseError::new(
                ParseErrorKind::LineTooLong { limit },
                buf,
                0,
            ));
        }
        self.pending = Some(Pending::Data {
            code,
            result_end,
            next,
        });
        Ok(Status::Partial)
    }

    /// Reads the lines of a `NNN-` block up to its closing `NNN ` line.
    fn block_rest<'b>(
        &mut self,
        buf: &'b [u8],
        code: u16,
        mut next: usize,
    ) -> Result<Status<Frame<'b>>, ParseError> {
        let body_start = memchr::memchr(b'\n', buf).map_or(0, |i| i + 1);
        // `next <= cap`: `decode_line` refused a first line past
        // `max_block`, and each line read stays within `cap`.
        let cap = buf.len().min(self.limits.max_block);
        while let Some(line) = next_line(&buf[..cap], next, self.limits.max_line)? {
            let l = &buf[line.start..line.end];
            if l.len() >= 4 && l[3] == b' ' && reply_code(l).is_ok_and(|(_, c)| c == code) {
                let text = &buf[body_start..line.start.saturating_sub(1).max(body_start)];
                let text = text.strip_suffix(b"\r").unwrap_or(text);
                let frame = match code {
                    520 => Frame::Usage(Usage { text }),
                    _ => Frame::Other { code, text },
                };
                return Ok(Status::Complete {
                    value: frame,
                    consumed: line.next(),
                });
            }
            next = line.next();
        }
        if buf.len() > self.limits.max_block {
            let limit = self.limits.max_block;
            return Err(ParseError::new(
                ParseErrorKind::BlockTooLong { limit },
                buf,
                0,
            ));
        }
        self.pending = Some(Pending::Block { code, next });
        Ok(Status::Partial)
    }
}

/// The reply to nearly every command, `200 result=<value>[ <text>]\n`
/// where the value is digits with an optional leading `-` (or nothing),
/// read in one pass without the general path's line search and grammar.
/// `None` for anything else or in doubt (no line feed yet, a CR before the
/// line feed, another code, `*`, `#` or `A`-`D` in the value, a line past
/// `max_line`, an unterminated `(`): the general path then reads it, and
/// gives the same frame for every line this accepts.
#[inline]
fn usual_reply(buf: &[u8], max_line: usize) -> Option<Status<Frame<'_>>> {
    let rest = buf.strip_prefix(b"200 result=")?;
    let sign = usize::from(rest.first() == Some(&b'-'));
    let value_len = sign
        + rest[sign..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    let value_end = RESULT_START + value_len;
    // What follows the value, up to where `max_line` allows the line feed:
    // the general path reports a longer line.
    let room = max_line.saturating_add(1).saturating_sub(value_end);
    let after = &rest[value_len..rest.len().min(value_len + room)];
    let lf = value_end
        + match after.first()? {
            b'\n' => 0,
            b' ' => {
                let lf = memchr::memchr(b'\n', after)?;
                let tail = &after[..lf];
                if tail.last() == Some(&b'\r')
                    // An unterminated `(`; its `)` is most often last.
                    || (tail.starts_with(b" (")
                        && tail.last() != Some(&b')')
                        && memchr::memrchr(b')', tail).is_none())
                {
                    return None;
                }
                lf
            }
            _ => return None,
        };
    Some(Status::Complete {
        value: Frame::Reply(Reply {
            line: &buf[..lf],
            code: 200,
            // `lf <= max_line`, which the decoder keeps below 4 GiB.
            result_end: value_end as u32,
        }),
        consumed: lf + 1,
    })
}

/// Parses one frame with default [`Limits`].
///
/// ```
/// use agi_proto::{parse_frame, Frame, Status};
///
/// let buf = b"HANGUP\n200 result= (timeout)\n";
/// let (frame, used) = parse_frame(buf)?.complete().unwrap();
/// assert_eq!(frame, Frame::Hangup);
/// let (frame, _) = parse_frame(&buf[used..])?.complete().unwrap();
/// let Frame::Reply(reply) = frame else { unreachable!() };
/// assert_eq!(reply.result(), b"");
/// assert_eq!(reply.keyword(), Some(&b"timeout"[..]));
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
#[inline]
pub fn parse_frame(buf: &[u8]) -> Result<Status<Frame<'_>>, ParseError> {
    FrameDecoder::default().decode(buf)
}

#[cfg(test)]
mod tests;
