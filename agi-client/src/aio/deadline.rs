//! Deadlines polled outside tokio's task budget.
//!
//! A task that spends its budget on ready I/O (a peer flooding the
//! channel, a busy handler) would otherwise see every timer as pending
//! until the budget comes back, which under a flood is never: tokio's own
//! `Timeout` polls its delay the same way.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::time::Sleep;

/// `Ready` once `timer` has fired, whatever budget the task has left.
pub(crate) fn poll_expired(timer: Pin<&mut Sleep>, cx: &mut Context<'_>) -> Poll<()> {
    let mut timer = tokio::task::unconstrained(timer);
    Pin::new(&mut timer).poll(cx)
}
