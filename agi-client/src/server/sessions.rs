//! Sessions in flight: counted against `max_sessions`, given a deadline for
//! their environment block, drained and cut at shutdown.
//!
//! One atomic counter and two `Notify`s shared by every session task. A
//! `JoinSet` would do the same with an allocation per session and three
//! lock round trips (insert, completion, reap); here a session costs an
//! atomic add and subtract for its slot, and two round trips of the cut
//! `Notify`'s lock (its waiter joins the list once and leaves it at the end).
//!
//! The environment deadline rides on the same `Notify` instead of a timer
//! per session (a tokio timer costs a clock read and two more lock round
//! trips on the timer wheel per session). Every session has the same
//! timeout, so deadlines come in arrival order: a server ticker counts
//! ticks of a quarter of the timeout, and each tick slot counts the sessions
//! that started in it and are still reading. Only when a slot at least five
//! ticks old is not empty does the ticker wake the sessions; each woken
//! session checks its own start tick. A silent or dribbling peer is thus
//! dropped between 1 and 1.25 times `env_timeout` after it connected.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst};
use std::task::Poll;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::Notify;

use super::config::ServerConfig;
use super::conn;
use super::router::Router;

/// What every session task of one server shares (one `Arc` clone each).
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) config: ServerConfig,
    pub(crate) router: Router,
    active: AtomicUsize,
    /// Set once shutdown starts: ending sessions then wake the drain.
    draining: AtomicBool,
    /// Set at the end of the grace period, before `wake` fires.
    cutting: AtomicBool,
    /// Sessions ended by the cut.
    cut_count: AtomicUsize,
    /// A session ended (only signalled when someone may be waiting).
    ended: Notify,
    /// Wakes every session: the grace period is over (`cutting` is set and
    /// every session stops), or some session's environment deadline passed
    /// (`env_alarms` changed; each checks its own).
    wake: Notify,
    /// Environment-deadline ticks since the server started.
    env_tick: AtomicUsize,
    /// Times the ticker fired `wake` for overdue environments.
    env_alarms: AtomicUsize,
    /// Sessions still reading their environment, by start tick (modulo).
    env_waiting: [AtomicUsize; ENV_SLOTS],
}

/// Ticks per `env_timeout`.
const ENV_TICKS: usize = 4;
/// Start-tick slots: a deadline spans `ENV_TICKS + 1` of them; the rest
/// leave room for the ticker to find sessions woken late.
const ENV_SLOTS: usize = 8;

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
            wake: Notify::new(),
            env_tick: AtomicUsize::new(0),
            env_alarms: AtomicUsize::new(0),
            env_waiting: Default::default(),
        }
    }

    /// Ticks the environment deadlines every `timeout / 4` and wakes the
    /// sessions when some started `timeout` ago or more and still read.
    /// Runs until aborted.
    pub(crate) async fn env_ticker(self: Arc<Self>, timeout: Duration) {
        let period = (timeout / ENV_TICKS as u32).max(Duration::from_millis(1));
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            let now = self.env_tick.fetch_add(1, SeqCst) + 1;
            let overdue = (ENV_TICKS + 1..ENV_SLOTS).any(|age| {
                now >= age && self.env_waiting[(now - age) % ENV_SLOTS].load(SeqCst) > 0
            });
            if overdue {
                self.env_alarms.fetch_add(1, SeqCst);
                self.wake.notify_waiters();
            }
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
            self.wake.notify_waiters();
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
    /// Runs the session to its end, until its environment deadline, or
    /// until the cut.
    pub(crate) async fn run(self, stream: TcpStream, peer: SocketAddr) {
        let shared = &*self.0;
        let env = EnvWait::new(shared);
        // In this order: an alarm or a cut after these lines wakes `wake`.
        let mut alarms = shared.env_alarms.load(SeqCst);
        let wake = shared.wake.notified();
        if shared.cutting.load(SeqCst) {
            shared.cut_count.fetch_add(1, SeqCst);
            return;
        }
        let serve = async {
            let chan = conn::open(stream, peer, &shared.config).await;
            env.received();
            if let Some(chan) = chan {
                conn::run(chan, peer, &shared.config, &shared.router).await;
            }
        };
        tokio::pin!(serve, wake);
        let mut registered = false;
        let end = std::future::poll_fn(|cx| {
            let _log = PanicLog;
            if serve.as_mut().poll(cx).is_ready() {
                return Poll::Ready(End::Served);
            }
            // Registered once (the task's waker does not change); after
            // that only a cut or an alarm can make it ready.
            loop {
                if registered && !shared.cutting.load(SeqCst) {
                    let now = shared.env_alarms.load(SeqCst);
                    if now == alarms {
                        return Poll::Pending;
                    }
                    alarms = now;
                }
                registered = true;
                let woken = wake.as_mut().poll(cx).is_ready();
                // Checked after the poll: a cut that came before a fresh
                // `wake` was made is seen here.
                if shared.cutting.load(SeqCst) {
                    return Poll::Ready(End::Cut);
                }
                if !woken {
                    return Poll::Pending;
                }
                if env.overdue() {
                    return Poll::Ready(End::EnvTimeout);
                }
                // Another session's alarm: wait again.
                wake.set(shared.wake.notified());
                registered = false;
            }
        })
        .await;
        match end {
            End::Served => {}
            End::Cut => {
                shared.cut_count.fetch_add(1, SeqCst);
                tracing::debug!(%peer, "session cut at the end of the shutdown grace period");
            }
            End::EnvTimeout => {
                let after = shared.config.session.env_timeout.unwrap_or_default();
                tracing::warn!(%peer, ?after, "no complete environment block in time; closing");
            }
        }
    }
}

/// How a session task ended.
enum End {
    Served,
    Cut,
    EnvTimeout,
}

/// A session still reading its environment block, counted in the slot of
/// the tick it started in until [`EnvWait::received`] or its drop.
pub(crate) struct EnvWait<'a> {
    shared: &'a Shared,
    start: usize,
    waiting: AtomicBool,
}

impl<'a> EnvWait<'a> {
    fn new(shared: &'a Shared) -> Self {
        let start = shared.env_tick.load(SeqCst);
        shared.env_waiting[start % ENV_SLOTS].fetch_add(1, SeqCst);
        EnvWait {
            shared,
            start,
            waiting: AtomicBool::new(true),
        }
    }

    /// The environment block arrived (or the connection ended): the
    /// deadline no longer applies.
    pub(crate) fn received(&self) {
        if self.waiting.swap(false, Relaxed) {
            self.shared.env_waiting[self.start % ENV_SLOTS].fetch_sub(1, SeqCst);
        }
    }

    /// Still reading, and `env_timeout` has passed (at least `ENV_TICKS + 1`
    /// tick boundaries since the start: between 1 and 1.25 timeouts).
    fn overdue(&self) -> bool {
        self.shared.config.session.env_timeout.is_some()
            && self.waiting.load(Relaxed)
            && self.shared.env_tick.load(SeqCst) > self.start + ENV_TICKS
    }
}

impl Drop for EnvWait<'_> {
    fn drop(&mut self) {
        self.received();
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

/// Logs a panic while it unwinds through the session's poll (tokio then
/// catches it and the server goes on).
struct PanicLog;

impl Drop for PanicLog {
    fn drop(&mut self) {
        if std::thread::panicking() {
            tracing::error!("a session handler panicked; its connection was closed");
        }
    }
}
