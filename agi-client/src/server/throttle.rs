//! Warnings that peers can trigger at will (connections refused, bytes that
//! are not an environment block, scripts with no handler) are logged at
//! most once a second each, with the count of those left out: a port scan
//! or an overload does not flood the log.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// One kind of warning's budget: one line a second.
#[derive(Debug)]
pub(crate) struct Throttle {
    start: Instant,
    /// Milliseconds since `start` before which lines are left out.
    next: AtomicU64,
    /// Lines left out since the last one logged.
    skipped: AtomicU64,
}

impl Throttle {
    pub(crate) fn new() -> Self {
        Throttle {
            start: Instant::now(),
            next: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
        }
    }

    /// `Some(lines left out since the last one)` when a line may be logged
    /// now; `None` (counted) otherwise.
    pub(crate) fn admit(&self) -> Option<u64> {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        let next = self.next.load(Relaxed);
        // Of several threads at the same moment, one wins the second.
        if now < next
            || self
                .next
                .compare_exchange(next, now.saturating_add(1000), Relaxed, Relaxed)
                .is_err()
        {
            self.skipped.fetch_add(1, Relaxed);
            return None;
        }
        Some(self.skipped.swap(0, Relaxed))
    }
}

/// The throttled warnings of one server.
#[derive(Debug)]
pub(crate) struct Warnings {
    /// A peer not on the allow-list.
    pub(crate) not_allowed: Throttle,
    /// A connection beyond `max_sessions` told `failure`: at once with
    /// `Overflow::Refuse`, after its wait with `Overflow::WaitAtMost`, or
    /// at shutdown.
    pub(crate) full: Throttle,
    /// No usable environment block (timeout, bad bytes, too long).
    pub(crate) bad_env: Throttle,
    /// A script no route serves (a peer's choice, or every call of a
    /// dialplan that names a script the server lacks).
    pub(crate) no_handler: Throttle,
    /// A handler ended by bytes that are not AGI where a reply was due: a
    /// peer's choice too.
    pub(crate) bad_reply: Throttle,
}

impl Warnings {
    pub(crate) fn new() -> Self {
        Warnings {
            not_allowed: Throttle::new(),
            full: Throttle::new(),
            bad_env: Throttle::new(),
            no_handler: Throttle::new(),
            bad_reply: Throttle::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_with_the_count_left_out() {
        let t = Throttle::new();
        assert_eq!(t.admit(), Some(0));
        for _ in 0..5 {
            assert_eq!(t.admit(), None);
        }
        // A second later: the next line carries the five left out.
        t.next.store(0, Relaxed);
        assert_eq!(t.admit(), Some(5));
        assert_eq!(t.admit(), None);
    }
}
