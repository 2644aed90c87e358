//! One accepted connection: allow-list, environment, routing, the handler,
//! and a clean close.
//!
//! Two steps, so that the session task stays small: `open` reads the
//! environment, `run` moves the channel once, into the handler's box, and
//! holds only that box while the handler runs. (Each move of a future
//! copies it whole; a task of a few hundred bytes instead of nearly two
//! kilobytes is measurably cheaper to spawn, poll and free.)

use std::net::SocketAddr;
use std::task::Poll;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

use super::config::ServerConfig;
use super::router::{Router, Session, split_script};
use crate::aio::Channel;
use crate::error::Error;

/// Checks the allow-list and reads the environment block; `None` when the
/// connection is refused or ends first (logged here).
///
/// No deadline of its own: the server's ticker keeps `env_timeout` for all
/// sessions (see `sessions`).
pub(crate) async fn open(
    stream: TcpStream,
    peer: SocketAddr,
    config: &ServerConfig,
) -> Option<Channel<TcpStream>> {
    if let Some(allow) = &config.allow {
        if !allow.contains(&peer.ip()) {
            tracing::warn!(%peer, "connection refused: peer not on the allow-list");
            return None;
        }
    }
    let read = match stream.set_nodelay(true) {
        Ok(()) => Channel::read_env(stream, config.session).await,
        Err(e) => Err(Error::Io(e)),
    };
    match read {
        Ok(chan) => Some(chan),
        Err(Error::Closed) => {
            tracing::debug!(%peer, "connection closed before sending anything");
            None
        }
        Err(e) => {
            tracing::warn!(%peer, error = %e, "no usable environment block; closing");
            None
        }
    }
}

/// Routes the session and runs its handler, inside the session's span.
pub(crate) async fn run(
    chan: Channel<TcpStream>,
    peer: SocketAddr,
    config: &ServerConfig,
    router: &Router,
) {
    let (span, handler) = {
        let env = chan.env();
        let script = env.network_script().unwrap_or_default();
        // Fields are formatted only when a subscriber records them.
        let uniqueid = env.uniqueid().unwrap_or_default();
        let span = tracing::info_span!("agi", %peer, %uniqueid, %script);
        (span, router.find_bytes(split_script(&script).0))
    };
    let Some(handler) = handler else {
        span.in_scope(|| {
            tracing::warn!("no handler for this script; closing (Asterisk sets AGISTATUS=FAILURE)");
        });
        // Rare: boxed so that its buffer and timer do not enlarge every
        // session's task.
        Box::pin(close(chan)).await;
        return;
    };
    span.in_scope(|| tracing::debug!("session starts"));
    let mut call = handler.call(Session { chan, peer });
    // Only a server that sets a session limit pays for its timer.
    let mut limit = config
        .session_timeout
        .map(|after| (after, Box::pin(tokio::time::sleep(after))));
    let result = std::future::poll_fn(|cx| {
        let _entered = span.enter();
        if let Poll::Ready(result) = call.as_mut().poll(cx) {
            return Poll::Ready(result);
        }
        if let Some((after, sleep)) = &mut limit {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Err(format!("session ran longer than {after:?}").into()));
            }
        }
        Poll::Pending
    })
    .await;
    span.in_scope(|| match result {
        Ok(()) => tracing::debug!("session ends"),
        Err(e) => tracing::warn!(error = %e, "handler failed; connection closed"),
    });
}

/// Half-closes, then reads briefly what Asterisk still sends (its final
/// `HANGUP`) so the socket closes with FIN rather than RST.
async fn close(mut chan: Channel<TcpStream>) {
    let _ = chan.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        let mut sink = [0u8; 256];
        let stream = chan.stream_mut();
        while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
