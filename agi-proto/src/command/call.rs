//! Call and session control: ANSWER, HANGUP, CHANNEL STATUS, SET AUTOHANGUP,
//! ASYNCAGI BREAK, NOOP, VERBOSE, EXEC, GOSUB.
//!
//! ```
//! use agi_proto::command::{Command, Exec};
//! use agi_proto::{encode_command, parse_frame, Failure, Frame, Limits};
//!
//! let dial = Exec::new("Dial", "SIP/bob,5");
//! let mut line = Vec::new();
//! encode_command(&dial, &Limits::default(), &mut line)?;
//! assert_eq!(line, b"EXEC Dial SIP/bob,5\n");
//! let (Frame::Reply(reply), _) = parse_frame(b"200 result=-2\n")?.complete().unwrap() else { unreachable!() };
//! assert_eq!(dial.parse_reply(&reply), Err(Failure::ApplicationNotFound("Dial".into())));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use super::types::ChannelState;
use super::{Command, bare_command, expect_result, rejected, result_of, unexpected};
use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;

bare_command!(
    /// `ANSWER`: answers the channel; `Ok` also when it was already up.
    ///
    /// # Errors
    /// [`Failure::Rejected`] on `result=-1`.
    Answer, "ANSWER", dead: false, ok: 0
);

/// `HANGUP [channel]`: hangs up this channel, or the named one.
///
/// Asterisk answers `200 result=1`, and then signals the hangup like any
/// other (SIGHUP, or a `HANGUP` line on FastAGI).
///
/// # Errors
/// [`Failure::Rejected`] (`result=-1`) when no channel has that name.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hangup<'a> {
    /// A channel name or unique id; `None` for this channel.
    pub channel: Option<&'a str>,
}

impl Command for Hangup<'_> {
    type Output = ();
    const NAME: &'static str = "HANGUP";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        self.channel.map_or(Ok(()), |c| w.arg(c))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 1)
    }
}

/// `CHANNEL STATUS [channel]`: the state of this or the named channel;
/// `None` when no channel has that name (`result=-1`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChannelStatus<'a> {
    /// A channel name; `None` for this channel.
    pub channel: Option<&'a str>,
}

impl Command for ChannelStatus<'_> {
    type Output = Option<ChannelState>;
    const NAME: &'static str = "CHANNEL STATUS";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        self.channel.map_or(Ok(()), |c| w.arg(c))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Self::Output, Failure> {
        match result_of(Self::NAME, reply)? {
            -1 => Ok(None),
            n if n >= 0 => Ok(Some(ChannelState::from_code(n))),
            _ => Err(unexpected(Self::NAME, reply)),
        }
    }
}

/// `SET AUTOHANGUP <seconds>`: hangs the channel up after `after`; `None`
/// (sent as 0) cancels a pending autohangup.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAutoHangup {
    /// Delay before the hangup, to the millisecond; `None` disables.
    pub after: Option<Duration>,
}

impl Command for SetAutoHangup {
    type Output = ();
    const NAME: &'static str = "SET AUTOHANGUP";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        // Rounded up: a delay under a millisecond must not become 0,
        // which cancels instead.
        let ms = self.after.map_or(0, super::ceil_millis);
        if ms.is_multiple_of(1000) {
            w.int(ms / 1000);
            Ok(())
        } else {
            // Asterisk reads seconds with %lf.
            w.arg(format!("{}.{:03}", ms / 1000, ms % 1000))
        }
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 0)
    }
}

bare_command!(
    /// `ASYNCAGI BREAK`: leaves AsyncAGI; a harmless no-op in other modes.
    AsyncAgiBreak, "ASYNCAGI BREAK", dead: true, ok: 0
);

bare_command!(
    /// `NOOP`: does nothing; a cheap round trip, allowed on dead channels.
    Noop, "NOOP", dead: true, ok: 0
);

/// `VERBOSE <message> [level]`: logs `message` through Asterisk's verbose
/// log (the AGI's stderr does not reach Asterisk's log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verbose<'a> {
    /// The text to log.
    pub message: &'a [u8],
    /// Verbose level (shown when the console's verbosity is at least this);
    /// `None` for Asterisk's default, 0.
    pub level: Option<u8>,
}

impl<'a> Verbose<'a> {
    /// Logs `message` at the default level.
    pub fn new(message: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        Verbose {
            message: message.as_ref(),
            level: None,
        }
    }
}

impl Command for Verbose<'_> {
    type Output = ();
    const NAME: &'static str = "VERBOSE";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.message)?;
        if let Some(level) = self.level {
            w.int(level);
        }
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 1)
    }
}

/// `EXEC <application> [options]`: runs a dialplan application and returns
/// its return code (`-1` often means the caller hung up, e.g. during
/// VoiceMail's recording: that is an outcome, not an error).
///
/// `options` is one token that the application splits on commas itself:
/// `Exec::new("Dial", "SIP/bob,5")`. `${…}` is not expanded unless the
/// channel has `AGIEXECFULL=yes`.
///
/// # Errors
/// [`Failure::ApplicationNotFound`] for `result=-2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exec<'a> {
    /// The application, e.g. `Dial`.
    pub application: &'a str,
    /// Its comma-separated arguments; `None` for none.
    pub options: Option<&'a [u8]>,
}

impl<'a> Exec<'a> {
    /// Runs `application` with `options`.
    pub fn new(application: &'a str, options: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        Exec {
            application,
            options: Some(options.as_ref()),
        }
    }
}

impl Command for Exec<'_> {
    type Output = i64;
    const NAME: &'static str = "EXEC";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.application)?;
        self.options.map_or(Ok(()), |o| w.arg(o))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<i64, Failure> {
        match result_of(Self::NAME, reply)? {
            -2 => Err(Failure::ApplicationNotFound(self.application.to_owned())),
            n => Ok(n),
        }
    }
    fn usage_follows(&self, reply: &Reply<'_>) -> bool {
        // res_agi reads an application's return value of 1 as "show usage".
        reply.code() == 200 && reply.result_int() == Some(1)
    }
}

/// How a GOSUB subroutine ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GosubEnd {
    /// `Gosub complete`: the subroutine ran to its `Return()`.
    Complete,
    /// `Gosub complete (abnormal exit)`: it ended without `Return()`, e.g.
    /// the caller hung up.
    AbnormalExit,
}

/// `GOSUB <context> <extension> <priority> [args]`: runs a dialplan
/// subroutine and waits for it to return. Asterisk first sends an interim
/// `100 result=0 Trying...`; the exchange reads past it.
///
/// # Errors
/// [`Failure::Rejected`] for `Gosub label not found` and other failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gosub<'a> {
    /// Dialplan context.
    pub context: &'a str,
    /// Extension.
    pub extension: &'a str,
    /// Priority number or label.
    pub priority: &'a str,
    /// Comma-separated subroutine arguments (`ARG1`, `ARG2`…).
    pub args: Option<&'a [u8]>,
}

impl<'a> Gosub<'a> {
    /// Calls `context,extension,priority` with no arguments.
    pub fn new(context: &'a str, extension: &'a str, priority: &'a str) -> Self {
        Gosub {
            context,
            extension,
            priority,
            args: None,
        }
    }
}

impl Command for Gosub<'_> {
    type Output = GosubEnd;
    const NAME: &'static str = "GOSUB";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.context)?;
        w.arg(self.extension)?;
        w.arg(self.priority)?;
        self.args.map_or(Ok(()), |a| w.arg(a))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<GosubEnd, Failure> {
        let result = reply
            .result_int()
            .ok_or_else(|| unexpected(Self::NAME, reply))?;
        match (reply.code(), result, reply.text()) {
            (200, 0, b"Gosub complete") => Ok(GosubEnd::Complete),
            (200, 0, b"Gosub complete (abnormal exit)") => Ok(GosubEnd::AbnormalExit),
            (200 | 503, n, _) => Err(rejected(Self::NAME, n, reply)),
            _ => Err(unexpected(Self::NAME, reply)),
        }
    }
}
