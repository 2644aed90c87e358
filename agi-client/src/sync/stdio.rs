//! Constructors for the two blocking transports: standard AGI over
//! stdin/stdout, and a FastAGI TCP connection.

use std::io::{Stdin, Stdout};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::Channel;
use crate::error::Error;
use crate::options::Options;

impl Channel<Stdin, Stdout> {
    /// Standard AGI, as Asterisk runs a program from `agi-bin`: reads the
    /// environment from stdin, writes commands to stdout (flushed after each).
    ///
    /// By default SIGHUP, which Asterisk sends when the caller hangs up (and
    /// again when the session ends), no longer kills the process: it marks
    /// the channel hung up and lets the program finish. Opt out with
    /// [`Channel::stdio_with`] and `handle_sighup: false`.
    ///
    /// # Errors
    /// As [`Channel::new`], or [`Error::Io`] if the handler cannot be set.
    pub fn stdio() -> Result<Self, Error> {
        Channel::stdio_with(Options::default())
    }

    /// [`Channel::stdio`] with explicit options.
    ///
    /// # Errors
    /// As [`Channel::stdio`].
    pub fn stdio_with(options: Options) -> Result<Self, Error> {
        let sighup = if options.handle_sighup {
            Some(catch_sighup()?)
        } else {
            None
        };
        Channel::start(std::io::stdin(), std::io::stdout(), options, sighup, None)
    }
}

#[cfg(feature = "sighup")]
fn catch_sighup() -> Result<Arc<AtomicBool>, Error> {
    let flag = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&flag))?;
    Ok(flag)
}

#[cfg(not(feature = "sighup"))]
fn catch_sighup() -> Result<Arc<AtomicBool>, Error> {
    Err(Error::Io(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "SIGHUP handling needs the `sighup` feature",
    )))
}

impl Channel<TcpStream, TcpStream> {
    /// A blocking FastAGI connection accepted by your own listener. Sets
    /// TCP_NODELAY (each command is one write) and the read timeouts of
    /// `options`.
    ///
    /// # Errors
    /// As [`Channel::new`], or [`Error::Timeout`] when the environment does
    /// not arrive within `options.env_timeout`.
    pub fn tcp(stream: TcpStream, options: Options) -> Result<Self, Error> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(options.env_timeout)?;
        let reader = stream.try_clone()?;
        let mut chan = Channel::start(reader, stream, options, None, options.env_timeout)?;
        chan.set_tcp_timeout(options.command_timeout)?;
        Ok(chan)
    }

    fn set_tcp_timeout(&mut self, timeout: Option<std::time::Duration>) -> Result<(), Error> {
        self.reader().set_read_timeout(timeout)?;
        self.note_read_timeout(timeout);
        Ok(())
    }
}
