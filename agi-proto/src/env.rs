//! The environment block Asterisk sends first: `agi_name: value` lines,
//! then an empty line. Parsed once into a small index over the input bytes.

use bytes::Bytes;
use nom::character::complete::char;
use nom::combinator::opt;
use nom::{IResult, Parser};

use crate::error::{ParseError, ParseErrorKind};
use crate::line::{Limits, next_line};
use crate::status::Status;
use crate::value::{Value, parse_int};
use crate::version::AsteriskVersion;

/// The variables Asterisk sends in every environment block, in the order of
/// `setup_env` (FastAGI's two come first on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Var {
    /// `agi_network`: `yes` on FastAGI.
    Network,
    /// `agi_network_script`: the URL path after `host:port/`, verbatim.
    NetworkScript,
    /// `agi_request`: the script name, or the whole `agi://` URL.
    Request,
    /// `agi_channel`: channel name, e.g. `PJSIP/1001-00000007`.
    Channel,
    /// `agi_language`: channel language, e.g. `en`.
    Language,
    /// `agi_type`: channel technology, e.g. `PJSIP`.
    Type,
    /// `agi_uniqueid`: the channel's unique id.
    UniqueId,
    /// `agi_version`: the Asterisk version.
    Version,
    /// `agi_callerid`: caller number, `unknown` when empty.
    CallerId,
    /// `agi_calleridname`: caller name, `unknown` when empty.
    CallerIdName,
    /// `agi_callingpres`: caller presentation, decimal.
    CallingPres,
    /// `agi_callingani2`: ANI II, decimal.
    CallingAni2,
    /// `agi_callington`: caller type of number, decimal.
    CallingTon,
    /// `agi_callingtns`: transit network select, decimal.
    CallingTns,
    /// `agi_dnid`: dialed number, `unknown` when empty.
    Dnid,
    /// `agi_rdnis`: redirecting number, `unknown` when empty.
    Rdnis,
    /// `agi_context`: dialplan context.
    Context,
    /// `agi_extension`: dialplan extension.
    Extension,
    /// `agi_priority`: dialplan priority, decimal.
    Priority,
    /// `agi_enhanced`: `1.0` for EAGI, `0.0` otherwise.
    Enhanced,
    /// `agi_accountcode`: account code, often empty.
    AccountCode,
    /// `agi_threadid`: Asterisk's thread id, decimal.
    ThreadId,
}

const VAR_COUNT: usize = 22;

/// Wire names, in `Var::ALL` order.
const NAMES: [&str; VAR_COUNT] = [
    "agi_network",
    "agi_network_script",
    "agi_request",
    "agi_channel",
    "agi_language",
    "agi_type",
    "agi_uniqueid",
    "agi_version",
    "agi_callerid",
    "agi_calleridname",
    "agi_callingpres",
    "agi_callingani2",
    "agi_callington",
    "agi_callingtns",
    "agi_dnid",
    "agi_rdnis",
    "agi_context",
    "agi_extension",
    "agi_priority",
    "agi_enhanced",
    "agi_accountcode",
    "agi_threadid",
];

impl Var {
    /// Every known variable, in wire order.
    pub const ALL: [Var; VAR_COUNT] = [
        Var::Network,
        Var::NetworkScript,
        Var::Request,
        Var::Channel,
        Var::Language,
        Var::Type,
        Var::UniqueId,
        Var::Version,
        Var::CallerId,
        Var::CallerIdName,
        Var::CallingPres,
        Var::CallingAni2,
        Var::CallingTon,
        Var::CallingTns,
        Var::Dnid,
        Var::Rdnis,
        Var::Context,
        Var::Extension,
        Var::Priority,
        Var::Enhanced,
        Var::AccountCode,
        Var::ThreadId,
    ];

    /// The name on the wire, e.g. `agi_channel`.
    pub fn name(self) -> &'static str {
        // A table rather than a `match`, which compiles to a jump that
        // goes somewhere new on every line of a block.
        NAMES[self as usize]
    }

    /// The known variable with this wire name.
    pub fn from_name(name: &[u8]) -> Option<Var> {
        let rest = name.strip_prefix(b"agi_")?;
        // Dispatch on length and first byte to one candidate, then confirm
        // it against its name with two word compares: a chain of 22 slice
        // comparisons per line would dominate the parse.
        let var = match (rest.len(), *rest.first()?) {
            (4, b't') => Var::Type,
            (4, b'd') => Var::Dnid,
            (5, b'r') => Var::Rdnis,
            (7, b'n') => Var::Network,
            (7, b'r') => Var::Request,
            (7, b'c') if rest[1] == b'h' => Var::Channel,
            (7, b'c') => Var::Context,
            (7, b'v') => Var::Version,
            (8, b'l') => Var::Language,
            (8, b'u') => Var::UniqueId,
            (8, b'c') => Var::CallerId,
            (8, b'p') => Var::Priority,
            (8, b'e') => Var::Enhanced,
            (8, b't') => Var::ThreadId,
            (9, b'e') => Var::Extension,
            (10, b'c') if rest[9] == b'n' => Var::CallingTon,
            (10, b'c') => Var::CallingTns,
            (11, b'c') if rest[7] == b'p' => Var::CallingPres,
            (11, b'c') => Var::CallingAni2,
            (11, b'a') => Var::AccountCode,
            (12, b'c') => Var::CallerIdName,
            (14, b'n') => Var::NetworkScript,
            _ => return None,
        };
        let want = var.name().as_bytes().get(4..).unwrap_or_default();
        eq_name(want, rest).then_some(var)
    }
}

/// Byte range of a value inside the block; `start == u32::MAX` for absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    end: u32,
}

impl Span {
    const ABSENT: Span = Span {
        start: u32::MAX,
        end: 0,
    };
}

/// Where each known value sits in the block: built in one pass, shared by
/// the borrowed and owned forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Index {
    slots: [Span; VAR_COUNT],
    /// Offset of the first `agi_arg_` line (only meaningful with args).
    first_arg: u32,
    arg_count: u32,
}

impl Index {
    const EMPTY: Index = Index {
        slots: [Span::ABSENT; VAR_COUNT],
        first_arg: 0,
        arg_count: 0,
    };

    fn get<'a>(&self, block: &'a [u8], var: Var) -> Option<&'a [u8]> {
        let span = self.slots[var as usize];
        (span.start != u32::MAX).then(|| &block[span.start as usize..span.end as usize])
    }
}

/// The positions of one `name: value` line.
struct Entry<'a> {
    name: &'a [u8],
    value: &'a [u8],
    value_start: usize,
}

/// Splits `name: value` at the first colon, dropping one following space.
/// `None` for a line without a colon (a value with an embedded LF).
#[inline]
fn entry(block: &[u8], start: usize, end: usize) -> Option<Entry<'_>> {
    let (_, (name, value)) = name_value(&block[start..end]).ok()?;
    Some(Entry {
        name,
        value,
        value_start: end - value.len(),
    })
}

/// The grammar of one line, its line feed already cut off: a name up to
/// the first colon, the colon, at most one space, and the value (any
/// bytes, colons included) to the end.
#[inline]
fn name_value(line: &[u8]) -> IResult<&[u8], (&[u8], &[u8])> {
    let (value, (name, _, _)) = (name, char(':'), opt(char(' '))).parse(line)?;
    Ok((&[], (name, value)))
}

/// The bytes before the first colon: `take_until(":")`, with a search
/// suited to names (see `find_colon`).
#[inline]
fn name(line: &[u8]) -> IResult<&[u8], &[u8]> {
    match find_colon(line) {
        Some(colon) => Ok((&line[colon..], &line[..colon])),
        None => Err(nom::Err::Error(nom::error::Error::new(
            line,
            nom::error::ErrorKind::TakeUntil,
        ))),
    }
}

/// The first `:`, eight bytes at a time: names are 8 to 20 bytes, too short
/// for a memchr call to pay off, long enough for a byte loop to show.
#[inline]
fn find_colon(line: &[u8]) -> Option<usize> {
    const COLONS: u64 = u64::from_ne_bytes([b':'; 8]);
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let mut at = 0;
    while let Some(chunk) = line.get(at..at + 8) {
        let x = u64::from_le_bytes(chunk.try_into().unwrap_or_default()) ^ COLONS;
        // A high bit marks a zero byte, i.e. a colon; only bytes after the
        // first real one can be false positives.
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return Some(at + (zeros.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    line[at..].iter().position(|&b| b == b':').map(|p| at + p)
}

/// Equality for names, with two overlapping word loads for 4 to 16 bytes
/// (nearly all of them) instead of a `memcmp` call per line.
#[inline]
fn eq_name(a: &[u8], b: &[u8]) -> bool {
    fn word8(s: &[u8], at: usize) -> u64 {
        u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or_default())
    }
    fn word4(s: &[u8], at: usize) -> u32 {
        u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or_default())
    }
    let n = a.len();
    if n != b.len() {
        return false;
    }
    match n {
        8..=16 => word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8),
        4..=7 => word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4),
        _ => a == b,
    }
}

/// Incremental environment parser that remembers how far it got.
///
/// Feed it the whole buffer each time more bytes arrive; it scans only the
/// new lines, so a peer dribbling a block line by line costs linear time.
/// After a `Complete`, it is ready for the next block.
///
/// ```
/// use agi_proto::{EnvDecoder, Limits, Status};
///
/// let mut decoder = EnvDecoder::new(Limits::default());
/// let mut buf = b"agi_request: router\nagi_chan".to_vec();
/// assert!(matches!(decoder.decode(&buf)?, Status::Partial));
/// buf.extend_from_slice(b"nel: SIP/bob-1\n\n200 result=0\n");
/// let (env, consumed) = decoder.decode(&buf)?.complete().unwrap();
/// assert_eq!(env.channel().unwrap(), "SIP/bob-1");
/// assert_eq!(&buf[consumed..], b"200 result=0\n");
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
#[derive(Debug, Clone)]
pub struct EnvDecoder {
    limits: Limits,
    scanned: usize,
    index: Index,
    /// The variable after the last one seen, in `Var::ALL` order: the one
    /// Asterisk sends next, tried before the general lookup.
    next: usize,
}

impl Default for EnvDecoder {
    fn default() -> Self {
        EnvDecoder::new(Limits::default())
    }
}

impl EnvDecoder {
    /// A decoder enforcing `limits` (`max_line` per line, `max_block` for the
    /// whole block).
    pub fn new(limits: Limits) -> Self {
        EnvDecoder {
            limits,
            scanned: 0,
            index: Index::EMPTY,
            next: 0,
        }
    }

    /// Parses the block at the start of `buf`, which must begin with the
    /// same bytes as in the previous call. Other bytes give wrong results,
    /// never a panic; a buffer shorter than the part already read (a
    /// decoder reused for another stream) starts the block over.
    ///
    /// # Errors
    /// [`ParseErrorKind::NotEnvironment`] when the first line is not an
    /// `agi_` variable (checked as soon as four bytes are in),
    /// [`ParseErrorKind::LineTooLong`] or [`ParseErrorKind::BlockTooLong`]
    /// past the limits. The decoder is reset, and the stream should be
    /// dropped.
    pub fn decode<'b>(&mut self, buf: &'b [u8]) -> Result<Status<Env<'b>>, ParseError> {
        if buf.len() < self.scanned {
            self.reset();
        }
        let decoded = self.decode_from_scanned(buf);
        if !matches!(decoded, Ok(Status::Partial)) {
            self.reset();
        }
        decoded
    }

    fn reset(&mut self) {
        *self = EnvDecoder::new(self.limits);
    }

    /// `decode`, from where the previous call stopped.
    fn decode_from_scanned<'b>(&mut self, buf: &'b [u8]) -> Result<Status<Env<'b>>, ParseError> {
        if self.scanned == 0 {
            let head = &buf[..buf.len().min(4)];
            if !b"agi_".starts_with(head) {
                return Err(ParseError::new(ParseErrorKind::NotEnvironment, buf, 0));
            }
        }
        let block_cap = buf.len().min(self.limits.max_block.min(u32::MAX as usize));
        while let Some(line) = next_line(&buf[..block_cap], self.scanned, self.limits.max_line)? {
            self.scanned = line.next();
            // Only an empty line ends the block: a CR is data (a value of
            // `a\n\r` makes a line holding only CR, no end).
            if line.start == line.end {
                let env = Env {
                    block: &buf[..line.next()],
                    index: self.index,
                };
                return Ok(Status::Complete {
                    value: env,
                    consumed: line.next(),
                });
            }
            // Up to the LF: a CR before it is the value's (Asterisk never
            // writes CRLF; the reference says to trim nothing more).
            self.record(buf, line.start, line.end);
        }
        if buf.len() > self.limits.max_block {
            let limit = self.limits.max_block;
            return Err(ParseError::new(
                ParseErrorKind::BlockTooLong { limit },
                buf,
                0,
            ));
        }
        Ok(Status::Partial)
    }

    fn record(&mut self, buf: &[u8], start: usize, end: usize) {
        // Lines without a colon (a value with an embedded LF) are skipped.
        let Some(e) = entry(buf, start, end) else {
            return;
        };
        // Asterisk writes the variables in one fixed order (`Var::ALL`):
        // confirming the expected one is a predictable compare, where the
        // general lookup's dispatch jumps somewhere new on every line.
        let expected = Var::ALL.get(self.next).copied();
        let var = match expected {
            Some(var) if eq_name(var.name().as_bytes(), e.name) => Some(var),
            _ => Var::from_name(e.name),
        };
        if let Some(var) = var {
            self.next = var as usize + 1;
            self.index.slots[var as usize] = Span {
                start: e.value_start as u32,
                end: end as u32,
            };
        } else if arg_number(e.name).is_some() {
            if self.index.arg_count == 0 {
                self.index.first_arg = start as u32;
            }
            self.index.arg_count += 1;
        }
    }
}

/// `N` of an `agi_arg_N` name.
fn arg_number(name: &[u8]) -> Option<usize> {
    let n = parse_int(name.strip_prefix(b"agi_arg_")?)?;
    usize::try_from(n).ok().filter(|&n| n > 0)
}

/// Parses one environment block with default [`Limits`].
///
/// ```
/// use agi_proto::parse_env;
///
/// let block = b"agi_network: yes\nagi_network_script: ivr?lang=fr\nagi_request: agi://pbx/ivr?lang=fr\n\
///               agi_calleridname: Jos\xe9\nagi_accountcode: \nagi_arg_1: 101\nagi_arg_2: \n\n";
/// let (env, consumed) = parse_env(block)?.complete().unwrap();
/// assert_eq!(consumed, block.len());
/// assert!(env.is_fastagi());
/// assert_eq!(env.network_script().unwrap(), "ivr?lang=fr");
/// assert_eq!(env.callerid_name().unwrap().to_string_lossy(), "Jos\u{fffd}");
/// assert_eq!(env.accountcode().unwrap(), "");
/// assert_eq!(env.args().collect::<Vec<_>>(), ["101", ""]);
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
pub fn parse_env(buf: &[u8]) -> Result<Status<Env<'_>>, ParseError> {
    EnvDecoder::default().decode(buf)
}

/// A parsed environment block, borrowing the input bytes.
///
/// Lookups are cheap: the parse recorded where each known variable's value
/// sits. Values keep the bytes Asterisk sent (`unknown` stays `unknown`).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Env<'a> {
    block: &'a [u8],
    index: Index,
}

impl Default for Env<'_> {
    /// An empty block: every variable absent, no arguments.
    fn default() -> Self {
        Env {
            block: &[],
            index: Index::EMPTY,
        }
    }
}

/// Where each value of a parsed block sits, without the bytes.
///
/// For drivers that keep the block in their own read buffer: store the
/// index beside it and rebuild the [`Env`] view at no cost, instead of
/// copying the block into an [`OwnedEnv`].
///
/// ```
/// use agi_proto::parse_env;
///
/// let mut buf = b"agi_request: router\nagi_extension: 101\n\n".to_vec();
/// let (env, consumed) = parse_env(&buf)?.complete().unwrap();
/// let index = env.index();
/// buf.extend_from_slice(b"200 result=0\n"); // the buffer moves on
/// let env = index.env(&buf[..consumed]).unwrap();
/// assert_eq!(env.extension().unwrap(), "101");
/// assert!(index.env(&buf).is_none(), "not the block it was built from");
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnvIndex {
    index: Index,
    len: usize,
}

impl EnvIndex {
    /// The view over `block`, which must be the block this index was built
    /// from; `None` when its length differs. (Other bytes of the same length
    /// give wrong values, never a panic.)
    pub fn env<'a>(&self, block: &'a [u8]) -> Option<Env<'a>> {
        (block.len() == self.len).then_some(Env {
            block,
            index: self.index,
        })
    }

    /// The length of the block, final empty line included.
    pub fn block_len(&self) -> usize {
        self.len
    }
}

/// An environment block that owns its bytes (a cheaply clonable [`Bytes`]),
/// for keeping past the read buffer.
///
/// ```
/// use agi_proto::{parse_env, OwnedEnv};
///
/// let owned: OwnedEnv = {
///     let buf = b"agi_request: router\nagi_extension: 101\n\n".to_vec();
///     parse_env(&buf)?.complete().unwrap().0.into_owned()
/// };
/// assert_eq!(owned.env().extension().unwrap(), "101");
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct OwnedEnv {
    block: Bytes,
    index: Index,
}

impl OwnedEnv {
    /// Parses a complete block held in `bytes` without copying it.
    ///
    /// # Errors
    /// The parse error, or [`ParseErrorKind::UnexpectedEof`] when `bytes`
    /// does not hold a whole block.
    pub fn from_bytes(bytes: Bytes, limits: Limits) -> Result<OwnedEnv, ParseError> {
        let (env, consumed) = EnvDecoder::new(limits)
            .decode(&bytes)?
            .complete()
            .ok_or_else(|| ParseError::new(ParseErrorKind::UnexpectedEof, &bytes, bytes.len()))?;
        let index = env.index;
        Ok(OwnedEnv {
            block: bytes.slice(..consumed),
            index,
        })
    }

    /// A borrowed view with all of [`Env`]'s accessors.
    pub fn env(&self) -> Env<'_> {
        Env {
            block: &self.block,
            index: self.index,
        }
    }

    /// The raw block, final empty line included.
    pub fn as_bytes(&self) -> &Bytes {
        &self.block
    }
}

impl std::fmt::Debug for OwnedEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.env().fmt(f)
    }
}

impl<'a> Env<'a> {
    /// Copies the block into an [`OwnedEnv`].
    pub fn into_owned(self) -> OwnedEnv {
        OwnedEnv {
            block: Bytes::copy_from_slice(self.block),
            index: self.index,
        }
    }

    /// The raw block, final empty line included.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.block
    }

    /// The positions of the values, to rebuild this view later over the
    /// same bytes (see [`EnvIndex`]).
    pub fn index(&self) -> EnvIndex {
        EnvIndex {
            index: self.index,
            len: self.block.len(),
        }
    }

    /// The value of a known variable.
    pub fn var(&self, var: Var) -> Option<Value<'a>> {
        self.index.get(self.block, var).map(Value::borrowed)
    }

    /// The value of any variable by its wire name (`agi_channel`), including
    /// names this crate does not know. A name sent twice (Asterisk does
    /// not) gives its last line's value, as the parse keeps for known ones.
    pub fn get(&self, name: &str) -> Option<Value<'a>> {
        if let Some(var) = Var::from_name(name.as_bytes()) {
            return self.var(var);
        }
        self.iter()
            .filter(|(n, _)| *n == name.as_bytes())
            .last()
            .map(|(_, v)| v)
    }

    /// Every `(name, value)` line in wire order.
    pub fn iter(&self) -> impl Iterator<Item = (&'a [u8], Value<'a>)> + 'a {
        self.entries_from(0)
            .map(|e| (e.name, Value::borrowed(e.value)))
    }

    fn entries_from(&self, from: usize) -> impl Iterator<Item = Entry<'a>> + 'a {
        let block = self.block;
        let mut at = from;
        std::iter::from_fn(move || {
            loop {
                let line = next_line(block, at, usize::MAX).ok()??;
                if line.start == line.end {
                    return None;
                }
                at = line.next();
                if let Some(e) = entry(block, line.start, line.end) {
                    return Some(e);
                }
            }
        })
    }

    /// The dialplan arguments `agi_arg_1..agi_arg_N`, in the order sent.
    /// Empty arguments are empty values.
    pub fn args(&self) -> impl Iterator<Item = Value<'a>> + 'a {
        let (from, count) = (self.index.first_arg as usize, self.index.arg_count as usize);
        let entries = if count == 0 {
            self.entries_from(self.block.len())
        } else {
            self.entries_from(from)
        };
        entries
            .filter(|e| arg_number(e.name).is_some())
            .take(count)
            .map(|e| Value::borrowed(e.value))
    }

    /// `agi_arg_n` (counted from 1); its last line if sent twice, as
    /// [`Env::get`] gives.
    pub fn arg(&self, n: usize) -> Option<Value<'a>> {
        if self.index.arg_count == 0 {
            return None;
        }
        self.entries_from(self.index.first_arg as usize)
            .filter(|e| arg_number(e.name) == Some(n))
            .last()
            .map(|e| Value::borrowed(e.value))
    }

    /// How many `agi_arg_N` lines the block holds.
    pub fn arg_count(&self) -> usize {
        self.index.arg_count as usize
    }

    /// `agi_request`: the script name as written in the dialplan, or the
    /// whole `agi://` URL.
    pub fn request(&self) -> Option<Value<'a>> {
        self.var(Var::Request)
    }
    /// `agi_channel`: the channel name.
    pub fn channel(&self) -> Option<Value<'a>> {
        self.var(Var::Channel)
    }
    /// `agi_language`: the channel's language.
    pub fn language(&self) -> Option<Value<'a>> {
        self.var(Var::Language)
    }
    /// `agi_type`: the channel technology.
    pub fn channel_type(&self) -> Option<Value<'a>> {
        self.var(Var::Type)
    }
    /// `agi_uniqueid`: the channel's unique id.
    pub fn uniqueid(&self) -> Option<Value<'a>> {
        self.var(Var::UniqueId)
    }
    /// `agi_version`: the Asterisk version string.
    pub fn version(&self) -> Option<Value<'a>> {
        self.var(Var::Version)
    }
    /// `agi_version` read as an [`AsteriskVersion`] (unknown when absent),
    /// which gives the longest command line the peer accepts.
    pub fn asterisk_version(&self) -> AsteriskVersion {
        AsteriskVersion::parse(self.var(Var::Version).as_deref().unwrap_or_default())
    }
    /// `agi_callerid`: the caller's number (`unknown` when empty).
    pub fn callerid(&self) -> Option<Value<'a>> {
        self.var(Var::CallerId)
    }
    /// `agi_calleridname`: the caller's name, any bytes (`unknown` when empty).
    pub fn callerid_name(&self) -> Option<Value<'a>> {
        self.var(Var::CallerIdName)
    }
    /// `agi_callingpres`: the combined presentation value.
    pub fn callingpres(&self) -> Option<i64> {
        self.int(Var::CallingPres)
    }
    /// `agi_callingani2`: ANI II digits.
    pub fn callingani2(&self) -> Option<i64> {
        self.int(Var::CallingAni2)
    }
    /// `agi_callington`: caller type of number.
    pub fn callington(&self) -> Option<i64> {
        self.int(Var::CallingTon)
    }
    /// `agi_callingtns`: transit network select.
    pub fn callingtns(&self) -> Option<i64> {
        self.int(Var::CallingTns)
    }
    /// `agi_dnid`: the dialed number (`unknown` when empty).
    pub fn dnid(&self) -> Option<Value<'a>> {
        self.var(Var::Dnid)
    }
    /// `agi_rdnis`: the redirecting number (`unknown` when empty).
    pub fn rdnis(&self) -> Option<Value<'a>> {
        self.var(Var::Rdnis)
    }
    /// `agi_context`: the dialplan context.
    pub fn context(&self) -> Option<Value<'a>> {
        self.var(Var::Context)
    }
    /// `agi_extension`: the dialplan extension.
    pub fn extension(&self) -> Option<Value<'a>> {
        self.var(Var::Extension)
    }
    /// `agi_priority`: the dialplan priority.
    pub fn priority(&self) -> Option<i64> {
        self.int(Var::Priority)
    }
    /// `agi_enhanced`: `true` for EAGI (`1.0`), when audio waits on fd 3.
    pub fn enhanced(&self) -> bool {
        self.var(Var::Enhanced).is_some_and(|v| v == "1.0")
    }
    /// `agi_accountcode`: the account code, often empty.
    pub fn accountcode(&self) -> Option<Value<'a>> {
        self.var(Var::AccountCode)
    }
    /// `agi_threadid`: Asterisk's thread id.
    pub fn threadid(&self) -> Option<i64> {
        self.int(Var::ThreadId)
    }
    /// `agi_network`: `true` when the session came over FastAGI.
    pub fn is_fastagi(&self) -> bool {
        self.var(Var::Network).is_some_and(|v| v == "yes")
    }
    /// `agi_network_script`: the FastAGI URL path after `host:port/`,
    /// query string included; absent when the URL had no path.
    pub fn network_script(&self) -> Option<Value<'a>> {
        self.var(Var::NetworkScript)
    }

    fn int(&self, var: Var) -> Option<i64> {
        self.index.get(self.block, var).and_then(parse_int)
    }
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.iter().map(|(n, v)| (Value::borrowed(n), v)))
            .finish()
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod colon_tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn find_colon_agrees_with_a_plain_scan(line in proptest::collection::vec(prop::sample::select(vec![b':', b'a', 0x3b, 0x39, 0xba, 0]), 0..40)) {
            prop_assert_eq!(super::find_colon(&line), line.iter().position(|&b| b == b':'));
        }
    }
}
