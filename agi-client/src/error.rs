//! The client's error: I/O, protocol, refused commands, and the end of the call.

use std::io;
use std::time::Duration;

use agi_proto::{EncodeError, Failure, ParseError};

/// Why a command (or reading the environment) did not produce an outcome.
///
/// Branch on [`Error::is_hangup`] to stop a script cleanly when the caller
/// has gone, whatever way Asterisk reported it. One case it cannot see: a
/// hangup *during* a command (a prompt playing, GET DATA waiting) ends that
/// command first, with its own failure result (`-1`, as for a missing
/// file: [`Failure::Rejected`]), and Asterisk's notice follows. The next
/// command a dead channel refuses (ANSWER, STREAM FILE, CHANNEL STATUS…;
/// NOOP and the variable commands still succeed) then reports the hangup
/// (`511`, or [`Error::HungUp`] once Asterisk closed the session), and
/// `is_hung_up()` on the channel turns true once the notice has arrived.
/// In a session of this crate's FastAGI server the channel waits for that
/// notice after a `-1` (at most `ServerConfig::hangup_notice_wait`, 100 ms
/// by default; Asterisk writes it right after the reply), so there
/// `is_hung_up()` tells the two apart when the command returns, unless the
/// notice came later still or the command's future was dropped during the
/// wait.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing failed.
    #[error("i/o error")]
    Io(#[source] io::Error),
    /// Asterisk (or the peer) sent bytes that are not AGI.
    #[error("protocol error")]
    Parse(#[from] ParseError),
    /// The command cannot be sent as it is; nothing was written.
    #[error("command not sent")]
    Encode(#[from] EncodeError),
    /// Asterisk answered with a failure: `510`, `511`, `520`, or a result the
    /// command defines as failure.
    #[error(transparent)]
    Failure(#[from] Failure),
    /// The caller hung up and Asterisk ended the session (EOF or a broken
    /// pipe after a hangup notice).
    #[error("the channel hung up and Asterisk closed the session")]
    HungUp,
    /// Asterisk closed the session without a hangup notice.
    #[error("Asterisk closed the session")]
    Closed,
    /// No complete reply within the configured time; the channel is poisoned.
    #[error("no reply within {after:?}")]
    Timeout {
        /// The configured limit.
        after: Duration,
    },
    /// An earlier command was cancelled or timed out mid-flight, so the next
    /// reply on the wire may belong to it: the channel cannot be used.
    #[error("channel unusable: an earlier command was cancelled mid-flight")]
    Poisoned,
}

impl Error {
    /// `true` when the call is over: hung up, closed, or refused with `511`.
    /// (Not for the `-1` of a command the hangup interrupted: see
    /// [`Error`].)
    pub fn is_hangup(&self) -> bool {
        matches!(self, Error::HungUp | Error::Closed) || self.is_dead_channel()
    }

    /// `true` for Asterisk's `511`: the command is not allowed on a dead channel.
    pub fn is_dead_channel(&self) -> bool {
        matches!(self, Error::Failure(f) if f.is_dead_channel())
    }

    /// `true` for a command's `result=-1` failure: what a hangup during the
    /// command gives, as do a missing file and other errors.
    #[cfg(feature = "tokio")]
    pub(crate) fn failed_with_minus_one(&self) -> bool {
        matches!(self, Error::Failure(Failure::Rejected { result: -1, .. }))
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Io(e)
    }
}
