//! Sessions in flight: counted against `max_sessions`, drained and cut at
//! shutdown.
//!
//! One atomic word of counts, a `Notify` and a list of wakers shared by
//! every session task. A `JoinSet` would do the same with an allocation per
//! session and three lock round trips (insert, completion, reap); here a
//! session costs an atomic add and subtract for its slot and, once it waits
//! for something, two short lock round trips to put its waker in the cut's
//! list and take it out.
//!
//! The environment deadline is a tokio timer, armed by `conn::open` only
//! when the block is not already in the socket. A server-wide ticker for
//! environment deadlines, waking sessions through the cut, was tried: it
//! saved no measurable CPU, and a wake-up that landed between a session's
//! checks was lost.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::SeqCst};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
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
    /// Sessions in flight, and those ended by the cut: see [`Counts`].
    counts: AtomicU64,
    /// Set once shutdown starts: ending sessions then wake the drain.
    draining: AtomicBool,
    /// A session ended (only signalled when someone may be waiting).
    ended: Notify,
    /// The grace period is over: every session stops.
    cut: Cut,
    pub(crate) nodelay: NodelayInherited,
    pub(crate) warnings: Warnings,
}

impl Shared {
    pub(crate) fn new(config: ServerConfig, router: Router) -> Self {
        Shared {
            config,
            router,
            counts: AtomicU64::new(0),
            draining: AtomicBool::new(false),
            ended: Notify::new(),
            cut: Cut::default(),
            nodelay: NodelayInherited::default(),
            warnings: Warnings::new(),
        }
    }

    pub(crate) fn active(&self) -> usize {
        Counts(self.counts.load(SeqCst)).active()
    }

    /// Counts a new session if there is room for one; the slot is given
    /// back when the returned [`Admitted`] is dropped, whether its session
    /// ran to its end, was cut, panicked, or never ran at all.
    pub(crate) fn try_admit(self: &Arc<Self>) -> Option<Admitted> {
        // Only the accept loop admits, so a load then an add cannot overshoot.
        if self.active() >= self.config.max_sessions {
            return None;
        }
        self.counts.fetch_add(Counts::ONE_ACTIVE, SeqCst);
        Some(Admitted {
            shared: Arc::clone(self),
            cut: false,
        })
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
            if done(self.active()) {
                return;
            }
            ended.await;
        }
    }

    /// Stops admitting and waits up to `grace` for the sessions in flight;
    /// returns how many finished and how many were cut.
    pub(crate) async fn drain(&self, grace: Duration) -> (usize, usize) {
        self.draining.store(true, SeqCst);
        let in_flight = self.active();
        tracing::info!(in_flight, "shutting down: no new sessions");
        if tokio::time::timeout(grace, self.wait_until(|active| active == 0))
            .await
            .is_err()
        {
            self.cut.fire();
            // Cut sessions stop at their next poll; a handler that blocks its
            // thread must not hang the shutdown.
            let _ = tokio::time::timeout(
                Duration::from_secs(1),
                self.wait_until(|active| active == 0),
            )
            .await;
        }
        Counts(self.counts.load(SeqCst)).report(in_flight)
    }
}

/// The sessions in flight (low 32 bits) and those the cut ended (high 32
/// bits), in one word: a cut session leaves the first and joins the second
/// in one atomic add, so that the shutdown report, reading the word once,
/// counts it exactly once. (`Server::bind` keeps `max_sessions` under
/// 2^32.)
#[derive(Debug, Clone, Copy)]
struct Counts(u64);

impl Counts {
    const ONE_ACTIVE: u64 = 1;
    /// Added when a cut session ends: one more cut, one fewer in flight
    /// (never zero then, so no borrow crosses into the cut count).
    const CUT_LEAVES: u64 = (1 << 32) - 1;

    fn active(self) -> usize {
        (self.0 & 0xffff_ffff) as usize
    }

    fn cut(self) -> usize {
        (self.0 >> 32) as usize
    }

    /// Of the `in_flight` sessions the drain started with, how many
    /// finished and how many were cut. Sessions still running now did not
    /// stop when cut (a handler blocking its thread, or slow to drop): they
    /// are counted as cut, not as finished. A cut session moves from one
    /// count to the other in one step as it gives its slot back: read at
    /// once, the two counts hold it exactly once.
    fn report(self, in_flight: usize) -> (usize, usize) {
        let cut = (self.cut() + self.active()).min(in_flight);
        (in_flight - cut, cut)
    }
}

/// One admitted session's slot and its share of the server.
#[derive(Debug)]
pub(crate) struct Admitted {
    shared: Arc<Shared>,
    /// The cut ended it: counted as cut when the slot is given back.
    cut: bool,
}

impl Admitted {
    /// Runs the session to its end, or until the cut.
    ///
    /// An `async` block rather than an `async fn`: the latter keeps each
    /// argument twice in the task (as passed, and as moved into its body).
    #[allow(clippy::manual_async_fn)] // on purpose: see above
    pub(crate) fn run(mut self, stream: TcpStream, peer: SocketAddr) -> impl Future<Output = ()> {
        async move {
            let shared = &*self.shared;
            let mut watch = shared.cut.watch();
            let serve = async {
                // `let else`, not `if let`: the opened channel is not kept
                // in the task beside the handler's copy.
                let Some(chan) = conn::open(stream, peer, shared).await else {
                    return;
                };
                conn::run(chan, peer, shared).await;
            };
            // Dropped inside the poll when cut, so that a panic in the
            // handler's `Drop` is logged as one in its poll would be.
            let mut serve = pin!(Some(serve));
            std::future::poll_fn(|cx| {
                let _log = PanicLog;
                // Checked first: a cut session stops at its next poll, and
                // one first polled after the cut never starts.
                if !watch.cut.fired.load(SeqCst) {
                    if let Some(running) = serve.as_mut().as_pin_mut() {
                        if running.poll(cx).is_ready() {
                            return Poll::Ready(());
                        }
                    }
                    // Listed for the cut once it waits: a session over in
                    // its first poll (refused, junk, a handler with nothing
                    // to do) never takes the lock.
                    if watch.listen(cx) {
                        return Poll::Pending;
                    }
                }
                // Marked before the drop, which may panic.
                self.cut = true;
                serve.set(None);
                Poll::Ready(())
            })
            .await;
            if self.cut {
                tracing::debug!(%peer, "session cut at the end of the shutdown grace period");
            }
        }
    }
}

/// The end of the grace period, and the wakers of the sessions it stops.
///
/// A session puts its task's waker in a free slot when it first waits and
/// takes it out at its end: the same two lock round trips as a `Notify`
/// waiter, whose code ran 21 distinct 64-byte lines per router session
/// against about 8 here (callgrind per function, 2026-12-07).
#[derive(Debug, Default)]
struct Cut {
    /// Set before the wakers are woken; sessions check it at each poll.
    fired: AtomicBool,
    slots: Mutex<Slots>,
}

/// A waker per session in flight; `None` marks a free slot.
#[derive(Debug, Default)]
struct Slots {
    wakers: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Cut {
    /// Stops every session: each sees `fired` at its next poll.
    fn fire(&self) {
        self.fired.store(true, SeqCst);
        // Woken after the lock is released: a session woken on another
        // worker thread takes it at once, to leave the list.
        let wakers: Vec<Waker> = {
            let slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.wakers.iter().flatten().cloned().collect()
        };
        for waker in wakers {
            waker.wake();
        }
    }

    /// Keeps `waker` to wake at the cut, in the slot returned; `None` when
    /// the cut came first. (Under the lock, so that a cut either sees the
    /// waker or is seen here.)
    fn insert(&self, waker: &Waker) -> Option<usize> {
        let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
        if self.fired.load(SeqCst) {
            return None;
        }
        let waker = Some(waker.clone());
        Some(match slots.free.pop() {
            Some(slot) => {
                slots.wakers[slot] = waker;
                slot
            }
            None => {
                slots.wakers.push(waker);
                slots.wakers.len() - 1
            }
        })
    }

    /// A session's place in the list, taken when it first waits.
    fn watch(&self) -> CutWatch<'_> {
        CutWatch {
            cut: self,
            slot: None,
        }
    }

    fn remove(&self, slot: usize) {
        let waker = {
            let mut slots = self.slots.lock().unwrap_or_else(PoisonError::into_inner);
            slots.free.push(slot);
            slots.wakers[slot].take()
        };
        // Dropped outside the lock.
        drop(waker);
    }
}

/// One session's place in the cut's list, given back when the session ends
/// however it ends (its future is dropped after a panic too).
struct CutWatch<'a> {
    cut: &'a Cut,
    slot: Option<usize>,
}

impl CutWatch<'_> {
    /// Puts the task's waker in the cut's list, the first time (a tokio
    /// task's waker does not change); `false` when the cut came first.
    fn listen(&mut self, cx: &Context<'_>) -> bool {
        if self.slot.is_none() {
            self.slot = self.cut.insert(cx.waker());
        }
        self.slot.is_some()
    }
}

impl Drop for CutWatch<'_> {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            self.cut.remove(slot);
        }
    }
}

/// Gives the slot back however the session ends (tokio drops the future of
/// a task that panicked, and of one that never ran when the runtime stops).
impl Drop for Admitted {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let before = if self.cut {
            // One fewer in flight, one more cut: one step (see `Counts`).
            shared.counts.fetch_add(Counts::CUT_LEAVES, SeqCst)
        } else {
            shared.counts.fetch_sub(Counts::ONE_ACTIVE, SeqCst)
        };
        if Counts(before).active() == shared.config.max_sessions || shared.draining.load(SeqCst) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// A waker that counts its wake-ups.
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        (Arc::clone(&count), Waker::from(count))
    }

    /// Sessions admitted and dropped through a real `Shared`: the cut ones
    /// leave the count in flight and join the cut count, the others only
    /// leave; the report splits the drain's sessions accordingly.
    #[test]
    fn cut_sessions_are_counted_once() {
        let shared = Arc::new(Shared::new(ServerConfig::default(), Router::new()));
        let counts = || Counts(shared.counts.load(SeqCst));
        let mut slots: Vec<Admitted> = (0..4).map(|_| shared.try_admit().unwrap()).collect();
        assert_eq!((counts().active(), counts().cut()), (4, 0));
        // One finishes, two are cut; one still runs (it ignored the cut).
        drop(slots.pop());
        for mut cut in slots.drain(1..) {
            cut.cut = true;
            drop(cut);
        }
        assert_eq!((counts().active(), counts().cut()), (1, 2));
        assert_eq!(counts().report(4), (1, 3));
        drop(slots);
        assert_eq!(counts().report(4), (2, 2));
        // The last one in flight, cut, and the top of the low half: no
        // borrow reaches the cut count.
        let full = Counts(u64::from(u32::MAX) + Counts::CUT_LEAVES);
        assert_eq!((full.active(), full.cut()), (u32::MAX as usize - 1, 1));
        let last = Counts(1 + Counts::CUT_LEAVES);
        assert_eq!((last.active(), last.cut()), (0, 1));
    }

    #[test]
    fn the_cut_wakes_every_session_in_the_list_and_only_those() {
        let cut = Cut::default();
        let (first, first_waker) = counting();
        let (second, second_waker) = counting();
        let (gone, gone_waker) = counting();
        let a = cut.insert(&first_waker).unwrap();
        let b = cut.insert(&gone_waker).unwrap();
        cut.remove(b);
        // The freed slot is taken again: the list grows with the sessions
        // in flight, not with every session ever served.
        assert_eq!(cut.insert(&second_waker), Some(b));
        assert_ne!(a, b);
        assert_eq!(cut.slots.lock().unwrap().wakers.len(), 2);
        assert!(!cut.fired.load(SeqCst));

        cut.fire();
        assert_eq!(first.0.load(SeqCst), 1);
        assert_eq!(second.0.load(SeqCst), 1);
        assert_eq!(gone.0.load(SeqCst), 0, "a session that ended is not woken");
        // A session that reaches the list after the cut is told at once.
        assert_eq!(cut.insert(&first_waker), None);
    }

    #[test]
    fn a_watch_registers_once_and_leaves_the_list_when_dropped() {
        let cut = Cut::default();
        let (count, waker) = counting();
        let cx = Context::from_waker(&waker);
        let mut watch = cut.watch();
        assert!(watch.listen(&cx));
        assert!(watch.listen(&cx));
        assert_eq!(cut.slots.lock().unwrap().wakers.len(), 1);
        cut.fire();
        assert_eq!(count.0.load(SeqCst), 1);
        drop(watch);
        let slots = cut.slots.lock().unwrap();
        assert!(slots.wakers[0].is_none());
        assert_eq!(slots.free, [0]);
    }

    #[test]
    fn a_watch_that_first_listens_after_the_cut_is_told_and_takes_no_slot() {
        let cut = Cut::default();
        cut.fire();
        let (_, waker) = counting();
        let mut watch = cut.watch();
        assert!(!watch.listen(&Context::from_waker(&waker)));
        assert!(cut.slots.lock().unwrap().wakers.is_empty());
    }

    /// Sessions on several worker threads, some listed before the cut and
    /// some arriving while it fires: every one ends, none is missed.
    #[test]
    fn the_cut_reaches_sessions_on_every_worker_thread() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(4)
            .enable_time()
            .build()
            .unwrap();
        for round in 0..20 {
            let cut = Arc::new(Cut::default());
            let sessions: Vec<_> = (0..64)
                .map(|_| {
                    let cut = Arc::clone(&cut);
                    runtime.spawn(async move {
                        let mut watch = cut.watch();
                        std::future::poll_fn(|cx| {
                            if watch.cut.fired.load(SeqCst) || !watch.listen(cx) {
                                Poll::Ready(())
                            } else {
                                Poll::Pending
                            }
                        })
                        .await;
                    })
                })
                .collect();
            // Odd rounds fire while the sessions are still starting, even
            // ones once they have had time to wait.
            if round % 2 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
            cut.fire();
            runtime.block_on(async {
                for session in sessions {
                    tokio::time::timeout(Duration::from_secs(5), session)
                        .await
                        .expect("a session the cut did not reach")
                        .unwrap();
                }
            });
            let slots = cut.slots.lock().unwrap();
            assert!(
                slots.wakers.iter().all(Option::is_none),
                "a slot not given back"
            );
        }
    }
}
