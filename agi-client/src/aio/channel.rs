//! One call's AGI session over an async reader and writer.

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use agi_proto::command::*;
use agi_proto::{ChannelState, Digit, Env, EscapeDigits, OwnedEnv, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::activity::{Activity, InFlight};
use super::deadline;
use crate::commands::command_table;
use crate::core::{Core, Pending, Steps};
use crate::error::Error;
use crate::options::Options;

/// An async AGI session: the environment Asterisk sent, and a typed async
/// method per command.
///
/// It owns one duplex stream: a [`TcpStream`] (FastAGI), Asterisk's pipes
/// on stdin and stdout (standard AGI, [`Channel::stdio`]), a Unix socket, an
/// in-memory pipe, or any two halves joined with [`tokio::io::join`].
///
/// # Cancel safety
/// A command future dropped before it completes (a `select!` branch lost,
/// a timeout) leaves its reply unread on the wire, so the channel is
/// **poisoned**: every later command returns [`Error::Poisoned`] and the
/// session should be closed. [`Options::command_timeout`] behaves the same.
/// One exception: in a session of this crate's FastAGI server, a command
/// that failed with `-1` waits briefly for a hangup notice after its reply
/// was read (see [`Channel::is_hung_up`]); dropped then, it leaves the
/// channel usable, and its failure unseen.
#[derive(Debug)]
pub struct Channel<S> {
    stream: S,
    /// Boxed so that the channel stays small: it is moved into and out of
    /// futures (a server's session task, a handler's box), and every move
    /// copies it whole.
    core: Box<Core>,
    command_timeout: Option<Duration>,
    /// The command deadline's timer, made at the first command when
    /// `command_timeout` is set and reset at each one after.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Set by the FastAGI server: tells its idle timer when commands run,
    /// and its log when one failed because the caller hung up.
    activity: Option<Arc<Activity>>,
    /// Set by the FastAGI server: acknowledges at once what the socket has
    /// read (TCP_QUICKACK), before waiting for a hangup notice.
    ack_now: fn(&S),
}

impl Channel<TcpStream> {
    /// A FastAGI connection: sets TCP_NODELAY and reads the environment.
    ///
    /// Asterisk writes the environment block as soon as it connects, so it
    /// is usually waiting in the socket already: one non-blocking read takes
    /// it at once, which saves waiting for the reactor's first readiness
    /// event (a task wake-up) and, when the block is complete, the deadline
    /// timer.
    ///
    /// Dropping the channel closes the socket (one system call; no separate
    /// half-close).
    ///
    /// # Errors
    /// As [`Channel::with_options`].
    pub async fn tcp(stream: TcpStream, options: Options) -> Result<Self, Error> {
        let (mut chan, complete) = Channel::accept_now(stream, options, true)?;
        if !complete {
            chan.finish_env(options.env_timeout).await?;
        }
        Ok(chan)
    }

    /// The first step of [`Channel::tcp`], without waiting: the channel with
    /// what the socket held, and whether that was the whole environment
    /// block ([`Channel::finish_env`] reads the rest). `set_nodelay` false
    /// saves that system call for a server whose accepted sockets already
    /// have it.
    pub(crate) fn accept_now(
        stream: TcpStream,
        options: Options,
        set_nodelay: bool,
    ) -> Result<(Self, bool), Error> {
        if set_nodelay {
            stream.set_nodelay(true)?;
        }
        let mut chan = Channel::unread(stream, options);
        chan.read_now()?;
        let complete = chan.core.poll_env()?;
        Ok((chan, complete))
    }

    /// Reads what the socket holds without waiting (nothing when it is
    /// empty; the reactor is told of readiness separately and copes with a
    /// read it did not see).
    fn read_now(&mut self) -> Result<(), Error> {
        let buf = rustix::buffer::spare_capacity(self.core.read_buf());
        match rustix::net::recv(&self.stream, buf, rustix::net::RecvFlags::DONTWAIT) {
            Ok((0, _)) => Err(self.core.eof()),
            Ok(_) => Ok(()),
            Err(e) if e == rustix::io::Errno::AGAIN || e == rustix::io::Errno::INTR => Ok(()),
            Err(e) => Err(self.core.io_error(e.into(), None)),
        }
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
        let mut chan = Channel::unread(stream, options);
        chan.finish_env(options.env_timeout).await?;
        Ok(chan)
    }

    /// A channel whose environment is still to be read.
    pub(super) fn unread(stream: S, options: Options) -> Self {
        Channel {
            stream,
            core: Box::new(Core::new(options.limits)),
            command_timeout: options.command_timeout,
            timer: None,
            activity: None,
            ack_now: |_| {},
        }
    }

    /// Reads the rest of an environment block that is not complete yet
    /// (its decoder has seen what the buffer holds), within `limit`.
    pub(crate) async fn finish_env(&mut self, limit: Option<Duration>) -> Result<(), Error> {
        let read = async {
            loop {
                std::future::poll_fn(|cx| self.poll_fill(cx)).await?;
                if self.core.poll_env()? {
                    return Ok(());
                }
            }
        };
        match limit {
            Some(after) => tokio::time::timeout(after, read)
                .await
                .unwrap_or(Err(Error::Timeout { after })),
            None => read.await,
        }
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
    /// it reads `true` after the first refused command. In a session of
    /// this crate's FastAGI server, a command that fails with `-1` returns
    /// after the notice that follows such a failure when the hangup caused
    /// it, or after at most `ServerConfig::hangup_notice_wait` (100 ms by
    /// default) without one (see [`Error`]).
    pub fn is_hung_up(&self) -> bool {
        self.core.is_hung_up()
    }

    /// Counts SIGHUP as a hangup notice (standard AGI).
    pub(super) fn watch_sighup(&mut self, flag: Arc<std::sync::atomic::AtomicBool>) {
        self.core.watch_sighup(flag);
    }

    /// Sends one command and waits for its outcome.
    ///
    /// # Errors
    /// As [`crate::sync::Channel::send`], plus [`Error::Timeout`] past
    /// [`Options::command_timeout`] and [`Error::Poisoned`] after a
    /// cancelled command.
    ///
    /// # Cancel safety
    /// Not cancel safe: dropping the future poisons the channel (except
    /// during the wait after a `-1`: see the type's docs).
    pub async fn send<C: Command>(&mut self, cmd: &C) -> Result<C::Output, Error> {
        // Only encoding and the reply's meaning depend on the command; the
        // round trip is compiled once for all commands.
        self.core.begin(cmd)?;
        let mut pending = Pending::new(cmd);
        let mut trip = self.trip();
        // The exchange is lent as `dyn` at each poll rather than kept as
        // one: the future stays `Send` whenever the command is.
        if let Err(e) = std::future::poll_fn(|cx| trip.poll(cx, &mut pending)).await {
            if e.failed_with_minus_one() {
                if let Some(activity) = self.activity.clone() {
                    // Rare, and boxed, the error moved in: the wait's timer
                    // does not enlarge every command's future.
                    return Err(Box::pin(self.await_hangup_notice(activity, e)).await);
                }
            }
            return Err(e);
        }
        pending.take()
    }

    /// After a command's `-1` in a session of this crate's FastAGI server:
    /// unless the hangup is known already, waits up to the server's
    /// `hangup_notice_wait` for the `HANGUP` notice Asterisk writes right
    /// after that reply when the caller's hangup interrupted the command, so
    /// that
    /// [`Channel::is_hung_up`] and the server's log tell a hangup from a
    /// failure (a missing prompt, a `GOSUB` label not found: nothing
    /// follows those). Any other line, once complete, ends the wait and
    /// stays for the next command; so does the end of the stream.
    async fn await_hangup_notice(&mut self, activity: Arc<Activity>, e: Error) -> Error {
        if !self.core.is_hung_up() {
            // Asterisk leaves Nagle on: its notice waits in its socket until
            // ours acknowledges the reply, which the kernel would delay by
            // 40 ms or more, as it expects a command to carry the ACK.
            (self.ack_now)(&self.stream);
            // Counted as a command in flight: the session waits on Asterisk.
            // A clone, not the channel's record: a caller that drops this
            // future midway (a `select!`) keeps a channel that still reports.
            let in_flight = InFlight::start(Arc::clone(&activity));
            let notice = async {
                while !self.core.take_notices() {
                    if std::future::poll_fn(|cx| self.poll_fill(cx)).await.is_err() {
                        // The end of the stream: the next command says so.
                        return;
                    }
                }
            };
            let _ = tokio::time::timeout(activity.notice_wait(), notice).await;
            drop(in_flight);
        }
        if self.core.is_hung_up() {
            activity.note_failed_by_hangup();
        }
        e
    }

    /// The round trip of the line `Core::begin` encoded.
    fn trip(&mut self) -> Trip<'_, S> {
        self.arm_timer();
        let in_flight = self.activity.take().map(InFlight::start);
        Trip {
            chan: self,
            written: Some(0),
            in_flight,
        }
    }

    /// Reports each command's start and end to a server's idle timer, and
    /// a failure the caller's hangup caused to its log; `ack_now` makes the
    /// stream acknowledge what it has read at once (see
    /// [`Channel::await_hangup_notice`]).
    pub(crate) fn attach_server(&mut self, activity: Arc<Activity>, ack_now: fn(&S)) {
        self.activity = Some(activity);
        self.ack_now = ack_now;
    }

    /// Starts the command deadline, if there is one. The timer stays set
    /// after the command ends (at worst one spurious wake-up of an idle
    /// task); the next command moves it.
    fn arm_timer(&mut self) {
        let Some(after) = self.command_timeout else {
            return;
        };
        let at = deadline::from_now(after);
        match &mut self.timer {
            Some(timer) => timer.as_mut().reset(at),
            None => self.timer = Some(Box::pin(tokio::time::sleep_until(at))),
        }
    }

    /// Writes what is left of the command line, then flushes.
    fn poll_write(&mut self, cx: &mut Context<'_>, done: &mut usize) -> Poll<Result<(), Error>> {
        loop {
            let line = self.core.line();
            if *done == line.len() {
                break;
            }
            match Pin::new(&mut self.stream).poll_write(cx, &line[*done..]) {
                Poll::Ready(Ok(0)) => {
                    let e = std::io::ErrorKind::WriteZero.into();
                    return Poll::Ready(Err(self.core.io_error(e, None)));
                }
                Poll::Ready(Ok(n)) => *done += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.core.io_error(e, None))),
                Poll::Pending => return Poll::Pending,
            }
        }
        Pin::new(&mut self.stream)
            .poll_flush(cx)
            .map_err(|e| self.core.io_error(e, None))
    }

    /// Reads what is available into the core's buffer.
    fn poll_fill(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        // `read_buf` keeps no state between polls: a fresh one each time.
        let read = pin!(self.stream.read_buf(self.core.read_buf()));
        match read.poll(cx) {
            Poll::Ready(Ok(0)) => Poll::Ready(Err(self.core.eof())),
            Poll::Ready(Ok(_)) => Poll::Ready(Ok(())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(self.core.io_error(e, None))),
            Poll::Pending => Poll::Pending,
        }
    }

    /// `Ready(Err(Timeout))` once the command deadline has passed.
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        match (&mut self.timer, self.command_timeout) {
            (Some(timer), Some(after)) => {
                deadline::poll_expired(timer.as_mut(), cx).map(|()| Err(Error::Timeout { after }))
            }
            _ => Poll::Pending,
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

/// A command's round trip apart from the command: writes the line, then
/// reads until the exchange has its final reply. One copy of this code per
/// stream type, called out of line by every command's `send` rather than
/// inlined into each: less code, and fewer distinct lines of it per session.
struct Trip<'a, S> {
    chan: &'a mut Channel<S>,
    /// Bytes of the line written so far; `None` once it all is.
    written: Option<usize>,
    /// Reported to the server's idle timer (dropped midway, the command
    /// ends, and the poisoned channel reports no more).
    in_flight: Option<InFlight>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Trip<'_, S> {
    #[inline(never)]
    fn poll(&mut self, cx: &mut Context<'_>, exchange: &mut dyn Steps) -> Poll<Result<(), Error>> {
        let outcome = loop {
            let step = match &mut self.written {
                Some(done) => match self.chan.poll_write(cx, done) {
                    Poll::Ready(Ok(())) => {
                        self.written = None;
                        continue;
                    }
                    step => step,
                },
                // Replies already buffered are parsed before reading more.
                None => match self.chan.core.poll_reply(exchange) {
                    Ok(true) => break Ok(()),
                    Ok(false) => self.chan.poll_fill(cx),
                    Err(e) => break Err(e),
                },
            };
            match step {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => break Err(e),
                Poll::Pending => match self.chan.poll_timer(cx) {
                    Poll::Ready(Err(e)) => break Err(e),
                    _ => return Poll::Pending,
                },
            }
        };
        if let Some(in_flight) = self.in_flight.take() {
            self.chan.activity = in_flight.finish();
        }
        Poll::Ready(outcome)
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
                /// Not cancel safe: dropping the future poisons the channel
                /// (except during the wait after a `-1`: see the type's docs).
                pub async fn $name(&mut self, $($arg: $ty),*) -> Result<$out, Error> {
                    self.send(&$build).await
                }
            )*
        }
    };
}

command_table!(async_methods);

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::time::Instant;

    use super::*;

    /// After a `-1`, a server's session waits `hangup_notice_wait` for
    /// Asterisk's notice: one that comes within it is known when the
    /// command returns, one that comes later is not. On a paused clock,
    /// so the times are exact.
    #[tokio::test(start_paused = true)]
    async fn the_notice_wait_is_the_one_set() {
        // (wait, notice after the reply, known when the command returns)
        for (wait, notice, known) in [
            (0, 1, false),
            (100, 50, true),
            (100, 150, false),
            (400, 300, true),
        ] {
            let (ours, theirs) = tokio::io::duplex(4096);
            let mut asterisk = BufReader::new(theirs);
            asterisk.write_all(b"agi_request: x\n\n").await.unwrap();
            let mut chan = Channel::with_options(ours, Options::default())
                .await
                .unwrap();
            let activity = Arc::new(Activity::new(Duration::from_millis(wait)));
            chan.attach_server(activity, |_| {});
            let peer = tokio::spawn(async move {
                let mut line = String::new();
                asterisk.read_line(&mut line).await.unwrap();
                asterisk
                    .write_all(b"200 result=-1 endpos=0\n")
                    .await
                    .unwrap();
                tokio::time::sleep(Duration::from_millis(notice)).await;
                asterisk.write_all(b"HANGUP\n").await.unwrap();
                asterisk
            });
            let started = Instant::now();
            let played = chan.stream_file("x", agi_proto::EscapeDigits::NONE).await;
            let took = started.elapsed().as_millis();
            assert!(played.is_err(), "{wait} ms");
            assert_eq!(chan.is_hung_up(), known, "{wait} ms, notice at {notice} ms");
            assert_eq!(
                took,
                u128::from(if known { notice } else { wait }),
                "{wait} ms"
            );
            drop(peer.await.unwrap());
        }
    }
}
