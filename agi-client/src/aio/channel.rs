//! One call's AGI session over an async reader and writer.

use std::time::Duration;

use agi_proto::command::*;
use agi_proto::{ChannelState, Digit, Env, EscapeDigits, Exchange, OwnedEnv, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::commands::command_table;
use crate::core::Core;
use crate::error::Error;
use crate::options::Options;

/// An async AGI session: the environment Asterisk sent, and a typed async
/// method per command.
///
/// It owns one duplex stream: a [`TcpStream`] (FastAGI), a Unix socket, an
/// in-memory pipe, or separate halves joined with [`tokio::io::join`]
/// (standard AGI over tokio's stdin and stdout).
///
/// # Cancel safety
/// A command future dropped before it completes (a `select!` branch lost,
/// a timeout) leaves its reply unread on the wire, so the channel is
/// **poisoned**: every later command returns [`Error::Poisoned`] and the
/// session should be closed. [`Options::command_timeout`] behaves the same.
#[derive(Debug)]
pub struct Channel<S> {
    stream: S,
    /// Boxed so that the channel stays small: it is moved into and out of
    /// futures (a server's session task, a handler's box), and every move
    /// copies it whole.
    core: Box<Core>,
    command_timeout: Option<Duration>,
}

impl Channel<TcpStream> {
    /// A FastAGI connection: sets TCP_NODELAY and reads the environment.
    ///
    /// Dropping the channel closes the socket (one system call; no separate
    /// half-close).
    ///
    /// # Errors
    /// As [`Channel::with_options`].
    pub async fn tcp(stream: TcpStream, options: Options) -> Result<Self, Error> {
        stream.set_nodelay(true)?;
        Channel::with_options(stream, options).await
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Channel<S> {
    /// Reads the environment block and returns the channel.
    ///
    /// # Errors
    /// As [`Channel::with_options`].
    pub async fn new(stream: S) -> Result<Self, Error> {
        Channel::with_options(stream, Options::default()).await
    }

    /// Reads the environment block within `options.env_timeout`.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the block does not arrive in time,
    /// [`Error::Closed`] when the peer closes first, [`Error::Parse`] for
    /// bytes that are not an environment block.
    pub async fn with_options(stream: S, options: Options) -> Result<Self, Error> {
        match options.env_timeout {
            Some(after) => tokio::time::timeout(after, Channel::read_env(stream, options))
                .await
                .unwrap_or(Err(Error::Timeout { after })),
            None => Channel::read_env(stream, options).await,
        }
    }

    /// Reads the environment block with no deadline of its own (the
    /// FastAGI server keeps one for all its sessions).
    pub(crate) async fn read_env(mut stream: S, options: Options) -> Result<Self, Error> {
        let mut core = Box::new(Core::new(options.limits));
        while !core.poll_env()? {
            fill(&mut stream, &mut core).await?;
        }
        Ok(Channel {
            stream,
            core,
            command_timeout: options.command_timeout,
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
    /// `511` reply, or the end of the stream after one of those.
    pub fn is_hung_up(&self) -> bool {
        self.core.is_hung_up()
    }

    /// Sends one command and waits for its outcome.
    ///
    /// # Errors
    /// As [`crate::sync::Channel::send`], plus [`Error::Timeout`] past
    /// [`Options::command_timeout`] and [`Error::Poisoned`] after a
    /// cancelled command.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropping the future poisons the channel.
    pub async fn send<C: Command>(&mut self, cmd: &C) -> Result<C::Output, Error> {
        match self.command_timeout {
            Some(after) => tokio::time::timeout(after, self.exchange(cmd))
                .await
                .unwrap_or(Err(Error::Timeout { after })),
            None => self.exchange(cmd).await,
        }
    }

    async fn exchange<C: Command>(&mut self, cmd: &C) -> Result<C::Output, Error> {
        let line = self.core.begin(cmd)?;
        let written = async {
            self.stream.write_all(line).await?;
            self.stream.flush().await
        };
        if let Err(e) = written.await {
            return Err(self.core.io_error(e, None));
        }
        let mut exchange = Exchange::new(cmd);
        loop {
            if let Some(outcome) = self.core.poll_reply(&mut exchange)? {
                return Ok(outcome);
            }
            fill(&mut self.stream, &mut self.core).await?;
        }
    }

    /// Closes the write side, as a FastAGI server does to end the session.
    ///
    /// # Errors
    /// The shutdown error.
    pub async fn shutdown(&mut self) -> Result<(), Error> {
        self.stream
            .shutdown()
            .await
            .map_err(|e| self.core.io_error(e, None))
    }

    /// The stream, for transport settings.
    pub fn get_ref(&self) -> &S {
        &self.stream
    }

    /// The stream back. Bytes already read and not yet parsed are dropped.
    pub fn into_inner(self) -> S {
        self.stream
    }

    /// The stream, for a final drain.
    pub(crate) fn stream_mut(&mut self) -> &mut S {
        &mut self.stream
    }
}

/// Reads what is available into the core's buffer.
async fn fill<R: AsyncRead + Unpin>(reader: &mut R, core: &mut Core) -> Result<(), Error> {
    match reader.read_buf(core.read_buf()).await {
        Ok(0) => Err(core.eof()),
        Ok(_) => Ok(()),
        Err(e) => Err(core.io_error(e, None)),
    }
}

macro_rules! async_methods {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $build:expr; )*) => {
        /// One async method per AGI command, each a thin call of [`Channel::send`].
        impl<S: AsyncRead + AsyncWrite + Unpin> Channel<S> {
            $(
                $(#[$doc])*
                ///
                /// # Errors
                /// See [`Channel::send`]; [`Error::is_hangup`] tells when the call is over.
                ///
                /// # Cancel safety
                /// Not cancel safe: dropping the future poisons the channel.
                pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$out, Error> {
                    self.send(&$build).await
                }
            )*
        }
    };
}

command_table!(async_methods);
