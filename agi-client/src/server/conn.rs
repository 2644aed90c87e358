//! One accepted connection: allow-list, environment, routing, the handler,
//! and a clean close.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tracing::Instrument;

use super::config::ServerConfig;
use super::router::{Query, Router, Session, split_script};
use crate::aio::Channel;
use crate::error::Error;

/// How a session ended, for the server's counters and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The handler returned `Ok`.
    Served,
    /// The peer is not on the allow-list.
    Refused,
    /// Connected and closed without sending anything (a health check).
    Empty,
    /// No environment in time, or not an environment.
    BadStart,
    /// No route for the script.
    Unrouted,
    /// The handler returned an error or ran out of time.
    Failed,
}

pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    router: Arc<Router>,
) -> Outcome {
    if let Some(allow) = &config.allow {
        if !allow.contains(&peer.ip()) {
            tracing::warn!(%peer, "connection refused: peer not on the allow-list");
            return Outcome::Refused;
        }
    }
    let mut chan = match Channel::tcp(stream, config.session).await {
        Ok(chan) => chan,
        Err(Error::Closed) => {
            tracing::debug!(%peer, "connection closed before sending anything");
            return Outcome::Empty;
        }
        Err(e) => {
            tracing::warn!(%peer, error = %e, "no usable environment block; closing");
            return Outcome::BadStart;
        }
    };
    let script = chan
        .env()
        .network_script()
        .map(|s| s.to_string())
        .unwrap_or_default();
    // Fields are formatted only when a subscriber records them.
    let uniqueid = chan.env().uniqueid().unwrap_or_default();
    let span = tracing::info_span!("agi", %peer, %uniqueid, script = %script);
    async move {
        let (path, query) = split_script(&script);
        let Some(handler) = router.find(path) else {
            tracing::warn!("no handler for this script; closing (Asterisk sets AGISTATUS=FAILURE)");
            close(&mut chan).await;
            return Outcome::Unrouted;
        };
        tracing::debug!("session starts");
        let session = Session {
            chan,
            script: path.to_owned(),
            query: Query::parse(query),
            peer,
        };
        let call = handler.call(session);
        let result = match config.session_timeout {
            Some(limit) => tokio::time::timeout(limit, call)
                .await
                .unwrap_or_else(|_| Err(format!("session ran longer than {limit:?}").into())),
            None => call.await,
        };
        match result {
            Ok(()) => {
                tracing::debug!("session ends");
                Outcome::Served
            }
            Err(e) => {
                tracing::warn!(error = %e, "handler failed; connection closed");
                Outcome::Failed
            }
        }
    }
    .instrument(span)
    .await
}

/// Half-closes, then reads briefly what Asterisk still sends (its final
/// `HANGUP`) so the socket closes with FIN rather than RST.
async fn close<R: AsyncReadExt + Unpin, W: tokio::io::AsyncWrite + Unpin>(
    chan: &mut Channel<R, W>,
) {
    let _ = chan.shutdown().await;
    let _ = tokio::time::timeout(Duration::from_millis(500), async {
        let mut sink = [0u8; 256];
        let (reader, _) = chan.parts_mut();
        while matches!(reader.read(&mut sink).await, Ok(n) if n > 0) {}
    })
    .await;
}
