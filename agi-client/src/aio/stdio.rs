//! Standard AGI with tokio: Asterisk's pipes on stdin and stdout, read and
//! written by the reactor (no blocking thread), SIGHUP caught as in
//! [`crate::sync::Channel::stdio`].

use std::fs::{File, OpenOptions};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;

use tokio::io::Join;
use tokio::net::unix::pipe::{Receiver, Sender};

use super::Channel;
use crate::error::Error;
use crate::options::Options;
use crate::standard;

/// The stream of [`Channel::stdio`]: stdin's pipe to read, stdout's to
/// write.
pub type Stdio = Join<Receiver, Sender>;

impl Channel<Stdio> {
    /// Standard AGI, as Asterisk runs a program from `agi-bin`: reads the
    /// environment from stdin and writes commands to stdout, both pipes.
    /// Must be called inside a tokio runtime with I/O and time enabled.
    ///
    /// By default SIGHUP, which Asterisk sends when the caller hangs up
    /// (and again when the session ends), no longer kills the process: it
    /// marks the channel hung up. Opt out with [`Channel::stdio_with`] and
    /// `handle_sighup: false`.
    ///
    /// ```no_run
    /// use agi_client::aio::Channel;
    ///
    /// #[tokio::main(flavor = "current_thread")]
    /// async fn main() -> Result<(), agi_client::Error> {
    ///     let mut chan = Channel::stdio().await?;
    ///     chan.answer().await?;
    ///     chan.verbose("hello from tokio").await?;
    ///     chan.hangup().await
    /// }
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] when stdin or stdout is not a pipe (run by hand from a
    /// terminal or with files, use [`crate::sync::Channel::stdio`]) or the
    /// SIGHUP handler cannot be set; then as [`Channel::with_options`].
    pub async fn stdio() -> Result<Self, Error> {
        Channel::stdio_with(Options::default()).await
    }

    /// [`Channel::stdio`] with explicit options.
    ///
    /// # Errors
    /// As [`Channel::stdio`].
    pub async fn stdio_with(options: Options) -> Result<Self, Error> {
        let sighup = standard::sighup_flag(&options)?;
        // Opened again through /dev/fd rather than duplicated: on Linux that
        // makes a file description of our own, so the non-blocking mode
        // tokio sets leaves fds 0 and 1 as they were for the rest of the
        // program. (Elsewhere, or where that open fails, it is a duplicate
        // and shares the mode.)
        // Non-blocking from the start: opening a pipe whose other end is
        // gone would otherwise wait for a new one, forever.
        let open = |write: bool, path: &str| {
            OpenOptions::new()
                .read(!write)
                .write(write)
                .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
                .open(path)
                .map(OwnedFd::from)
        };
        // Without /proc (a chroot), or as another user than the pipes'
        // owner, the open fails: a duplicate then, sharing the mode.
        let stdin = open(false, "/dev/fd/0").or_else(|_| standard::dup_above_fd3(std::io::stdin()));
        let stdout = match open(true, "/dev/fd/1") {
            // No reader: Asterisk is gone already (AGIEXITONHANGUP).
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::NXIO.raw_os_error()) => {
                return Err(Error::Closed);
            }
            opened => opened.or_else(|_| standard::dup_above_fd3(std::io::stdout()))?,
        };
        let stdin = stdin?;
        let reader = Receiver::from_file(File::from(standard::above_fd3(stdin)?))?;
        let writer = Sender::from_file(File::from(standard::above_fd3(stdout)?))?;
        let mut chan = Channel::unread(tokio::io::join(reader, writer), options);
        if let Some(flag) = sighup {
            chan.watch_sighup(flag);
        }
        chan.finish_env(options.env_timeout).await?;
        Ok(chan)
    }
}
