//! Sessions in flight: counted against `max_sessions`, drained and cut at
//! shutdown.
//!
//! One atomic counter and two `Notify`s shared by every session task. A
//! `JoinSet` would do the same with an allocation per session and three
//! lock round trips (insert, completion, reap); here a session costs an
//! atomic add and subtract for its slot, and two round trips of the cut
//! `Notify`'s lock (its waiter joins the list once and leaves it at the end).
//!
//! The environment deadline is a tokio timer, armed by `conn::open` only
//! when the block is not already in the socket. A shared
//! ticker that woke sessions through the cut `Notify` was tried: it saved no
//! measurable CPU, and a notification that lands between a session's checks
//! is lost for good (`notify_waiters` unlinks the waiter).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::Poll;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::config::ServerConfig;
use super::conn::{self, NodelayInherited};
use super::router::Router;
use super::throttle::Warnings;

/// What every session task of one server shares (one `Arc` clone each).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) router: Router,
    active: AtomicUsize,
    /// Set once shutdown starts: ending sessions then wake the drain.
    draining: AtomicBool,
    /// Set at the end of the grace period, before `cut` fires.
    cutting: AtomicBool,
    /// Sessions ended by the cut.
    cut_count: AtomicUsize,
    /// A session ended (only signalled when someone may be waiting).
    ended: Notify,
    /// The grace period is over: every session stops.
    cut: Notify,
    pub(crate) nodelay: NodelayInherited,
    pub(crate) warnings: Warnings,
}

impl Shared {
    pub(crate) fn new(config: ServerConfig, router: Router) -> Self {
        Shared {
            config,
            router,
            active: AtomicUsize::new(0),
            draining: AtomicBool::new(false),
            cutting: AtomicBool::new(false),
            cut_count: AtomicUsize::new(0),
            ended: Notify::new(),
            cut: Notify::new(),
            nodelay: NodelayInherited::default(),
            warnings: Warnings::new(),
        }
    }

    pub(crate) fn active(&self) -> usize {
        self.active.load(SeqCst)
    }

    /// Counts a new session if there is room for one; the slot is given
    /// back when the returned [`Admitted`] is dropped, whether its session
    /// ran to its end, was cut, panicked, or never ran at all.
    pub(crate) fn try_admit(self: &Arc<Self>) -> Option<Admitted> {
        // Only the accept loop admits, so a load then an add cannot overshoot.
        if self.active.load(SeqCst) >= self.config.max_sessions {
            return None;
        }
        self.active.fetch_add(1, SeqCst);
        Some(Admitted(Arc::clone(self)))
    }

    /// Waits until fewer than `max_sessions` sessions run.
    pub(crate) async fn room(&self) {
        self.wait_until(|active| active < self.config.max_sessions)
            .await;
    }

    /// Waits until `done(active)` holds; a session that ends at the limit or
    /// during the drain wakes the waiter, which checks again.
    async fn wait_until(&self, done: impl Fn(usize) -> bool) {
        loop {
            let ended = self.ended.notified();
            tokio::pin!(ended);
            ended.as_mut().enable();
            if done(self.active.load(SeqCst)) {
                return;
            }
            ended.await;
        }
    }

    /// Stops admitting and waits up to `grace` for the sessions in flight;
    /// returns how many finished and how many were cut.
    pub(crate) async fn drain(&self, grace: Duration) -> (usize, usize) {
        self.draining.store(true, SeqCst);
        let in_flight = self.active.load(SeqCst);
        tracing::info!(in_flight, "shutting down: no new sessions");
        if tokio::time::timeout(grace, self.wait_until(|active| active == 0))
            .await
            .is_err()
        {
            self.cutting.store(true, SeqCst);
            self.cut.notify_waiters();
            // Cut sessions stop at their next poll; a handler that blocks its
            // thread must not hang the shutdown.
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                self.wait_until(|active| active == 0),
            )
            .await;
        }
        // Sessions still running now did not stop when cut (a handler
        // blocking its thread): they are counted as cut, not as finished.
        let cut = (self.cut_count.load(SeqCst) + self.active.load(SeqCst)).min(in_flight);
        (in_flight - cut, cut)
    }
}

/// One admitted session's slot and its share of the server.
#[derive(Debug)]
pub(crate) struct Admitted(Arc<Shared>);

impl Admitted {
    /// Runs the session to its end, or until the cut.
    ///
    /// An `async` block rather than an `async fn`: the latter keeps each
    /// argument twice in the task (as passed, and as moved into its body).
    #[allow(clippy::manual_async_fn)] // on purpose: see above
    pub(crate) fn run(self, stream: TcpStream, peer: SocketAddr) -> impl Future<Output = ()> {
        async move {
            let shared = &*self.0;
            // Created before the check: a cut after this line wakes it.
            let cut = shared.cut.notified();
            if shared.cutting.load(SeqCst) {
                shared.cut_count.fetch_add(1, SeqCst);
                return;
            }
            let serve = async {
                // `let else`, not `if let`: the opened channel is not kept
                // in the task beside the handler's copy.
                let Some(chan) = conn::open(
                    stream,
                    peer,
                    &shared.config,
                    &shared.nodelay,
                    &shared.warnings,
                )
                .await
                else {
                    return;
                };
                conn::run(chan, peer, &shared.config, &shared.router).await;
            };
            tokio::pin!(serve, cut);
            let mut waiting_for_cut = false;
            let was_cut = std::future::poll_fn(|cx| {
                let _log = PanicLog;
                if serve.as_mut().poll(cx).is_ready() {
                    return Poll::Ready(false);
                }
                // Registered once (the task's waker does not change); after
                // that only a cut can make it ready, and `cutting` is set
                // first.
                if !waiting_for_cut || shared.cutting.load(SeqCst) {
                    waiting_for_cut = true;
                    return cut.as_mut().poll(cx).map(|()| true);
                }
                Poll::Pending
            })
            .await;
            if was_cut {
                shared.cut_count.fetch_add(1, SeqCst);
                tracing::debug!(%peer, "session cut at the end of the shutdown grace period");
            }
        }
    }
}

/// Gives the slot back however the session ends (tokio drops the future of
/// a task that panicked, and of one that never ran when the runtime stops).
impl Drop for Admitted {
    fn drop(&mut self) {
        let shared = &*self.0;
        let before = shared.active.fetch_sub(1, SeqCst);
        if before == shared.config.max_sessions || shared.draining.load(SeqCst) {
            shared.ended.notify_one();
        }
    }
}

/// Logs a panic outside the handler's poll (which `conn::run` catches and
/// logs in the session's span) while it unwinds through the session's
/// poll: a handler's `Drop` at a timeout or the cut, say. Tokio then
/// catches it and the server goes on.
struct PanicLog;

impl Drop for PanicLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!("a session panicked outside its handler; its connection was closed");
        }
    }
}
