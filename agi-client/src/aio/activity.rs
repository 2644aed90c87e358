//! What a channel reports of its commands to whoever watches it (the
//! FastAGI server: its idle timeout, and its log at the session's end):
//! when one is in flight, how many have ended, and whether a command
//! failed because the caller hung up.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// What a channel tells its session's server: bit 0 is set while a
/// command is in flight, bit 1 once a command failed with `-1` on a channel
/// known to be hung up (its notice came before, with or just after the
/// reply; the bit stays set: on a dead channel every later `-1` is the
/// hangup's too), the other bits count the commands that ended. (One
/// writer: the channel.) It also carries the server's one setting for the
/// channel: how long to wait for that notice.
#[derive(Debug)]
pub(crate) struct Activity {
    state: AtomicU64,
    notice_wait: Duration,
}

impl Activity {
    const IN_FLIGHT: u64 = 1;
    const FAILED_BY_HANGUP: u64 = 2;
    const ENDED: u64 = 4;

    /// A record for a channel that waits up to `notice_wait` for the
    /// `HANGUP` notice after a `-1` (`ServerConfig::hangup_notice_wait`).
    pub(crate) fn new(notice_wait: Duration) -> Self {
        Activity {
            state: AtomicU64::new(0),
            notice_wait,
        }
    }

    /// How long the channel waits for the notice after a `-1`.
    pub(crate) fn notice_wait(&self) -> Duration {
        self.notice_wait
    }

    /// The state word, as above.
    pub(crate) fn state(&self) -> u64 {
        self.state.load(Relaxed)
    }

    /// `true` while a command is in flight.
    pub(crate) fn in_flight(state: u64) -> bool {
        state & Self::IN_FLIGHT != 0
    }

    /// `true` once a command failed because the caller hung up: its
    /// failure reply (`-1`) came with Asterisk's `HANGUP` notice.
    pub(crate) fn failed_by_hangup(&self) -> bool {
        self.state() & Self::FAILED_BY_HANGUP != 0
    }

    /// A command starts.
    fn begin(&self) {
        self.state
            .store(self.state.load(Relaxed) | Self::IN_FLIGHT, Relaxed);
    }

    /// The command ended: answered, failed, or its future dropped.
    fn end(&self) {
        let state = self.state.load(Relaxed) & !Self::IN_FLIGHT;
        self.state.store(state.wrapping_add(Self::ENDED), Relaxed);
    }

    /// A command failed because the caller hung up.
    pub(crate) fn note_failed_by_hangup(&self) {
        self.state
            .store(self.state.load(Relaxed) | Self::FAILED_BY_HANGUP, Relaxed);
    }
}

/// Marks a command in flight, holding the channel's record meanwhile (moved
/// out and back rather than cloned: no reference-count traffic per
/// command). A command future dropped midway drops this too: the command
/// ends, and the channel, poisoned, reports no more. (The wait for a hangup
/// notice after a `-1` holds a clone instead: dropped then, the channel
/// stays usable and keeps reporting.)
pub(crate) struct InFlight(Option<Arc<Activity>>);

impl InFlight {
    pub(crate) fn start(activity: Arc<Activity>) -> Self {
        activity.begin();
        InFlight(Some(activity))
    }

    /// The command ended; the record goes back to the channel.
    pub(crate) fn finish(mut self) -> Option<Arc<Activity>> {
        let activity = self.0.take();
        if let Some(a) = &activity {
            a.end();
        }
        activity
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Some(a) = &self.0 {
            a.end();
        }
    }
}
