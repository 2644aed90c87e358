//! Connections beyond `max_sessions` under [`Overflow::WaitAtMost`]: held
//! unread, oldest first, until a session ends or their wait is over.
//!
//! The listen backlog cannot bound a wait (the kernel does not say how long
//! a connection has queued), so the server accepts such connections and
//! keeps their accept time. Only a full server reaches this code: the usual
//! accept path does not change.
//!
//! [`Overflow::WaitAtMost`]: super::Overflow::WaitAtMost

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

use super::conn;
use super::sessions::Shared;

/// The held connections, oldest first.
#[derive(Debug)]
pub(crate) struct Held {
    queue: VecDeque<Waiting>,
    /// The most held at once (the listen backlog's size): past it, new
    /// connections wait in the kernel's queue instead.
    most: usize,
    /// No accept before this, after accept failures (out of descriptors).
    accept_from: Option<Instant>,
}

#[derive(Debug)]
struct Waiting {
    stream: TcpStream,
    peer: SocketAddr,
    since: Instant,
}

/// What [`Held::serve`] ended with.
pub(crate) enum Waited {
    /// The shutdown future completed.
    Shutdown,
    /// Something changed (a slot freed, a wait ended): look again.
    Again,
    /// A new connection, to hold (the server is full).
    Accepted(io::Result<(TcpStream, SocketAddr)>),
}

impl Held {
    pub(crate) fn new(backlog: u32) -> Self {
        Held {
            queue: VecDeque::new(),
            most: (backlog as usize).max(1),
            accept_from: None,
        }
    }

    /// Accepts nothing for `pause` (after an accept failure), while held
    /// connections still start and time out.
    pub(crate) fn pause_accepts(&mut self, pause: Duration) {
        self.accept_from = Some(Instant::now() + pause);
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Starts held connections as slots allow, oldest first, and refuses
    /// those that waited `limit`; then, if the server is still full (or a
    /// connection still waits), waits for a free slot, the oldest's time,
    /// a new connection to hold, or the shutdown.
    pub(crate) async fn serve(
        &mut self,
        shared: &Arc<Shared>,
        limit: Duration,
        listener: &TcpListener,
        shutdown: Pin<&mut impl Future<Output = ()>>,
    ) -> Waited {
        let now = Instant::now();
        while let Some(oldest) = self.queue.front() {
            // A free slot first: one that frees as the wait ends serves.
            if let Some(session) = shared.try_admit() {
                if let Some(w) = self.queue.pop_front() {
                    tokio::spawn(session.run(w.stream, w.peer));
                }
                continue;
            }
            if now.saturating_duration_since(oldest.since) < limit {
                break;
            }
            if let Some(w) = self.queue.pop_front() {
                refuse(shared, w, "connection refused: no session free in time");
            }
        }
        if self.queue.is_empty() && shared.active() < shared.config.max_sessions {
            return Waited::Again;
        }
        // The oldest's wait ends then (never, for a limit too far to
        // represent: `Duration::MAX` as "no limit").
        let over = self.queue.front().and_then(|w| w.since.checked_add(limit));
        let paused = self.accept_from.filter(|&from| from > now);
        self.accept_from = paused;
        let more = self.queue.len() < self.most && paused.is_none();
        // Branches off by their condition still need a time.
        let far = now + Duration::from_secs(86_400);
        let (over_at, paused_until) = (over.unwrap_or(far), paused.unwrap_or(far));
        tokio::select! {
            biased;
            () = shutdown => Waited::Shutdown,
            () = shared.room() => Waited::Again,
            () = tokio::time::sleep_until(over_at), if over.is_some() => Waited::Again,
            () = tokio::time::sleep_until(paused_until), if paused.is_some() => Waited::Again,
            accepted = listener.accept(), if more => Waited::Accepted(accepted),
        }
    }

    /// Holds a new connection, unless the allow-list refuses its peer.
    pub(crate) fn push(&mut self, shared: &Shared, stream: TcpStream, peer: SocketAddr) {
        if conn::allowed(shared, peer) {
            self.queue.push_back(Waiting {
                stream,
                peer,
                since: Instant::now(),
            });
        }
    }

    /// At shutdown: every connection still held is told `failure`.
    pub(crate) fn refuse_all(&mut self, shared: &Shared) {
        if self.queue.is_empty() {
            return;
        }
        tracing::info!(
            waiting = self.queue.len(),
            "shutting down: connections waiting for a session told failure"
        );
        for w in self.queue.drain(..) {
            refuse(shared, w, "connection refused: shutting down");
        }
    }
}

/// Tells a held connection `failure` and closes it (see
/// [`conn::refuse_now`]); logged at most once a second.
fn refuse(shared: &Shared, w: Waiting, why: &'static str) {
    if let Some(suppressed) = shared.warnings.full.admit() {
        let waited = w.since.elapsed();
        tracing::warn!(peer = %w.peer, ?waited, suppressed, "{why}");
    }
    conn::refuse_now(&w.stream);
}
