//! Prompts: STREAM FILE, CONTROL STREAM FILE, GET OPTION, the SAY commands
//! and SET MUSIC.
//!
//! ```
//! use agi_proto::command::{Command, Playback, StreamFile};
//! use agi_proto::{parse_frame, EscapeDigits, Frame};
//!
//! let prompt = StreamFile::new("demo-congrats", EscapeDigits::DIGITS);
//! let (Frame::Reply(reply), _) = parse_frame(b"200 result=53 endpos=10560\n")?.complete().unwrap() else { unreachable!() };
//! let Playback { digit, endpos } = prompt.parse_reply(&reply)?;
//! assert_eq!((digit.unwrap().as_char(), endpos), ('5', 10560)); // endpos in samples
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use super::types::{Digit, EscapeDigits};
use super::{Command, digit_result, escape_arg, expect_result, int_field, millis};
use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;

/// How a STREAM FILE or GET OPTION prompt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Playback {
    /// The escape key that stopped it; `None` when it played to the end (or,
    /// for GET OPTION, nothing valid was pressed in time).
    pub digit: Option<Digit>,
    /// Position reached, in **samples** of the file (8000 per second for
    /// 8 kHz files); the file's length when it played to the end.
    pub endpos: u64,
}

fn playback(name: &'static str, reply: &Reply<'_>) -> Result<Playback, Failure> {
    let digit = digit_result(name, reply)?;
    let endpos = int_field(reply, "endpos").unwrap_or(0).max(0) as u64;
    Ok(Playback { digit, endpos })
}

/// `STREAM FILE <file> <escape_digits> [sample_offset]`: plays a sound file
/// (no extension), interruptible by `escape`.
///
/// # Errors
/// [`Failure::Rejected`] (`result=-1`) when the file is missing or the
/// channel hung up: a missing file does **not** mean a hangup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFile<'a> {
    /// Sound file without extension, e.g. `pbx-invalid`.
    pub file: &'a str,
    /// Keys that stop playback.
    pub escape: EscapeDigits,
    /// Start this many samples in.
    pub offset: Option<u64>,
}

impl<'a> StreamFile<'a> {
    /// Plays `file` from its start.
    pub fn new(file: &'a str, escape: EscapeDigits) -> Self {
        StreamFile {
            file,
            escape,
            offset: None,
        }
    }
}

impl Command for StreamFile<'_> {
    type Output = Playback;
    const NAME: &'static str = "STREAM FILE";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.file)?;
        escape_arg(w, self.escape)?;
        if let Some(offset) = self.offset {
            w.int(offset);
        }
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Playback, Failure> {
        playback(Self::NAME, reply)
    }
}

/// `GET OPTION <file> <escape_digits> [timeout_ms]`: STREAM FILE, then wait
/// up to `timeout` for a key if none was pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetOption<'a> {
    /// Sound file without extension.
    pub file: &'a str,
    /// Keys accepted.
    pub escape: EscapeDigits,
    /// Wait after the prompt; `None` waits forever. Asterisk's own default
    /// is the PBX digit timeout, so always send one.
    pub timeout: Option<Duration>,
}

impl<'a> GetOption<'a> {
    /// Plays `file` and waits up to `timeout` for one of `escape`.
    pub fn new(file: &'a str, escape: EscapeDigits, timeout: Duration) -> Self {
        GetOption {
            file,
            escape,
            timeout: Some(timeout),
        }
    }
}

impl Command for GetOption<'_> {
    type Output = Playback;
    const NAME: &'static str = "GET OPTION";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.file)?;
        escape_arg(w, self.escape)?;
        w.int(self.timeout.map_or(-1, millis));
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Playback, Failure> {
        playback(Self::NAME, reply)
    }
}

/// How a CONTROL STREAM FILE prompt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlPlayback {
    /// The stop key pressed; `None` when it completed or was stopped remotely.
    pub digit: Option<Digit>,
    /// Position reached in **milliseconds** (computed for 8 kHz); `None`
    /// when the file played to its end (`endpos=-1`).
    pub endpos_ms: Option<u64>,
}

/// `CONTROL STREAM FILE <file> <escape_digits> [skipms] [ffchar] [rewchar]
/// [pausechar] [offsetms]`: playback the caller can skip, rewind and pause.
///
/// Asterisk checks a key against the fast-forward and rewind keys while
/// playing, and against the pause keys before the stop keys once playback
/// returns: a stop key that is also one of the others would never stop
/// playback, so encoding refuses it. The defaults
/// are `#` fast-forward and `*` rewind; to stop on one of those, move that
/// control to another key. Asterisk reads an empty fast-forward or rewind
/// list as its default, so neither control can be turned off: encoding
/// refuses an empty set there too.
///
/// # Errors
/// [`Failure::Rejected`] (`result=-1`) for a missing file or a hangup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlStreamFile<'a> {
    /// Sound file without extension.
    pub file: &'a str,
    /// Keys that stop playback.
    pub escape: EscapeDigits,
    /// Skip step (default 3 s).
    pub skip: Option<Duration>,
    /// Fast-forward keys (default `#`; not empty).
    pub forward: Option<EscapeDigits>,
    /// Rewind keys (default `*`; not empty).
    pub rewind: Option<EscapeDigits>,
    /// Pause keys (default none).
    pub pause: Option<EscapeDigits>,
    /// Start position in ms; negative counts from the end.
    pub offset_ms: Option<i64>,
}

impl<'a> ControlStreamFile<'a> {
    /// Plays `file` with Asterisk's default controls.
    pub fn new(file: &'a str, escape: EscapeDigits) -> Self {
        ControlStreamFile {
            file,
            escape,
            skip: None,
            forward: None,
            rewind: None,
            pause: None,
            offset_ms: None,
        }
    }
}

impl Command for ControlStreamFile<'_> {
    type Output = ControlPlayback;
    const NAME: &'static str = "CONTROL STREAM FILE";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        let forward = self.forward.unwrap_or(EscapeDigits::HASH);
        let rewind = self.rewind.unwrap_or(EscapeDigits::STAR);
        if forward.is_empty() || rewind.is_empty() {
            return Err(EncodeError::InvalidArgument(
                "CONTROL STREAM FILE: fast-forward and rewind cannot be turned off \
                 (Asterisk reads no keys as its default, # and *)",
            ));
        }
        let controls = [forward, rewind, self.pause.unwrap_or(EscapeDigits::NONE)];
        if controls
            .iter()
            .any(|keys| !self.escape.intersection(*keys).is_empty())
        {
            return Err(EncodeError::InvalidArgument(
                "CONTROL STREAM FILE: a stop key that also fast-forwards, rewinds or \
                 pauses never stops playback (defaults # and *)",
            ));
        }
        w.words(Self::NAME);
        w.arg(self.file)?;
        escape_arg(w, self.escape)?;
        // Positional options: to send a later one, earlier ones get their
        // defaults (skipms must be a number; empty keys select defaults).
        let keys = [self.forward, self.rewind, self.pause];
        let last = if self.offset_ms.is_some() {
            5
        } else if let Some(i) = keys.iter().rposition(Option::is_some) {
            i + 2
        } else {
            usize::from(self.skip.is_some())
        };
        if last >= 1 {
            w.int(self.skip.map_or(3000, millis));
        }
        for keys in keys.iter().take(last.saturating_sub(1)) {
            escape_arg(w, keys.unwrap_or_default())?;
        }
        if let Some(offset) = self.offset_ms {
            w.int(offset);
        }
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<ControlPlayback, Failure> {
        let digit = digit_result(Self::NAME, reply)?;
        let endpos_ms = int_field(reply, "endpos").and_then(|n| u64::try_from(n).ok());
        Ok(ControlPlayback { digit, endpos_ms })
    }
}

macro_rules! say_text_command {
    ($(#[$doc:meta])* $name:ident, $words:literal, $field:ident) => {
        $(#[$doc])*
        ///
        /// Returns the escape key pressed, if any.
        ///
        /// # Errors
        /// [`Failure::Rejected`] (`result=-1`) on error or hangup.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            #[doc = concat!("What to say.")]
            pub $field: &'a str,
            /// Keys that interrupt.
            pub escape: EscapeDigits,
        }

        impl<'a> $name<'a> {
            #[doc = concat!("Says `", stringify!($field), "`, interruptible by `escape`.")]
            pub fn new($field: &'a str, escape: EscapeDigits) -> Self {
                $name { $field, escape }
            }
        }

        impl Command for $name<'_> {
            type Output = Option<Digit>;
            const NAME: &'static str = $words;
            const DEAD_OK: bool = false;
            fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
                w.words(Self::NAME);
                w.arg(self.$field)?;
                escape_arg(w, self.escape)
            }
            fn parse_reply(&self, reply: &Reply<'_>) -> Result<Option<Digit>, Failure> {
                digit_result(Self::NAME, reply)
            }
        }
    };
}

say_text_command!(
    /// `SAY DIGITS <digits> <escape_digits>`: says each digit. The string must
    /// start with a number (`*12` gets a `520`); `*`, `#` and `-` are spoken.
    SayDigits, "SAY DIGITS", digits
);
say_text_command!(
    /// `SAY PHONETIC <text> <escape_digits>`: spells with the NATO alphabet.
    SayPhonetic, "SAY PHONETIC", text
);

/// Whether SAY ALPHA announces letter case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SayCase {
    /// Announce the case of every letter.
    All,
    /// Announce lower-case letters.
    Lower,
    /// Announce upper-case letters.
    Upper,
    /// Do not announce case (Asterisk's default).
    None,
}

/// `SAY ALPHA <text> <escape_digits> [case]`: spells `text` letter by letter.
///
/// Returns the escape key pressed, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SayAlpha<'a> {
    /// What to spell.
    pub text: &'a str,
    /// Keys that interrupt.
    pub escape: EscapeDigits,
    /// Case announcement (an undocumented third argument).
    pub case: Option<SayCase>,
}

impl<'a> SayAlpha<'a> {
    /// Spells `text`, interruptible by `escape`.
    pub fn new(text: &'a str, escape: EscapeDigits) -> Self {
        SayAlpha {
            text,
            escape,
            case: None,
        }
    }
}

impl Command for SayAlpha<'_> {
    type Output = Option<Digit>;
    const NAME: &'static str = "SAY ALPHA";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.text)?;
        escape_arg(w, self.escape)?;
        match self.case {
            Some(case) => w.arg(match case {
                SayCase::All => "a",
                SayCase::Lower => "l",
                SayCase::Upper => "u",
                SayCase::None => "n",
            }),
            None => Ok(()),
        }
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Option<Digit>, Failure> {
        digit_result(Self::NAME, reply)
    }
}

/// `SAY NUMBER <number> <escape_digits> [gender]`: says a number.
///
/// Returns the escape key pressed, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SayNumber<'a> {
    /// The number (Asterisk reads a 32-bit integer).
    pub number: i32,
    /// Keys that interrupt.
    pub escape: EscapeDigits,
    /// Language-specific gender or option letter (`f`, `m`, `c`, `n`).
    pub gender: Option<&'a str>,
}

impl SayNumber<'_> {
    /// Says `number`, interruptible by `escape`.
    pub fn new(number: i32, escape: EscapeDigits) -> Self {
        SayNumber {
            number,
            escape,
            gender: None,
        }
    }
}

impl Command for SayNumber<'_> {
    type Output = Option<Digit>;
    const NAME: &'static str = "SAY NUMBER";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.int(self.number);
        escape_arg(w, self.escape)?;
        self.gender.map_or(Ok(()), |g| w.arg(g))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Option<Digit>, Failure> {
        digit_result(Self::NAME, reply)
    }
}

macro_rules! say_epoch_command {
    ($(#[$doc:meta])* $name:ident, $words:literal) => {
        $(#[$doc])*
        ///
        /// Asterisk reads the time as a 32-bit integer, so it fails after
        /// 2038-01-19; [`SayDateTime`] takes 64 bits. Not interruptible by
        /// command input. Returns the escape key pressed, if any.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            /// Seconds since 1970-01-01 UTC.
            pub time: i32,
            /// Keys that interrupt.
            pub escape: EscapeDigits,
        }

        impl $name {
            /// Says `time`, interruptible by `escape`.
            pub fn new(time: i32, escape: EscapeDigits) -> Self {
                $name { time, escape }
            }
        }

        impl Command for $name {
            type Output = Option<Digit>;
            const NAME: &'static str = $words;
            const DEAD_OK: bool = false;
            fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
                w.words(Self::NAME);
                w.int(self.time);
                escape_arg(w, self.escape)
            }
            fn parse_reply(&self, reply: &Reply<'_>) -> Result<Option<Digit>, Failure> {
                digit_result(Self::NAME, reply)
            }
        }
    };
}

say_epoch_command!(
    /// `SAY DATE <epoch> <escape_digits>`: says the date of `time`.
    SayDate, "SAY DATE"
);
say_epoch_command!(
    /// `SAY TIME <epoch> <escape_digits>`: says the time of day of `time`.
    SayTime, "SAY TIME"
);

/// `SAY DATETIME <epoch> <escape_digits> [format] [timezone]`: says a date
/// and time in a chosen format (default `ABdY 'digits/at' IMp`).
///
/// Returns the escape key pressed, if any.
///
/// # Errors
/// [`EncodeError::InvalidArgument`] for a timezone without a format (the
/// arguments are positional and the default format depends on the language).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SayDateTime<'a> {
    /// Seconds since 1970-01-01 UTC.
    pub time: i64,
    /// Keys that interrupt.
    pub escape: EscapeDigits,
    /// Asterisk's say format; sound files in single quotes.
    pub format: Option<&'a str>,
    /// Zoneinfo name, e.g. `Europe/Paris`.
    pub timezone: Option<&'a str>,
}

impl SayDateTime<'_> {
    /// Says `time` in the default format.
    pub fn new(time: i64, escape: EscapeDigits) -> Self {
        SayDateTime {
            time,
            escape,
            format: None,
            timezone: None,
        }
    }
}

impl Command for SayDateTime<'_> {
    type Output = Option<Digit>;
    const NAME: &'static str = "SAY DATETIME";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.int(self.time);
        escape_arg(w, self.escape)?;
        match (self.format, self.timezone) {
            (None, Some(_)) => Err(EncodeError::InvalidArgument(
                "SAY DATETIME timezone needs a format",
            )),
            (format, timezone) => {
                format.map_or(Ok(()), |f| w.arg(f))?;
                timezone.map_or(Ok(()), |t| w.arg(t))
            }
        }
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Option<Digit>, Failure> {
        digit_result(Self::NAME, reply)
    }
}

/// `SET MUSIC <on|off> [class]`: starts or stops music on hold. An unknown
/// class is not reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetMusic<'a> {
    /// `true` to start, `false` to stop.
    pub on: bool,
    /// Music class; `None` for the default.
    pub class: Option<&'a str>,
}

impl Command for SetMusic<'_> {
    type Output = ();
    const NAME: &'static str = "SET MUSIC";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(if self.on { "on" } else { "off" })?;
        self.class.map_or(Ok(()), |c| w.arg(c))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 0)
    }
}
