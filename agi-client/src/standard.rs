//! What standard AGI asks of the process, whichever client runs it:
//! surviving the SIGHUP Asterisk sends on hangup (its default action kills
//! the program, perhaps mid-cleanup), and keeping our own copies of
//! Asterisk's pipes off fd 3, where EAGI's audio is looked for.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::error::Error;

/// Catches SIGHUP from now on: the flag turns true when one arrives.
#[cfg(feature = "sighup")]
pub(crate) fn catch_sighup() -> Result<Arc<AtomicBool>, Error> {
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&flag))?;
    Ok(flag)
}

#[cfg(not(feature = "sighup"))]
pub(crate) fn catch_sighup() -> Result<Arc<AtomicBool>, Error> {
    Err(Error::Io(io::Error::new(
        io::ErrorKind::Unsupported,
        "SIGHUP handling needs the `sighup` feature",
    )))
}

/// `fd` itself if its number is above 3, else a copy at 4 or above (the
/// original closed). A plain `dup` or `open` takes the lowest free number,
/// which in plain AGI is 3: `Audio::open` would then find Asterisk's
/// command pipe there.
pub(crate) fn above_fd3(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 3 {
        return Ok(fd);
    }
    Ok(rustix::io::fcntl_dupfd_cloexec(fd.as_fd(), 4)?)
}
