//! What the sync and async drivers share: the read buffer, the decoders,
//! the hangup flag and the poisoning rule. The drivers only move bytes.

use std::io;

use agi_proto::command::Command;
use agi_proto::{
    EnvDecoder, Exchange, Frame, FrameDecoder, Limits, OwnedEnv, Status, Step, check_eof,
    encode_command,
};
use bytes::{Buf, BytesMut};

use crate::error::Error;

/// How much room a read asks for. Replies are tens of bytes; larger frames
/// (usage blocks, long variables) grow the buffer as they arrive.
pub(crate) const READ_CHUNK: usize = 1024;

/// Per-session state of one AGI conversation, without I/O.
#[derive(Debug)]
pub(crate) struct Core {
    /// Bytes read from Asterisk and not yet parsed.
    pub(crate) rbuf: BytesMut,
    /// The command line being sent, reused between commands.
    line: Vec<u8>,
    limits: Limits,
    frames: FrameDecoder,
    hung_up: bool,
    /// Set while a command is in flight; left set when it did not finish.
    in_flight: bool,
}

impl Core {
    pub(crate) fn new(limits: Limits) -> Self {
        Core {
            // Enough for a typical environment block (~600 bytes) in one read.
            rbuf: BytesMut::with_capacity(READ_CHUNK),
            // Most command lines fit; longer ones grow it once.
            line: Vec::with_capacity(64),
            limits,
            frames: FrameDecoder::new(limits),
            hung_up: false,
            in_flight: false,
        }
    }

    /// A decoder for the environment block, kept by the driver only while
    /// it reads the block (a channel does not carry its index afterwards).
    pub(crate) fn env_decoder(&self) -> EnvDecoder {
        EnvDecoder::new(self.limits)
    }

    /// The environment block, once all of it has been read.
    pub(crate) fn poll_env(&mut self, decoder: &mut EnvDecoder) -> Result<Option<OwnedEnv>, Error> {
        let (env, consumed) = match decoder.decode(&self.rbuf)? {
            Status::Partial => return Ok(None),
            // Copied out of the read buffer with the index already built:
            // no second parse, and the buffer stays unique for the replies.
            Status::Complete { value, consumed } => (value.into_owned(), consumed),
        };
        self.rbuf.advance(consumed);
        // Asterisk runs the tail of an over-long line as a second command:
        // follow the peer's own limit.
        self.limits.max_command = env.env().asterisk_version().command_limit();
        if tracing::enabled!(target: "agi", tracing::Level::TRACE) {
            for (name, value) in env.env().iter() {
                tracing::trace!(target: "agi", "< {}: {}", name.escape_ascii(), value.escape_ascii());
            }
        }
        Ok(Some(env))
    }

    /// Encodes `cmd` into the line buffer and marks it in flight.
    pub(crate) fn begin<C: Command>(&mut self, cmd: &C) -> Result<&[u8], Error> {
        if self.in_flight {
            return Err(Error::Poisoned);
        }
        self.line.clear();
        encode_command(cmd, &self.limits, &mut self.line)?;
        tracing::trace!(target: "agi", "> {}", self.line[..self.line.len() - 1].escape_ascii());
        self.in_flight = true;
        Ok(&self.line)
    }

    /// Runs the exchange over the buffered frames: the outcome once the final
    /// reply is in, `None` while more bytes are needed.
    pub(crate) fn poll_reply<C: Command>(
        &mut self,
        exchange: &mut Exchange<'_, C>,
    ) -> Result<Option<C::Output>, Error> {
        loop {
            let (step, consumed) = match self.frames.decode(&self.rbuf)? {
                Status::Partial => return Ok(None),
                Status::Complete { value, consumed } => (exchange.step(value), consumed),
            };
            trace_in(&self.rbuf[..consumed]);
            self.rbuf.advance(consumed);
            match step {
                Step::Hangup => self.note_hangup(),
                Step::Interim => {}
                Step::Done(outcome) => {
                    self.in_flight = false;
                    self.drain_hangups();
                    return match outcome {
                        Ok(value) => Ok(Some(value)),
                        Err(failure) => {
                            if failure.is_dead_channel() {
                                self.hung_up = true;
                            }
                            Err(failure.into())
                        }
                    };
                }
            }
        }
    }

    /// Consumes `HANGUP` lines already buffered after a reply, so that the
    /// hangup is known as soon as it arrived rather than at the next command.
    /// The parser decides what a `HANGUP` line is; anything else stays for
    /// the next command's exchange (a fresh decoder leaves `frames` as is).
    fn drain_hangups(&mut self) {
        while let Ok(Status::Complete {
            value: Frame::Hangup,
            consumed,
        }) = FrameDecoder::new(self.limits).decode(&self.rbuf)
        {
            trace_in(&self.rbuf[..consumed]);
            self.rbuf.advance(consumed);
            self.note_hangup();
        }
    }

    pub(crate) fn note_hangup(&mut self) {
        if !self.hung_up {
            tracing::debug!(target: "agi", "channel hung up");
        }
        self.hung_up = true;
    }

    pub(crate) fn is_hung_up(&self) -> bool {
        self.hung_up
    }

    /// The error for the peer closing the stream now.
    pub(crate) fn eof(&mut self) -> Error {
        let err = if self.hung_up {
            Error::HungUp
        } else if let Err(e) = check_eof(&self.rbuf) {
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
                if self.hung_up =>
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

fn trace_in(bytes: &[u8]) {
    if !tracing::enabled!(target: "agi", tracing::Level::TRACE) {
        return;
    }
    for line in bytes
        .strip_suffix(b"\n")
        .unwrap_or(bytes)
        .split(|&b| b == b'\n')
    {
        tracing::trace!(target: "agi", "< {}", line.escape_ascii());
    }
}
