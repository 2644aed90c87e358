//! Every AGI command, each defined once: its arguments, how it is written on
//! the wire, and what its reply means.
//!
//! Files follow the sections of the protocol reference: [`call`] (call and
//! session control), [`dialplan`] (location and variables), [`database`],
//! [`playback`] (prompts and SAY), [`input`] (digits, recording, received
//! text), [`text`] (sending text, images, TDD, caller id) and [`speech`].
//!
//! Waits are [`Duration`]s, sent in the unit each command reads
//! (milliseconds, or seconds for SPEECH RECOGNIZE). A remainder rounds up,
//! since 0 means "at once", "the default" or "no limit" to Asterisk, never
//! "a little"; values beyond a C `int` of that unit are capped there.
//!
//! ```
//! use agi_proto::command::{Command, GetVariable};
//! use agi_proto::{encode_command, parse_frame, Frame, Limits};
//!
//! let cmd = GetVariable::new("DIALSTATUS");
//! let mut line = Vec::new();
//! encode_command(&cmd, &Limits::default(), &mut line)?;
//! assert_eq!(line, b"GET VARIABLE DIALSTATUS\n");
//!
//! let (Frame::Reply(reply), _) = parse_frame(b"200 result=1 (NOANSWER)\n")?.complete().unwrap() else {
//!     unreachable!()
//! };
//! assert_eq!(cmd.parse_reply(&reply)?.unwrap(), "NOANSWER");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod call;
pub mod database;
pub mod dialplan;
pub mod input;
pub mod playback;
pub mod speech;
pub mod text;
pub mod types;

pub use call::*;
pub use database::*;
pub use dialplan::*;
pub use input::*;
pub use playback::*;
pub use speech::*;
pub use text::*;

use std::time::Duration;

use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;

/// One AGI command: its wire form and the meaning of its reply.
///
/// Clients reach every command through one generic `send` that encodes it,
/// waits for its final reply (see [`crate::Exchange`]) and calls
/// [`Command::parse_reply`]; `510`, `511` and `520` never get here.
pub trait Command {
    /// What a successful reply means.
    type Output;
    /// The command words, e.g. `STREAM FILE`.
    const NAME: &'static str;
    /// Whether Asterisk runs it on a dead channel (`h` extension, after a
    /// hangup); others get `511` there.
    const DEAD_OK: bool;

    /// Writes the command words and arguments. A client may call it more
    /// than once for one command (again with a higher `max_command` when the
    /// line was too long for the limit every version takes): it must only
    /// write.
    ///
    /// # Errors
    /// An argument Asterisk could not receive unchanged.
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError>;

    /// Maps the final `<code> result=…` reply to the typed outcome.
    ///
    /// # Errors
    /// [`Failure::Rejected`] when the command reports failure,
    /// [`Failure::Unexpected`] for a reply it never gives.
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Self::Output, Failure>;

    /// `true` when Asterisk sends a `520` usage block after this reply, which
    /// belongs to this command. Only EXEC does, when the application returns 1.
    fn usage_follows(&self, reply: &Reply<'_>) -> bool {
        let _ = reply;
        false
    }
}

/// Name and dead-channel permission of one command, for tables and checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandInfo {
    /// The command words.
    pub name: &'static str,
    /// Allowed on a dead channel.
    pub dead_ok: bool,
}

macro_rules! table {
    ($($ty:ty),* $(,)?) => {
        /// Every command of the current Asterisk (46 of `res_agi` and
        /// `GOSUB` of `app_stack`), in the order of the protocol reference.
        pub const ALL: &[CommandInfo] = &[$(CommandInfo { name: <$ty>::NAME, dead_ok: <$ty>::DEAD_OK }),*];
    };
}

table!(
    Answer,
    Hangup<'_>,
    ChannelStatus<'_>,
    SetAutoHangup,
    AsyncAgiBreak,
    Noop,
    Verbose<'_>,
    Exec<'_>,
    Gosub<'_>,
    SetContext<'_>,
    SetExtension<'_>,
    SetPriority<'_>,
    SetVariable<'_>,
    GetVariable<'_>,
    GetFullVariable<'_>,
    DatabaseGet<'_>,
    DatabasePut<'_>,
    DatabaseDel<'_>,
    DatabaseDelTree<'_>,
    StreamFile<'_>,
    ControlStreamFile<'_>,
    GetOption<'_>,
    GetData<'_>,
    SayDigits<'_>,
    SayNumber<'_>,
    SayAlpha<'_>,
    SayPhonetic<'_>,
    SayDate,
    SayTime,
    SayDateTime<'_>,
    SetMusic<'_>,
    WaitForDigit,
    RecordFile<'_>,
    ReceiveChar,
    ReceiveText,
    SendText<'_>,
    SendImage<'_>,
    TddMode,
    SetCallerId<'_>,
    SpeechCreate<'_>,
    SpeechSet<'_>,
    SpeechDestroy,
    SpeechLoadGrammar<'_>,
    SpeechUnloadGrammar<'_>,
    SpeechActivateGrammar<'_>,
    SpeechDeactivateGrammar<'_>,
    SpeechRecognize<'_>,
);

/// A command without arguments whose only success is `result=<ok>`.
macro_rules! bare_command {
    ($(#[$doc:meta])* $name:ident, $words:literal, dead: $dead:literal, ok: $ok:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl Command for $name {
            type Output = ();
            const NAME: &'static str = $words;
            const DEAD_OK: bool = $dead;
            fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
                w.words(Self::NAME);
                Ok(())
            }
            fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
                expect_result(Self::NAME, reply, $ok)
            }
        }
    };
}
pub(crate) use bare_command;

// ---- helpers shared by the command files ----

/// The reply as text, for error messages.
pub(crate) fn line_of(reply: &Reply<'_>) -> String {
    String::from_utf8_lossy(reply.line()).into_owned()
}

pub(crate) fn unexpected(command: &'static str, reply: &Reply<'_>) -> Failure {
    Failure::Unexpected {
        command,
        line: line_of(reply),
    }
}

pub(crate) fn rejected(command: &'static str, result: i64, reply: &Reply<'_>) -> Failure {
    Failure::Rejected {
        command,
        result,
        line: line_of(reply),
    }
}

/// The integer result of a `200` reply.
pub(crate) fn result_of(command: &'static str, reply: &Reply<'_>) -> Result<i64, Failure> {
    match (reply.code(), reply.result_int()) {
        (200, Some(n)) => Ok(n),
        _ => Err(unexpected(command, reply)),
    }
}

/// `Ok(())` when the result is `ok`, `Rejected` otherwise.
pub(crate) fn expect_result(
    command: &'static str,
    reply: &Reply<'_>,
    ok: i64,
) -> Result<(), Failure> {
    match result_of(command, reply)? {
        n if n == ok => Ok(()),
        n => Err(rejected(command, n, reply)),
    }
}

/// A digit result (`0` = none, ASCII code = key, `-1` = failure).
pub(crate) fn digit_result(
    command: &'static str,
    reply: &Reply<'_>,
) -> Result<Option<types::Digit>, Failure> {
    digit_of(command, result_of(command, reply)?, reply)
}

/// [`digit_result`] for a result already read.
pub(crate) fn digit_of(
    command: &'static str,
    result: i64,
    reply: &Reply<'_>,
) -> Result<Option<types::Digit>, Failure> {
    match result {
        0 => Ok(None),
        n if n < 0 => Err(rejected(command, n, reply)),
        n => types::Digit::from_code(n)
            .map(Some)
            .ok_or_else(|| unexpected(command, reply)),
    }
}

/// An optional integer field such as `endpos=`.
pub(crate) fn int_field(reply: &Reply<'_>, key: &str) -> Option<i64> {
    reply.field(key).and_then(crate::value::parse_int)
}

/// Whole milliseconds in `d`, a remainder rounded up (saturating).
pub(crate) fn ceil_millis(d: Duration) -> u64 {
    ceil_units(d, Duration::from_millis(1))
}

/// Milliseconds for a timeout argument. A remainder rounds up: a non-zero
/// wait never becomes 0, which Asterisk reads as "at once", "its default"
/// or "no limit" depending on the command. Capped at `i32::MAX` (about
/// 24.8 days): Asterisk reads these into a C `int`.
pub(crate) fn millis(d: Duration) -> i64 {
    c_int(ceil_millis(d))
}

/// Whole seconds for a timeout argument, as [`millis`] does milliseconds.
pub(crate) fn secs(d: Duration) -> i64 {
    c_int(ceil_units(d, Duration::from_secs(1)))
}

/// `d` in whole `unit`s, a remainder rounded up (saturating).
fn ceil_units(d: Duration, unit: Duration) -> u64 {
    u64::try_from(d.as_nanos().div_ceil(unit.as_nanos())).unwrap_or(u64::MAX)
}

/// `n`, capped at the largest C `int`.
fn c_int(n: u64) -> i64 {
    n.min(i32::MAX as u64) as i64
}

/// Writes an escape-digit set as one argument (`""` when empty).
pub(crate) fn escape_arg(
    w: &mut ArgWriter<'_>,
    keys: types::EscapeDigits,
) -> Result<(), EncodeError> {
    let mut out = [0; 16];
    w.arg(keys.write(&mut out))
}

#[cfg(test)]
mod tests;
