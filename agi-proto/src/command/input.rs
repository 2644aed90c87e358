//! Caller input: GET DATA, WAIT FOR DIGIT, RECORD FILE, RECEIVE CHAR,
//! RECEIVE TEXT.
//!
//! ```
//! use agi_proto::command::{Command, GetData, Input};
//! use agi_proto::{parse_frame, Frame};
//!
//! // GET DATA's result is the digit string itself, possibly empty.
//! let (Frame::Reply(reply), _) = parse_frame(b"200 result= (timeout)\n")?.complete().unwrap() else { unreachable!() };
//! let Input { digits, timed_out } = GetData::new("enter-pin").parse_reply(&reply)?;
//! assert!(digits.is_empty() && timed_out);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use super::types::{Digit, EscapeDigits};
use super::{Command, digit_of, escape_arg, int_field, millis, rejected, result_of, unexpected};
use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;
use crate::value::Value;

/// Digits collected by GET DATA.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// The keys pressed, in order (`0-9`, `*`, `A-D`; `#` ends input and is
    /// never included). May be empty.
    pub digits: String,
    /// `true` when input ended because the caller stopped typing, rather than
    /// by `#` or reaching the maximum.
    pub timed_out: bool,
}

/// `GET DATA <file> [timeout_ms] [maxdigits]`: plays a prompt and collects
/// digits until `#`, `max_digits`, or a pause of `timeout`.
///
/// # Errors
/// [`Failure::Rejected`] (`result=-1`) on hangup, error, or a missing prompt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetData<'a> {
    /// Prompt file; empty for none.
    pub prompt: &'a str,
    /// Wait for each digit; `None` uses Asterisk's 6 s first / 2 s between.
    pub timeout: Option<Duration>,
    /// Stop after this many digits: 1 to [`GetData::MAX_DIGITS`] (1023),
    /// as Asterisk collects them into a 1,024-byte buffer with its string's
    /// end. `None` leaves Asterisk's default, 1,024, which a caller could
    /// only reach by keying 1,024 digits without a pause or `#`: set it
    /// when callers are not trusted.
    pub max_digits: Option<u16>,
}

impl<'a> GetData<'a> {
    /// The most digits one GET DATA may ask for: Asterisk's buffer holds
    /// 1,024 bytes, the string's end included.
    pub const MAX_DIGITS: u16 = 1023;

    /// Plays `prompt` and collects digits with Asterisk's default timeouts.
    pub fn new(prompt: &'a str) -> Self {
        GetData {
            prompt,
            timeout: None,
            max_digits: None,
        }
    }
}

impl Command for GetData<'_> {
    type Output = Input;
    const NAME: &'static str = "GET DATA";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        match self.max_digits {
            Some(0) => {
                return Err(EncodeError::InvalidArgument(
                    "GET DATA max_digits must be at least 1",
                ));
            }
            Some(n) if n > Self::MAX_DIGITS => {
                return Err(EncodeError::InvalidArgument(
                    "GET DATA max_digits must be at most 1023 (Asterisk's buffer)",
                ));
            }
            _ => {}
        }
        w.words(Self::NAME);
        w.arg(self.prompt)?;
        if self.timeout.is_some() || self.max_digits.is_some() {
            // 0 selects Asterisk's default timeouts.
            w.int(self.timeout.map_or(0, |t| millis(t).max(1)));
        }
        if let Some(max) = self.max_digits {
            w.int(max);
        }
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Input, Failure> {
        if reply.code() != 200 {
            return Err(unexpected(Self::NAME, reply));
        }
        // The result is the digit string itself, so `-1` is the only failure.
        if reply.result() == b"-1" {
            return Err(rejected(Self::NAME, -1, reply));
        }
        let digits = std::str::from_utf8(reply.result())
            .ok()
            .filter(|d| !d.starts_with('-'))
            .ok_or_else(|| unexpected(Self::NAME, reply))?;
        Ok(Input {
            digits: digits.to_owned(),
            timed_out: reply.keyword() == Some(b"timeout"),
        })
    }
}

/// `WAIT FOR DIGIT <timeout_ms>`: waits for one key; `None` when the time
/// ran out.
///
/// # Errors
/// [`Failure::Rejected`] on hangup or error (`result=-1`), and for the two
/// other ways Asterisk ends the wait without a key: `result=1` when bytes
/// arrived on the command channel (another command written meanwhile,
/// which a client of this crate never does), and `result=1000` to `1004`
/// when a stream-control frame arrived (stop, pause, restart, rewind,
/// forward: AMI's `ControlPlayback`, for instance). The result says which.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WaitForDigit {
    /// How long to wait; `None` waits forever.
    pub timeout: Option<Duration>,
}

impl WaitForDigit {
    /// Waits up to `timeout`.
    pub fn new(timeout: Duration) -> Self {
        WaitForDigit {
            timeout: Some(timeout),
        }
    }
}

impl Command for WaitForDigit {
    type Output = Option<Digit>;
    const NAME: &'static str = "WAIT FOR DIGIT";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.int(self.timeout.map_or(-1, millis));
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Option<Digit>, Failure> {
        match result_of(Self::NAME, reply)? {
            n @ (1 | 1000..=1004) => Err(rejected(Self::NAME, n, reply)),
            n => digit_of(Self::NAME, n, reply),
        }
    }
}

/// Why a recording stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordEnd {
    /// An escape key (the last 200 ms were trimmed).
    Digit(Digit),
    /// The time limit or the silence limit.
    Timeout,
    /// The caller hung up.
    Hangup,
    /// An escape key during the beep, before recording started.
    BeepInterrupted(Digit),
}

/// What RECORD FILE recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Recording {
    /// Why it stopped.
    pub end: RecordEnd,
    /// Final write position in samples of the file format (offset included).
    pub endpos: u64,
}

/// `RECORD FILE <file> <format> <escape_digits> <timeout_ms> [offset]
/// [BEEP] [s=<silence>]`: records the caller to `file.format`.
///
/// # Errors
/// [`Failure::Rejected`] when the file cannot be written (`(writefile)`),
/// the beep fails, or silence detection cannot start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordFile<'a> {
    /// File name without extension, relative to the sounds directory or
    /// absolute.
    pub file: &'a str,
    /// File format: `wav`, `gsm`, `sln16`…
    pub format: &'a str,
    /// Keys that stop the recording.
    pub escape: EscapeDigits,
    /// Longest recording; `None` for no limit.
    pub timeout: Option<Duration>,
    /// Append from this sample offset.
    pub offset: Option<u64>,
    /// Play a beep first.
    pub beep: bool,
    /// Stop after this many seconds of silence.
    pub silence: Option<u32>,
}

impl<'a> RecordFile<'a> {
    /// Records `file.format` until an escape key or `timeout`.
    pub fn new(
        file: &'a str,
        format: &'a str,
        escape: EscapeDigits,
        timeout: Option<Duration>,
    ) -> Self {
        RecordFile {
            file,
            format,
            escape,
            timeout,
            offset: None,
            beep: false,
            silence: None,
        }
    }
}

impl Command for RecordFile<'_> {
    type Output = Recording;
    const NAME: &'static str = "RECORD FILE";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.file)?;
        w.arg(self.format)?;
        escape_arg(w, self.escape)?;
        w.int(self.timeout.map_or(-1, millis));
        if let Some(offset) = self.offset {
            w.int(offset);
        }
        // `BEEP` has no lower-case `s`, which Asterisk would take for the
        // silence option.
        if self.beep {
            w.arg("BEEP")?;
        }
        if let Some(s) = self.silence {
            let mut buf = itoa::Buffer::new();
            let mut arg = [0u8; 12];
            let digits = buf.format(s).as_bytes();
            arg[..2].copy_from_slice(b"s=");
            arg[2..2 + digits.len()].copy_from_slice(digits);
            w.arg(&arg[..2 + digits.len()])?;
        }
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Recording, Failure> {
        let result = result_of(Self::NAME, reply)?;
        let endpos = int_field(reply, "endpos").unwrap_or(0).max(0) as u64;
        let digit = || Digit::from_code(result).ok_or_else(|| rejected(Self::NAME, result, reply));
        let end = match reply.keyword() {
            Some(b"dtmf") => RecordEnd::Digit(digit()?),
            Some(b"timeout") => RecordEnd::Timeout,
            Some(b"hangup") => RecordEnd::Hangup,
            Some(b"randomerror") => RecordEnd::BeepInterrupted(digit()?),
            _ => return Err(rejected(Self::NAME, result, reply)),
        };
        Ok(Recording { end, endpos })
    }
}

/// `RECEIVE CHAR <timeout_ms>`: one character of text from the channel;
/// `None` when none came.
///
/// Asterisk reports a timeout (and a channel without text support) as
/// `-1 (hangup)`, so `None` does not say whether the caller hung up: the
/// client's hangup tracking does. Also, res_agi counts that `-1` as a failed
/// command, making the call end with `AGISTATUS=FAILURE`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveChar {
    /// How long to wait; `None` waits forever, zero not at all.
    pub timeout: Option<Duration>,
}

impl Command for ReceiveChar {
    type Output = Option<u8>;
    const NAME: &'static str = "RECEIVE CHAR";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.int(self.timeout.map_or(-1, millis));
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Option<u8>, Failure> {
        match result_of(Self::NAME, reply)? {
            -1 | 0 => Ok(None),
            n => u8::try_from(n)
                .map(Some)
                .map_err(|_| unexpected(Self::NAME, reply)),
        }
    }
}

/// `RECEIVE TEXT <timeout_ms>`: a text message from the channel; `None` on
/// timeout, hangup, or a channel without text support.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReceiveText {
    /// How long to wait; `None` waits forever, zero not at all.
    pub timeout: Option<Duration>,
}

impl Command for ReceiveText {
    type Output = Option<Value<'static>>;
    const NAME: &'static str = "RECEIVE TEXT";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.int(self.timeout.map_or(-1, millis));
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Self::Output, Failure> {
        match result_of(Self::NAME, reply)? {
            1 => Ok(Some(Value::copied(reply.data().unwrap_or_default()))),
            -1 => Ok(None),
            _ => Err(unexpected(Self::NAME, reply)),
        }
    }
}
