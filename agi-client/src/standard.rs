//! What standard AGI asks of the process, whichever client runs it:
//! surviving the SIGHUP Asterisk sends on hangup (its default action kills
//! the program, perhaps mid-cleanup), and keeping our own copies of
//! Asterisk's pipes off fd 3, where EAGI's audio is looked for.

use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::error::Error;
use crate::options::Options;

/// Catches SIGHUP from now on: the flag turns true when one arrives.
#[cfg(feature = "sighup")]
fn catch_sighup() -> Result<Arc<AtomicBool>, Error> {
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&flag))?;
    Ok(flag)
}

#[cfg(not(feature = "sighup"))]
fn catch_sighup() -> Result<Arc<AtomicBool>, Error> {
    Err(Error::Io(io::Error::new(
        io::ErrorKind::Unsupported,
        "SIGHUP handling needs the `sighup` feature",
    )))
}

/// The SIGHUP flag `options` ask for (`handle_sighup`), caught from now on.
pub(crate) fn sighup_flag(options: &Options) -> Result<Option<Arc<AtomicBool>>, Error> {
    options.handle_sighup.then(catch_sighup).transpose()
}

/// A duplicate of `fd` numbered 4 or above. A plain `dup` or `open` takes
/// the lowest free number, which in plain AGI is 3: `Audio::open` would
/// then find Asterisk's command pipe there.
pub(crate) fn dup_above_fd3(fd: impl AsFd) -> io::Result<OwnedFd> {
    Ok(rustix::io::fcntl_dupfd_cloexec(fd, 4)?)
}

/// `fd` itself if its number is above 3, else [`dup_above_fd3`] of it (the
/// original closed).
#[cfg(feature = "tokio")]
pub(crate) fn above_fd3(fd: OwnedFd) -> io::Result<OwnedFd> {
    if std::os::fd::AsRawFd::as_raw_fd(&fd) > 3 {
        return Ok(fd);
    }
    dup_above_fd3(fd)
}
