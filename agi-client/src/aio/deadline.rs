//! Deadlines polled outside tokio's task budget.
//!
//! A task that spends its budget on ready I/O (a peer flooding the
//! channel, a busy handler) would otherwise see every timer as pending
//! until the budget comes back, which under a flood is never: tokio's own
//! `Timeout` polls its delay the same way.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use std::time::Duration;

use tokio::time::{Instant, Sleep};

/// `Ready` once `timer` has fired, whatever budget the task has left.
pub(crate) fn poll_expired(timer: Pin<&mut Sleep>, cx: &mut Context<'_>) -> Poll<()> {
    let mut timer = tokio::task::unconstrained(timer);
    Pin::new(&mut timer).poll(cx)
}

/// `after` from now; a limit too far to represent (`Duration::MAX`, as
/// "practically never") is 30 years away, as in `tokio::time::sleep`,
/// rather than an overflow panic.
pub(crate) fn from_now(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}
