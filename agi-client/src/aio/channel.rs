//! One call's AGI session over an async reader and writer.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use agi_proto::command::*;
use agi_proto::{ChannelState, Digit, Env, EscapeDigits, Exchange, OwnedEnv, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use crate::commands::command_table;
use crate::core::{Core, READ_CHUNK};
use crate::error::Error;
use crate::options::Options;

/// An async AGI session: the environment Asterisk sent, and a typed async
/// method per command.
///
/// # Cancel safety
/// A command future dropped before it completes (a `select!` branch lost,
/// a timeout) leaves its reply unread on the wire, so the channel is
/// **poisoned**: every later command returns [`Error::Poisoned`] and the
/// session should be closed. [`Options::command_timeout`] behaves the same.
#[derive(Debug)]
pub struct Channel<R, W> {
    reader: R,
    writer: W,
    core: Core,
    env: OwnedEnv,
    command_timeout: Option<Duration>,
}

/// The write half of a FastAGI connection.
///
/// Unlike tokio's `OwnedWriteHalf`, dropping it does not shut the socket's
/// write side down by itself: the connection closes once, when both halves
/// are gone, which saves a system call per session. Call
/// [`Channel::shutdown`] to half-close explicitly.
#[derive(Debug)]
pub struct TcpWriter(Option<OwnedWriteHalf>);

impl TcpWriter {
    fn inner(&mut self) -> std::io::Result<Pin<&mut OwnedWriteHalf>> {
        self.0.as_mut().map(Pin::new).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::NotConnected, "write half released")
        })
    }
}

impl AsyncWrite for TcpWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.inner() {
            Ok(w) => w.poll_write(cx, buf),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.inner() {
            Ok(w) => w.poll_flush(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.inner() {
            Ok(w) => w.poll_shutdown(cx),
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

impl Drop for TcpWriter {
    fn drop(&mut self) {
        if let Some(w) = self.0.take() {
            w.forget();
        }
    }
}

impl Channel<OwnedReadHalf, TcpWriter> {
    /// A FastAGI connection: sets TCP_NODELAY and reads the environment.
    ///
    /// # Errors
    /// As [`Channel::with_options`].
    pub async fn tcp(stream: TcpStream, options: Options) -> Result<Self, Error> {
        stream.set_nodelay(true)?;
        let (reader, writer) = stream.into_split();
        Channel::with_options(reader, TcpWriter(Some(writer)), options).await
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Channel<R, W> {
    /// Reads the environment block and returns the channel.
    ///
    /// # Errors
    /// As [`Channel::with_options`].
    pub async fn new(reader: R, writer: W) -> Result<Self, Error> {
        Channel::with_options(reader, writer, Options::default()).await
    }

    /// Reads the environment block within `options.env_timeout`.
    ///
    /// # Errors
    /// [`Error::Timeout`] when the block does not arrive in time,
    /// [`Error::Closed`] when the peer closes first, [`Error::Parse`] for
    /// bytes that are not an environment block.
    pub async fn with_options(mut reader: R, writer: W, options: Options) -> Result<Self, Error> {
        let mut core = Core::new(options.limits);
        let mut decoder = core.env_decoder();
        let read_env = async {
            loop {
                if let Some(env) = core.poll_env(&mut decoder)? {
                    return Ok(env);
                }
                fill(&mut reader, &mut core).await?;
            }
        };
        let env = match options.env_timeout {
            Some(after) => tokio::time::timeout(after, read_env)
                .await
                .unwrap_or(Err(Error::Timeout { after }))?,
            None => read_env.await?,
        };
        Ok(Channel {
            reader,
            writer,
            core,
            env,
            command_timeout: options.command_timeout,
        })
    }

    /// The environment block Asterisk sent.
    pub fn env(&self) -> Env<'_> {
        self.env.env()
    }

    /// The environment block, owned.
    pub fn owned_env(&self) -> &OwnedEnv {
        &self.env
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
            self.writer.write_all(line).await?;
            self.writer.flush().await
        };
        if let Err(e) = written.await {
            return Err(self.core.io_error(e, None));
        }
        let mut exchange = Exchange::new(cmd);
        loop {
            if let Some(outcome) = self.core.poll_reply(&mut exchange)? {
                return Ok(outcome);
            }
            fill(&mut self.reader, &mut self.core).await?;
        }
    }

    /// Closes the write side, as a FastAGI server does to end the session.
    ///
    /// # Errors
    /// The shutdown error.
    pub async fn shutdown(&mut self) -> Result<(), Error> {
        self.writer
            .shutdown()
            .await
            .map_err(|e| self.core.io_error(e, None))
    }

    /// The reader and writer back.
    pub fn into_inner(self) -> (R, W) {
        (self.reader, self.writer)
    }

    /// The reader and writer, for transport settings and a final drain.
    pub(crate) fn parts_mut(&mut self) -> (&mut R, &mut W) {
        (&mut self.reader, &mut self.writer)
    }
}

/// Reads what is available into the core's buffer.
async fn fill<R: AsyncRead + Unpin>(reader: &mut R, core: &mut Core) -> Result<(), Error> {
    if core.rbuf.capacity() - core.rbuf.len() < READ_CHUNK / 4 {
        core.rbuf.reserve(READ_CHUNK);
    }
    match reader.read_buf(&mut core.rbuf).await {
        Ok(0) => Err(core.eof()),
        Ok(_) => Ok(()),
        Err(e) => Err(core.io_error(e, None)),
    }
}

macro_rules! async_methods {
    ($( $(#[$doc:meta])* fn $name:ident($($arg:ident: $ty:ty),*) -> $out:ty = $build:expr; )*) => {
        /// One async method per AGI command, each a thin call of [`Channel::send`].
        impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Channel<R, W> {
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
