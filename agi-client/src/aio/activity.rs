//! What a channel reports of its commands to whoever watches it (the
//! FastAGI server's idle timeout): when one is in flight, and how many
//! have ended.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// What a channel tells its session's idle timer: bit 0 is set while a
/// command is in flight, the other bits count the commands that ended.
#[derive(Debug, Default)]
pub(crate) struct Activity {
    state: AtomicU64,
}

impl Activity {
    /// The state word, as above.
    pub(crate) fn state(&self) -> u64 {
        self.state.load(Relaxed)
    }

    /// A command starts. (One writer: the channel.)
    fn begin(&self) {
        self.state.store(self.state.load(Relaxed) | 1, Relaxed);
    }

    /// The command ended: answered, failed, or its future dropped.
    fn end(&self) {
        let ended = (self.state.load(Relaxed) >> 1).wrapping_add(1);
        self.state.store(ended << 1, Relaxed);
    }
}

/// Marks a command in flight, holding the channel's record meanwhile (moved
/// out and back rather than cloned: no reference-count traffic per
/// command). A command future dropped midway drops this too: the command
/// ends, and the channel, poisoned, reports no more.
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
