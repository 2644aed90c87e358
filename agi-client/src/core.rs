//! What the sync and async drivers share: the read buffer, the decoders,
//! the hangup flag and the poisoning rule. The drivers only move bytes.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

use agi_proto::command::Command;
use agi_proto::{
    EncodeError, Env, EnvDecoder, EnvIndex, Exchange, Failure, Frame, FrameDecoder, Limits, Status,
    Step, check_eof, encode_command,
};

use crate::error::Error;

/// The read buffer's first size and the room a read asks for. The
/// environment block (about 550 bytes from a real Asterisk) and many replies
/// fit; longer frames grow the buffer as they arrive.
pub(crate) const READ_CHUNK: usize = 1024;

/// The environment block: being read, then indexed (one slot for both).
#[derive(Debug)]
enum EnvState {
    Reading(EnvDecoder),
    Ready(EnvIndex),
}

/// Per-session state of one AGI conversation, without I/O.
///
/// One buffer per session: the environment block stays at its front for
/// the channel's life (no copy, no second allocation), replies are parsed
/// behind it, and each command line is encoded past the end while it is
/// written, then dropped.
///
/// Fields in declaration order (`repr(C)`): what every command touches
/// first, the environment's index (read rarely) last, so that a session
/// woken for a reply loads few cache lines.
#[derive(Debug)]
#[repr(C)]
pub(crate) struct Core {
    buf: Vec<u8>,
    /// Where unparsed input starts (`>= env_len`).
    start: usize,
    /// `buf[..env_len]` is the environment block (0 until it is complete).
    env_len: usize,
    /// Where the command line being written starts, if one is in `buf`.
    line_at: Option<usize>,
    frames: FrameDecoder,
    limits: Limits,
    hung_up: bool,
    /// Standard AGI: set by the SIGHUP handler. Read when asked, never per
    /// read: a hangup only matters to `is_hung_up` and to how the end of
    /// the stream is named.
    sighup: Option<Arc<AtomicBool>>,
    /// Set while a command is in flight; left set when it did not finish.
    in_flight: bool,
    env: EnvState,
}

impl Core {
    pub(crate) fn new(limits: Limits) -> Self {
        Core {
            buf: Vec::with_capacity(READ_CHUNK),
            env_len: 0,
            env: EnvState::Reading(EnvDecoder::new(limits)),
            start: 0,
            line_at: None,
            limits,
            frames: FrameDecoder::new(limits),
            hung_up: false,
            sighup: None,
            in_flight: false,
        }
    }

    /// `true` once the environment block has all arrived.
    pub(crate) fn poll_env(&mut self) -> Result<bool, Error> {
        let EnvState::Reading(decoder) = &mut self.env else {
            return Ok(true);
        };
        let (index, consumed) = match decoder.decode(&self.buf)? {
            Status::Partial => return Ok(false),
            Status::Complete { value, consumed } => (value.index(), consumed),
        };
        self.env = EnvState::Ready(index);
        self.env_len = consumed;
        self.start = consumed;
        // Asterisk runs the tail of an over-long line as a second command.
        // Lines get the limit every version takes (whatever the options
        // said) until one needs more; `begin` then reads the peer's version
        // (most sessions never do).
        self.limits.max_command = Limits::default().max_command;
        if tracing::enabled!(target: "agi", tracing::Level::TRACE) {
            for (name, value) in self.env().iter() {
                tracing::trace!(target: "agi", "< {}: {}", name.escape_ascii(), value.escape_ascii());
            }
        }
        Ok(true)
    }

    /// The environment block (empty until it has arrived).
    pub(crate) fn env(&self) -> Env<'_> {
        match &self.env {
            EnvState::Ready(index) => index.env(&self.buf[..self.env_len]).unwrap_or_default(),
            EnvState::Reading(_) => Env::default(),
        }
    }

    /// Encodes `cmd` past the end of the buffer and marks it in flight;
    /// returns the line to write. A line too long for the limit every
    /// version takes is encoded again under the peer's version's limit.
    pub(crate) fn begin<C: Command>(&mut self, cmd: &C) -> Result<&[u8], Error> {
        // Only the encoding depends on the command: the rest is compiled
        // once, not once per command type.
        self.begin_with(&|limits, buf| encode_command(cmd, limits, buf))
    }

    #[inline(never)]
    fn begin_with(&mut self, encode: &Encode<'_>) -> Result<&[u8], Error> {
        if self.in_flight {
            return Err(Error::Poisoned);
        }
        self.drop_line();
        let at = self.buf.len();
        if let Err(e) = encode(&self.limits, &mut self.buf) {
            // Too long for the limit every version takes: try the peer's own,
            // if higher (then kept for the lines after).
            let peer = self.env().asterisk_version().command_limit();
            if !matches!(e, EncodeError::TooLong { .. }) || peer <= self.limits.max_command {
                return Err(e.into());
            }
            self.limits.max_command = peer;
            encode(&self.limits, &mut self.buf)?;
        }
        self.line_at = Some(at);
        let line = &self.buf[at..];
        tracing::trace!(target: "agi", "> {}", line[..line.len() - 1].escape_ascii());
        self.in_flight = true;
        Ok(line)
    }

    /// The command line being written (empty when none is).
    #[cfg(feature = "tokio")]
    pub(crate) fn line(&self) -> &[u8] {
        match self.line_at {
            Some(at) => &self.buf[at..],
            None => &[],
        }
    }

    /// Forgets the command line once written (or failed): what follows in
    /// the buffer is input again.
    fn drop_line(&mut self) {
        if let Some(at) = self.line_at.take() {
            self.buf.truncate(at);
        }
    }

    /// Room for the next read: drops parsed input, keeping the environment
    /// block, so the buffer does not grow with the number of replies.
    pub(crate) fn read_buf(&mut self) -> &mut Vec<u8> {
        self.drop_line();
        if self.start > self.env_len {
            let unparsed = self.buf.len() - self.start;
            if unparsed == 0 || self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
                self.buf.copy_within(self.start.., self.env_len);
                self.buf.truncate(self.env_len + unparsed);
                self.start = self.env_len;
            }
        }
        if self.buf.capacity() - self.buf.len() < READ_CHUNK / 4 {
            self.buf.reserve(READ_CHUNK);
        }
        &mut self.buf
    }

    /// Bytes not parsed yet.
    fn input(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// Runs the exchange over the buffered frames: `true` once the final
    /// reply is in (the outcome is in `exchange`), `false` while more bytes
    /// are needed.
    ///
    /// `HANGUP` lines already buffered after the reply are consumed too, so
    /// that the hangup is known as soon as it arrived rather than at the
    /// next command; the parser decides what a `HANGUP` line is, and
    /// anything else stays for the next command's exchange.
    ///
    /// Through `dyn`: the loop every reply goes through is compiled once
    /// rather than once per command type (less code and fewer distinct
    /// lines of it per session, for an indirect call per frame).
    pub(crate) fn poll_reply(&mut self, exchange: &mut dyn Steps) -> Result<bool, Error> {
        self.drop_line();
        let over = loop {
            let input = &self.buf[self.start..];
            // Empty input is the usual case right after writing the command.
            if input.is_empty() {
                return Ok(false);
            }
            let Status::Complete { value, consumed } = self.frames.decode(input)? else {
                return Ok(false);
            };
            let step = exchange.step(value);
            trace_in(&input[..consumed]);
            self.start += consumed;
            match step {
                Progress::Hangup => self.note_hangup(),
                Progress::Interim => {}
                Progress::Done => {
                    self.in_flight = false;
                    break Ok(true);
                }
                Progress::Failed(failure) => {
                    self.in_flight = false;
                    if failure.is_dead_channel() {
                        self.hung_up = true;
                    }
                    break Err(failure.into());
                }
            }
        };
        self.take_notices();
        over
    }

    /// Consumes the `HANGUP` lines at the front of what is buffered (after
    /// a reply, Asterisk's notice that the caller hung up); `true` once a
    /// hangup is known or something else is buffered (left for the next
    /// command), `false` while more bytes may bring a notice.
    pub(crate) fn take_notices(&mut self) -> bool {
        loop {
            let input = &self.buf[self.start..];
            if input.is_empty() {
                return self.hung_up;
            }
            match self.frames.decode(input) {
                Ok(Status::Complete {
                    value: Frame::Hangup,
                    consumed,
                }) => {
                    trace_in(&input[..consumed]);
                    self.start += consumed;
                    self.note_hangup();
                }
                // The start of a line: a notice still arriving, unless one
                // came already.
                Ok(Status::Partial) => return self.hung_up,
                _ => return true,
            }
        }
    }

    pub(crate) fn note_hangup(&mut self) {
        if !self.hung_up {
            tracing::debug!(target: "agi", "channel hung up");
        }
        self.hung_up = true;
    }

    /// Counts SIGHUP (standard AGI) as a hangup notice.
    pub(crate) fn watch_sighup(&mut self, flag: Arc<AtomicBool>) {
        self.sighup = Some(flag);
    }

    pub(crate) fn is_hung_up(&self) -> bool {
        self.hung_up || self.sighup.as_ref().is_some_and(|f| f.load(Relaxed))
    }

    /// The error for the peer closing the stream now.
    pub(crate) fn eof(&mut self) -> Error {
        let err = if self.is_hung_up() {
            Error::HungUp
        } else if let Err(e) = check_eof(self.input()) {
            Error::Parse(e)
        } else {
            Error::Closed
        };
        self.session_over(err)
    }

    /// Maps an I/O error; a broken connection after a hangup is the hangup.
    pub(crate) fn io_error(&mut self, e: io::Error, timeout: Option<std::time::Duration>) -> Error {
        use io::ErrorKind::*;
        let err = match (e.kind(), timeout) {
            (BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof, _)
                if self.is_hung_up() =>
            {
                Error::HungUp
            }
            (BrokenPipe | ConnectionReset | ConnectionAborted | UnexpectedEof, _) => Error::Closed,
            (TimedOut | WouldBlock, Some(after)) => Error::Timeout { after },
            _ => Error::Io(e),
        };
        self.session_over(err)
    }

    /// Once the session is over, later commands report the same end rather
    /// than a poisoned channel: nothing more can arrive out of order.
    fn session_over(&mut self, err: Error) -> Error {
        if matches!(err, Error::HungUp | Error::Closed) {
            self.in_flight = false;
        }
        err
    }
}

/// How `begin` encodes a command line, without the command's type.
type Encode<'c> = dyn Fn(&Limits, &mut Vec<u8>) -> Result<(), EncodeError> + 'c;

/// One command's exchange seen without its command type (see
/// [`Core::poll_reply`]).
pub(crate) trait Steps {
    /// Takes the next frame.
    fn step(&mut self, frame: Frame<'_>) -> Progress;
}

/// What a frame did to the exchange.
pub(crate) enum Progress {
    /// A `HANGUP` line before the reply: the channel is dead. (Those after
    /// it are taken by `take_notices`.)
    Hangup,
    /// An interim line; the reply is still to come.
    Interim,
    /// The reply is in and its outcome kept.
    Done,
    /// The command failed.
    Failed(Failure),
}

/// A command's exchange and, once it is over, its outcome.
pub(crate) struct Pending<'c, C: Command> {
    exchange: Exchange<'c, C>,
    outcome: Option<C::Output>,
}

impl<'c, C: Command> Pending<'c, C> {
    pub(crate) fn new(cmd: &'c C) -> Self {
        Pending {
            exchange: Exchange::new(cmd),
            outcome: None,
        }
    }

    /// The outcome, once `poll_reply` said `true` (which it says only after
    /// `step` kept one: the `Poisoned` fallback is never reached).
    pub(crate) fn take(&mut self) -> Result<C::Output, Error> {
        debug_assert!(self.outcome.is_some(), "no outcome kept");
        self.outcome.take().ok_or(Error::Poisoned)
    }
}

impl<C: Command> Steps for Pending<'_, C> {
    fn step(&mut self, frame: Frame<'_>) -> Progress {
        match self.exchange.step(frame) {
            Step::Hangup => Progress::Hangup,
            Step::Interim => Progress::Interim,
            Step::Done(Ok(value)) => {
                self.outcome = Some(value);
                Progress::Done
            }
            Step::Done(Err(failure)) => Progress::Failed(failure),
        }
    }
}

#[inline]
fn trace_in(bytes: &[u8]) {
    if tracing::enabled!(target: "agi", tracing::Level::TRACE) {
        trace_lines(bytes);
    }
}

#[cold]
fn trace_lines(bytes: &[u8]) {
    for line in bytes
        .strip_suffix(b"\n")
        .unwrap_or(bytes)
        .split(|&b| b == b'\n')
    {
        tracing::trace!(target: "agi", "< {}", line.escape_ascii());
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering::Relaxed};

    use super::*;

    #[test]
    fn a_sighup_names_the_end_of_the_stream_a_hangup() {
        let flag = Arc::new(AtomicBool::new(false));
        let mut core = Core::new(Limits::default());
        core.watch_sighup(Arc::clone(&flag));
        assert!(!core.is_hung_up());
        assert!(matches!(core.eof(), Error::Closed));
        let pipe = || io::Error::from(io::ErrorKind::BrokenPipe);
        assert!(matches!(core.io_error(pipe(), None), Error::Closed));
        // The handler ran: read when asked, with nothing read meanwhile.
        flag.store(true, Relaxed);
        assert!(core.is_hung_up());
        assert!(matches!(core.eof(), Error::HungUp));
        assert!(matches!(core.io_error(pipe(), None), Error::HungUp));
    }
}
