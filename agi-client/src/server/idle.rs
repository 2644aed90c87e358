//! The idle timeout between commands: how long a handler may hold a call
//! without a command in flight (a stuck database call, a forgotten
//! `await`) before the server closes the session and Asterisk gets its
//! channel back.
//!
//! The channel counts commands in one atomic word; the session's task
//! reads it after each poll of the handler and keeps a timer only while
//! the handler waits with no command in flight, looking at the count again
//! when it fires. No clock read and no timer work per command, and none at
//! all for a handler that always waits on a command: a handler that went
//! idle is caught one or two periods after its last command.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::time::Sleep;

use crate::aio::activity::Activity;
use crate::aio::deadline;

/// One session's idle watch: the activity the channel reports to, what it
/// looked like when the timer was made or last fired, and the timer.
pub(crate) struct IdleWatch {
    limit: Duration,
    activity: Arc<Activity>,
    seen: u64,
    /// Made only while the handler waits with no command in flight, and
    /// boxed then: most sessions never need it, and every byte of the
    /// session's task is copied when it is spawned.
    timer: Option<Pin<Box<Sleep>>>,
    /// The timer has the task's waker and has not fired: until it does,
    /// `Sleep::is_elapsed` (one load) answers instead of a poll (a waker
    /// comparison and the budget bookkeeping, on every wake-up of the task).
    armed: bool,
}

impl IdleWatch {
    /// A watch for `limit` (at least 1 ms: a zero period would re-arm a
    /// timer that fires at once) over the channel's activity record.
    pub(crate) fn new(limit: Duration, activity: Arc<Activity>) -> Self {
        IdleWatch {
            limit: limit.max(Duration::from_millis(1)),
            activity,
            seen: 0,
            timer: None,
            armed: false,
        }
    }

    /// `Ready` once a whole period passed with no command in flight and
    /// none started.
    ///
    /// Called after each poll of the handler. The timer is made only when the
    /// handler waits with no command in flight: a session whose handler
    /// always waits on a command (most do) never reads the clock nor
    /// touches the timer wheel. A command ends inside a poll of the handler
    /// (its reply wakes the task), so this call sees it: a timer that fires
    /// while a command is in flight is dropped, and made again after the
    /// command if the handler then waits; one that finds commands done
    /// since it was set moves a period on. (Commands sent from another task
    /// are not seen: see `ServerConfig::idle_timeout`.)
    #[inline]
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<Duration> {
        // The usual wake-up: a command in flight and no timer to look at.
        if self.timer.is_none() && Activity::in_flight(self.activity.state()) {
            return Poll::Pending;
        }
        self.poll_timer(cx)
    }

    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Duration> {
        loop {
            let Some(sleep) = &mut self.timer else {
                let state = self.activity.state();
                if Activity::in_flight(state) {
                    return Poll::Pending;
                }
                self.seen = state;
                self.armed = false;
                self.timer = Some(Box::pin(tokio::time::sleep(self.limit)));
                continue;
            };
            if self.armed && !sleep.is_elapsed() {
                return Poll::Pending;
            }
            if deadline::poll_expired(sleep.as_mut(), cx).is_pending() {
                self.armed = true;
                return Poll::Pending;
            }
            self.armed = false;
            let state = self.activity.state();
            if state == self.seen && !Activity::in_flight(state) {
                return Poll::Ready(self.limit);
            }
            if Activity::in_flight(state) {
                // Its end comes within a poll of the handler, and the next
                // call makes a timer if the handler then waits.
                self.timer = None;
                return Poll::Pending;
            }
            self.seen = state;
            sleep.as_mut().reset(deadline::from_now(self.limit));
        }
    }
}
