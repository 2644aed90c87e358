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

pub(crate) async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    config: Arc<ServerConfig>,
    router: Arc<Router>,
) {
    if let Some(allow) = &config.allow {
        if !allow.contains(&peer.ip()) {
            tracing::warn!(%peer, "connection refused: peer not on the allow-list");
            return;
        }
    }
    let mut chan = match Channel::tcp(stream, config.session).await {
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
            return;
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
            Ok(()) => tracing::debug!("session ends"),
            Err(e) => tracing::warn!(error = %e, "handler failed; connection closed"),
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
