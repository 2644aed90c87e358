//! One accepted connection: allow-list, environment, routing, the handler,
//! and a clean close.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tracing::Instrument;

use super::config::ServerConfig;
use super::router::{Router, Session, split_script};
use super::sessions::EnvWait;
use crate::aio::Channel;
use crate::error::Error;

pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    config: &ServerConfig,
    router: &Router,
    env_wait: &EnvWait<'_>,
) {
    if let Some(allow) = &config.allow {
        if !allow.contains(&peer.ip()) {
            tracing::warn!(%peer, "connection refused: peer not on the allow-list");
            return;
        }
    }
    // The deadline is kept by the server's ticker (see `sessions`), not by
    // a timer per session.
    let options = crate::Options {
        env_timeout: None,
        ..config.session
    };
    let read = Channel::tcp(stream, options).await;
    env_wait.received();
    let chan = match read {
        Ok(chan) => chan,
        Err(Error::Closed) => {
            tracing::debug!(%peer, "connection closed before sending anything");
            return;
        }
        Err(e) => {
            tracing::warn!(%peer, error = %e, "no usable environment block; closing");
            return;
        }
    };
    let (span, handler) = {
        let env = chan.env();
        let script = env.network_script().unwrap_or_default();
        // Fields are formatted only when a subscriber records them.
        let uniqueid = env.uniqueid().unwrap_or_default();
        let span = tracing::info_span!("agi", %peer, %uniqueid, %script);
        (
            span,
            router.find(&String::from_utf8_lossy(split_script(&script).0)),
        )
    };
    async move {
        let Some(handler) = handler else {
            tracing::warn!("no handler for this script; closing (Asterisk sets AGISTATUS=FAILURE)");
            // Rare: boxed so that its buffer and timer do not enlarge
            // every session's task.
            Box::pin(close(chan)).await;
            return;
        };
        tracing::debug!("session starts");
        let call = handler.call(Session { chan, peer });
        let result = match config.session_timeout {
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .unwrap_or_else(|_| Err(format!("session ran longer than {limit:?}").into())),
            None => call.await,
        };
        match result {
            Ok(()) => tracing::debug!("session ends"),
            Err(e) => tracing::warn!(error = %e, "handler failed; connection closed"),
        }
    }
    .instrument(span)
    .await
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
