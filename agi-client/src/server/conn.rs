//! One accepted connection: allow-list, environment, routing, the handler,
//! and a clean close.
//!
//! Two steps, so that the session task stays small: `open` reads the
//! environment, `run` moves the channel once, into the handler's box, and
//! holds only that box while the handler runs. (Each move of a future
//! copies it whole; a task of a few hundred bytes instead of nearly two
//! kilobytes is measurably cheaper to spawn, poll and free.)

use std::any::Any;
use std::error::Error as StdError;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering::Relaxed};
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::Instrument;

use super::idle::IdleWatch;
use super::router::{Session, split_script};
use super::sessions::Shared;
use crate::aio::activity::Activity;
use crate::aio::{Channel, deadline};
use crate::error::Error;

/// What a server writes to make Asterisk end the session with
/// `AGISTATUS=FAILURE`: a line starting `failure` is no command to it.
pub(crate) const FAILURE: &[u8] = b"failure\n";

/// Checks the allow-list and reads the environment block within
/// `env_timeout`; `None` when the connection is refused, ends first, or
/// misses the deadline (logged here).
#[allow(clippy::manual_async_fn)] // on purpose: see `run`
pub(crate) fn open<'a>(
    stream: TcpStream,
    peer: SocketAddr,
    shared: &'a Shared,
) -> impl Future<Output = Option<Channel<TcpStream>>> + 'a {
    // An `async` block (see `run`), whose only wait is boxed: the task is
    // as large as its largest step, and this one is usually over at once.
    async move {
        let Shared {
            config,
            nodelay,
            warnings,
            ..
        } = shared;
        if !allowed(shared, peer) {
            return None;
        }
        let set_nodelay = !nodelay.check(&stream);
        let opened = match Channel::accept_now(stream, config.session, set_nodelay) {
            Ok((chan, true)) => Ok(chan),
            // The block was not all in the socket yet (a slow or hostile
            // peer, rarely Asterisk): the rest under the deadline.
            Ok((mut chan, false)) => {
                Box::pin(async move {
                    chan.finish_env(config.session.env_timeout).await?;
                    Ok(chan)
                })
                .await
            }
            Err(e) => Err(e),
        };
        match opened {
            Ok(chan) => Some(chan),
            Err(Error::Closed) => {
                tracing::debug!(%peer, "connection closed before sending anything");
                None
            }
            Err(e) => {
                if let Some(suppressed) = warnings.bad_env.admit() {
                    tracing::warn!(
                        %peer,
                        error = %e,
                        suppressed,
                        "no usable environment block; closing"
                    );
                }
                None
            }
        }
    }
}

/// Tells a connection `failure` without waiting (Asterisk then sets
/// `AGISTATUS=FAILURE` rather than read the close as a normal end), having
/// read what it sent so far: a socket closed with bytes unread sends a
/// reset, which may overtake `failure`. (Bytes that arrive after the close,
/// the rest of an environment still on its way, get that reset all the
/// same.) Plain non-blocking system calls: the reactor's readiness is not
/// consulted, as no task polled the stream.
pub(crate) fn refuse_now(stream: &TcpStream) {
    use rustix::io::Errno;
    use rustix::net::{RecvFlags, SendFlags};
    let mut sink = [0u8; 4096];
    // Bounded: a peer that keeps sending gets its reset.
    for _ in 0..16 {
        match rustix::net::recv(stream, &mut sink, RecvFlags::DONTWAIT) {
            Ok((n, _)) if n == sink.len() => {}
            // A short read emptied the queue.
            Ok(_) => break,
            Err(Errno::AGAIN | Errno::INTR) => break,
            // Reset or timed out: nobody to tell.
            Err(_) => return,
        }
    }
    // No SIGPIPE for a peer gone meanwhile, where the system has the flag
    // (elsewhere Rust programs ignore SIGPIPE unless told otherwise).
    #[cfg(not(any(target_vendor = "apple", target_os = "redox")))]
    let flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
    #[cfg(any(target_vendor = "apple", target_os = "redox"))]
    let flags = SendFlags::DONTWAIT;
    let _ = rustix::net::send(stream, FAILURE, flags);
}

/// Whether the allow-list lets `peer` in; a refusal is logged (throttled).
pub(crate) fn allowed(shared: &Shared, peer: SocketAddr) -> bool {
    let Some(allow) = &shared.config.allow else {
        return true;
    };
    // `::ffff:a.b.c.d` on a dual-stack listener is `a.b.c.d`.
    if allow.contains(&peer.ip().to_canonical()) {
        return true;
    }
    if let Some(suppressed) = shared.warnings.not_allowed.admit() {
        tracing::warn!(
            %peer,
            suppressed,
            "connection refused: peer not on the allow-list"
        );
    }
    false
}

/// Whether accepted sockets inherit TCP_NODELAY from the listener (set by
/// `Server::bind`). Linux and the BSDs copy it to each accepted socket,
/// which saves a `setsockopt` per session; one `getsockopt` on the first
/// connection checks it, so other systems still get it set per session.
#[derive(Debug, Default)]
pub(crate) struct NodelayInherited(AtomicU8);

impl NodelayInherited {
    const UNKNOWN: u8 = 0;
    const YES: u8 = 1;
    const NO: u8 = 2;

    fn check(&self, stream: &TcpStream) -> bool {
        match self.0.load(Relaxed) {
            Self::YES => true,
            Self::NO => false,
            _ => {
                // A failed check sets it on this socket and asks again next
                // time; several first sessions may check at once and agree.
                let Ok(inherited) = stream.nodelay() else {
                    return false;
                };
                let seen = if inherited { Self::YES } else { Self::NO };
                let _ = self
                    .0
                    .compare_exchange(Self::UNKNOWN, seen, Relaxed, Relaxed);
                inherited
            }
        }
    }
}

/// Routes the session and runs its handler, inside the session's span.
///
/// An `async` block rather than an `async fn`, which would keep the channel
/// twice in the task (as passed, and as moved into its body).
#[allow(clippy::manual_async_fn)] // on purpose: see above
pub(crate) fn run<'a>(
    mut chan: Channel<TcpStream>,
    peer: SocketAddr,
    shared: &'a Shared,
) -> impl Future<Output = ()> + 'a {
    async move {
        let Shared {
            config,
            router,
            warnings,
            ..
        } = shared;
        let (span, handler) = {
            let env = chan.env();
            let script = env.network_script().unwrap_or_default();
            let path = split_script(&script).0;
            let uniqueid = env.uniqueid().unwrap_or_default();
            // Fields are formatted only when a subscriber records them;
            // escaped, as they are the peer's bytes. The script's query
            // string is left out: the dialplan may put caller data there.
            // At most 128 bytes of each: the peer chooses them, up to a
            // whole line.
            let span = tracing::info_span!(
                "agi",
                %peer,
                uniqueid = %clipped(&uniqueid).escape_ascii(),
                script = %clipped(path).escape_ascii(),
            );
            (span, router.find_bytes(path))
        };
        let Some(handler) = handler else {
            if let Some(suppressed) = warnings.no_handler.admit() {
                tracing::warn!(
                    parent: &span,
                    suppressed,
                    "no handler for this script; closing (Asterisk sets AGISTATUS=FAILURE)"
                );
            }
            // Rare: boxed so that its buffer and timer do not enlarge every
            // session's task.
            Box::pin(close(chan).instrument(span)).await;
            return;
        };
        // Events name the span as parent rather than entering it: without a
        // subscriber that is one level check, not an enter and an exit.
        tracing::debug!(parent: &span, "session starts");
        // What the channel reports of its commands: to the idle watch, and
        // to the end-of-session log.
        let activity = Arc::new(Activity::new(config.hangup_notice_wait));
        let mut idle = config
            .idle_timeout
            .map(|limit| IdleWatch::new(limit, Arc::clone(&activity)));
        chan.attach_server(Arc::clone(&activity), ack_now);
        // A closure handler runs its synchronous part here, making its
        // future: a panic there is caught and logged in the span too.
        let made =
            std::panic::catch_unwind(AssertUnwindSafe(|| handler.call(Session { chan, peer })));
        // Instrumented: the handler's future is polled, and dropped when the
        // session is cut or runs out of time, inside the span.
        let mut call = match made {
            Ok(call) => call.instrument(span.clone()),
            Err(payload) => return panicked(&span, payload.as_ref()),
        };
        // Only a server that sets a session limit pays for its timer.
        let mut limit = config
            .session_timeout
            .map(|after| (after, Box::pin(tokio::time::sleep(after))));
        // `Err(payload)` when the handler panicked, else how it ended.
        let ended = std::future::poll_fn(|cx| {
            // A panic ends only this session, and its message reaches the
            // log inside the session's span (not only the panic hook's
            // stderr). The future is dropped right after, never polled again.
            match std::panic::catch_unwind(AssertUnwindSafe(|| Pin::new(&mut call).poll(cx))) {
                Ok(Poll::Ready(result)) => return Poll::Ready(Ok(result)),
                Ok(Poll::Pending) => {}
                Err(payload) => return Poll::Ready(Err(payload)),
            }
            if let Some(idle) = &mut idle {
                if let Poll::Ready(limit) = idle.poll_expired(cx) {
                    let e = format!("no command for {limit:?} (idle timeout)");
                    return Poll::Ready(Ok(Err(e.into())));
                }
            }
            if let Some((after, sleep)) = &mut limit {
                if deadline::poll_expired(sleep.as_mut(), cx).is_ready() {
                    let e = format!("session ran longer than {after:?}");
                    return Poll::Ready(Ok(Err(e.into())));
                }
            }
            Poll::Pending
        })
        .await;
        drop(call);
        match ended {
            Ok(Ok(())) => tracing::debug!(parent: &span, "session ends"),
            Ok(Err(e)) => {
                let hangup = hangup_in(&*e);
                // The caller hanging up is how most calls end: a handler
                // that lets that error out (`?` on its next command) has
                // not failed. Nor has one that lets out the `-1` of a command
                // the hangup interrupted (a prompt playing, GET DATA
                // waiting), which Asterisk sends before its `HANGUP` notice
                // and the channel waited for. A hangup that is not the error
                // itself but one it wraps is named apart (a `None` field is
                // left out of the line).
                let failed_by_hangup =
                    activity.failed_by_hangup() && errors_in(&*e).any(Error::failed_with_minus_one);
                if hangup.is_some() || failed_by_hangup {
                    let wrapped = hangup.filter(|&(_, wrapped)| wrapped);
                    tracing::debug!(
                        parent: &span,
                        error = %e,
                        hangup = wrapped.map(|(hangup, _)| tracing::field::display(hangup)),
                        "the call ended before the handler did; connection closed"
                    );
                } else if errors_in(&*e).any(|e| matches!(e, Error::Parse(_))) {
                    // Bytes that are not AGI in place of a reply are the
                    // peer's doing, and any peer can send them: throttled.
                    if let Some(suppressed) = warnings.bad_reply.admit() {
                        tracing::warn!(
                            parent: &span,
                            error = %e,
                            suppressed,
                            "the peer sent something that is not AGI; connection closed"
                        );
                    }
                } else {
                    tracing::warn!(parent: &span, error = %e, "handler failed; connection closed");
                }
            }
            Err(payload) => panicked(&span, payload.as_ref()),
        }
    }
}

/// Acknowledges at once what the socket has read, where the system allows
/// (Linux): Asterisk's `HANGUP` notice after a failed command, held by its
/// Nagle until then, comes at once rather than after a delayed ACK.
fn ack_now(stream: &TcpStream) {
    #[cfg(any(target_os = "linux", target_os = "android"))]
    let _ = rustix::net::sockopt::set_tcp_quickack(stream, true);
    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    let _ = stream;
}

/// The first 128 bytes of a field the peer chose, for the log.
fn clipped(field: &[u8]) -> &[u8] {
    &field[..field.len().min(128)]
}

/// The error in a handler's error chain that says the call ended
/// ([`Error::is_hangup`]), and whether it is wrapped (not `e` itself).
#[cold]
fn hangup_in<'a>(e: &'a (dyn StdError + 'static)) -> Option<(&'a Error, bool)> {
    chain(e).enumerate().find_map(|(depth, e)| {
        let hangup = e.downcast_ref::<Error>().filter(|e| e.is_hangup())?;
        Some((hangup, depth > 0))
    })
}

/// The channel's errors in a handler's error chain.
fn errors_in<'a>(e: &'a (dyn StdError + 'static)) -> impl Iterator<Item = &'a Error> {
    chain(e).filter_map(|e| e.downcast_ref::<Error>())
}

/// `e`, its source, that one's source, and so on: the first 32, so that a
/// chain that loops cannot hang the session. `io::Error::other(inner)`
/// hides `inner` from `source()` (it answers with `inner`'s own source), so
/// the chain looks inside such an error instead.
fn chain<'a>(
    e: &'a (dyn StdError + 'static),
) -> impl Iterator<Item = &'a (dyn StdError + 'static)> {
    std::iter::successors(Some(e), |&e| {
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref);
        match inner {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        }
    })
    .take(32)
}

/// Logs a handler's panic in its session's span.
#[cold]
fn panicked(span: &tracing::Span, payload: &(dyn Any + Send)) {
    let panic = panic_message(payload);
    tracing::error!(parent: span, %panic, "the handler panicked; connection closed");
}

/// The message a panic was given (`panic!("...")`), when it has one.
#[cold]
fn panic_message(payload: &(dyn Any + Send)) -> &str {
    match payload.downcast_ref::<&'static str>() {
        Some(text) => text,
        None => payload
            .downcast_ref::<String>()
            .map_or("(no message)", String::as_str),
    }
}

/// Tells Asterisk the script could not run (a line starting `failure`:
/// `AGISTATUS=FAILURE`, where a bare close reads as a normal end, SUCCESS),
/// half-closes, then reads briefly what Asterisk still sends (its final
/// `HANGUP`) so the socket closes with FIN rather than RST.
async fn close(mut chan: Channel<TcpStream>) {
    let _ = chan.stream_mut().write_all(FAILURE).await;
    let _ = chan.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        let mut sink = [0u8; 256];
        let stream = chan.stream_mut();
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;
    use crate::server::BoxError;

    /// An error whose source is `inner`, or itself when `inner` is `None`
    /// (a chain that never ends).
    #[derive(Debug)]
    struct Wrapper(Option<Error>);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("wrapper")
        }
    }

    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            match &self.0 {
                Some(inner) => Some(inner),
                None => Some(self),
            }
        }
    }

    fn ended_by_hangup(e: &(dyn StdError + 'static)) -> bool {
        hangup_in(e).is_some()
    }

    #[test]
    fn a_hangup_is_found_itself_or_as_a_source() {
        assert!(ended_by_hangup(&Error::HungUp));
        assert!(ended_by_hangup(&Error::Closed));
        assert!(ended_by_hangup(&Wrapper(Some(Error::HungUp))));
        assert!(!ended_by_hangup(&Error::Poisoned));
        assert!(!ended_by_hangup(&Wrapper(Some(Error::Poisoned))));
        let other: BoxError = "database down".into();
        assert!(!ended_by_hangup(&*other));
        // The one found is the hangup, not its wrapper, and said wrapped.
        let wrapped = Wrapper(Some(Error::Closed));
        assert!(matches!(hangup_in(&wrapped), Some((Error::Closed, true))));
        assert!(matches!(
            hangup_in(&Error::Closed),
            Some((Error::Closed, false))
        ));
    }

    #[test]
    fn a_hangup_inside_an_io_error_is_found() {
        let io = std::io::Error::other(Error::HungUp);
        assert!(ended_by_hangup(&io));
        // Inside our own error type, it is wrapped all the same.
        let ours = Error::Io(std::io::Error::other(Error::HungUp));
        assert!(matches!(hangup_in(&ours), Some((Error::HungUp, true))));
        assert!(ended_by_hangup(&Wrapper(Some(Error::Io(io)))));
        let io = std::io::Error::other(Error::Poisoned);
        assert!(!ended_by_hangup(&io));
        let os = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(!ended_by_hangup(&os));
    }

    #[test]
    fn a_source_chain_that_loops_ends_the_search() {
        assert!(!ended_by_hangup(&Wrapper(None)));
        assert_eq!(chain(&Wrapper(None)).count(), 32);
    }
}
