//! One call's AGI session over a blocking reader and writer.

use std::io::{ErrorKind, Read, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use agi_proto::command::*;
use agi_proto::{ChannelState, Digit, Env, EscapeDigits, OwnedEnv, Value};

use crate::commands::command_table;
use crate::core::{Core, Pending};
use crate::error::Error;
use crate::options::Options;

/// A blocking AGI session: the environment Asterisk sent, and a typed
/// method per command.
///
/// Every method goes through [`Channel::send`]: one command line in one
/// write, then reading until its final reply. `HANGUP` notices are noted
/// wherever they arrive ([`Channel::is_hung_up`]).
#[derive(Debug)]
pub struct Channel<R, W> {
    reader: Source<R>,
    writer: W,
    core: Core,
}

/// The read side: the reader, and the transport's read timeout (to report
/// [`Error::Timeout`]).
#[derive(Debug)]
struct Source<R> {
    inner: R,
    timeout: Option<Duration>,
}

impl<R: Read> Source<R> {
    /// Reads what is available into the core's buffer.
    fn fill(&mut self, core: &mut Core) -> Result<(), Error> {
        let mut chunk = [0u8; 4096];
        loop {
            return match self.inner.read(&mut chunk) {
                Ok(0) => Err(core.eof()),
                Ok(n) => {
                    core.read_buf().extend_from_slice(&chunk[..n]);
                    Ok(())
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => Err(core.io_error(e, self.timeout)),
            };
        }
    }
}

impl<R: Read, W: Write> Channel<R, W> {
    /// Reads the environment block from `reader` and returns the channel.
    ///
    /// # Errors
    /// [`Error::Closed`] when the stream ends first, [`Error::Parse`] for
    /// bytes that are not an environment block.
    pub fn new(reader: R, writer: W) -> Result<Self, Error> {
        Channel::with_options(reader, writer, Options::default())
    }

    /// Like [`Channel::new`], with explicit limits.
    ///
    /// # Errors
    /// As [`Channel::new`].
    pub fn with_options(reader: R, writer: W, options: Options) -> Result<Self, Error> {
        Channel::start(reader, writer, options, None, None)
    }

    pub(crate) fn start(
        reader: R,
        writer: W,
        options: Options,
        sighup: Option<Arc<AtomicBool>>,
        timeout: Option<Duration>,
    ) -> Result<Self, Error> {
        let mut reader = Source {
            inner: reader,
            timeout,
        };
        let mut core = Core::new(options.limits);
        if let Some(flag) = sighup {
            core.watch_sighup(flag);
        }
        while !core.poll_env()? {
            reader.fill(&mut core)?;
        }
        Ok(Channel {
            reader,
            writer,
            core,
        })
    }

    /// The environment block Asterisk sent.
    pub fn env(&self) -> Env<'_> {
        self.core.env()
    }

    /// A copy of the environment block, to keep past the channel.
    pub fn owned_env(&self) -> OwnedEnv {
        self.core.env().into_owned()
    }

    /// `true` once Asterisk said the caller hung up: a `HANGUP` line, a
    /// SIGHUP (standard AGI), a `511` reply, or the end of the stream after
    /// one of those. A `511` also comes from an AGI run inside a
    /// connected-line or redirecting intercept routine, where Asterisk
    /// allows only the dead-channel commands while the call is up: there
    /// it reads `true` after the first refused command.
    pub fn is_hung_up(&self) -> bool {
        self.core.is_hung_up()
    }

    /// Sends one command and waits for its outcome.
    ///
    /// # Errors
    /// [`Error::Failure`] for `510`/`511`/`520` and results the command
    /// defines as failure; [`Error::HungUp`] or [`Error::Closed`] when the
    /// session ended; [`Error::Encode`] when the command cannot be sent.
    pub fn send<C: Command>(&mut self, cmd: &C) -> Result<C::Output, Error> {
        let line = self.core.begin(cmd)?;
        if let Err(e) = self
            .writer
            .write_all(line)
            .and_then(|()| self.writer.flush())
        {
            return Err(self.core.io_error(e, None));
        }
        let mut pending = Pending::new(cmd);
        loop {
            if self.core.poll_reply(&mut pending)? {
                return pending.take();
            }
            self.reader.fill(&mut self.core)?;
        }
    }

    /// The reader and writer back.
    pub fn into_inner(self) -> (R, W) {
        (self.reader.inner, self.writer)
    }

    /// The reader, for transport settings.
    pub(crate) fn reader(&self) -> &R {
        &self.reader.inner
    }

    /// The reader, for transport settings.
    pub(crate) fn reader_mut(&mut self) -> &mut R {
        &mut self.reader.inner
    }

    /// Records the transport's read timeout, for [`Error::Timeout`].
    pub(crate) fn note_read_timeout(&mut self, timeout: Option<Duration>) {
        self.reader.timeout = timeout;
    }
}

macro_rules! sync_methods {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $build:expr; )*) => {
        /// One method per AGI command, each a thin call of [`Channel::send`].
        impl<R: Read, W: Write> Channel<R, W> {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                /// See [`Channel::send`]; [`Error::is_hangup`] tells when the call is over.
                pub fn $name(&mut self, $($arg: $ty),*) -> Result<$out, Error> {
                    self.send(&$build)
                }
            )*
        }
    };
}

command_table!(sync_methods);
