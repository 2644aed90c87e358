//! Constructors for the two blocking transports: standard AGI over
//! stdin/stdout, and a FastAGI TCP connection.

use std::fs::File;
use std::io::{self, Read, Stdout, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use rustix::event::{PollFd, PollFlags, Timespec};

use super::Channel;
use crate::error::Error;
use crate::options::Options;
use crate::standard;

/// A pipe or other file descriptor read without buffering (the channel
/// buffers), with an optional deadline for each read through `poll(2)`.
///
/// Standard AGI reads Asterisk's side from a duplicate of stdin, so that
/// [`Options::env_timeout`] and [`Options::command_timeout`] also hold on a
/// pipe: a read that waits longer than the limit fails with
/// [`Error::Timeout`].
#[derive(Debug)]
pub struct FdReader {
    file: File,
    timeout: Option<Duration>,
}

impl FdReader {
    /// Reads from `file` (a pipe, a FIFO, a socket…).
    pub fn new(file: File) -> Self {
        FdReader {
            file,
            timeout: None,
        }
    }
}

impl Read for FdReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(limit) = self.timeout {
            let timespec = Timespec::try_from(limit).unwrap_or(Timespec {
                tv_sec: i64::MAX,
                tv_nsec: 0,
            });
            let mut fds = [PollFd::new(&self.file, PollFlags::IN)];
            if rustix::event::poll(&mut fds, Some(&timespec))? == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "no data from Asterisk in time",
                ));
            }
        }
        self.file.read(buf)
    }
}

impl Channel<FdReader, Stdout> {
    /// Standard AGI, as Asterisk runs a program from `agi-bin`: reads the
    /// environment from stdin, writes commands to stdout (flushed after each).
    /// `Options::env_timeout` (10 s by default) and `command_timeout` (none
    /// by default) bound each read.
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
        let sighup = standard::sighup_flag(&options)?;
        let stdin = File::from(standard::dup_above_fd3(std::io::stdin())?);
        Channel::fd_channel(stdin, std::io::stdout(), options, sighup)
    }
}

impl<W: Write> Channel<FdReader, W> {
    /// A session read from an open file descriptor (what [`Channel::stdio`]
    /// does with stdin), with the timeouts of `options` enforced per read.
    ///
    /// # Errors
    /// As [`Channel::new`], or [`Error::Timeout`] when the environment does
    /// not arrive within `options.env_timeout`.
    pub fn with_fd(reader: File, writer: W, options: Options) -> Result<Self, Error> {
        Channel::fd_channel(reader, writer, options, None)
    }

    fn fd_channel(
        reader: File,
        writer: W,
        options: Options,
        sighup: Option<Arc<AtomicBool>>,
    ) -> Result<Self, Error> {
        let reader = FdReader {
            file: reader,
            timeout: options.env_timeout,
        };
        let mut chan = Channel::start(reader, writer, options, sighup, options.env_timeout)?;
        chan.reader_mut().timeout = options.command_timeout;
        chan.note_read_timeout(options.command_timeout);
        Ok(chan)
    }
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
