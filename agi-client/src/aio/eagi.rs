//! EAGI audio on fd 3, read without blocking the runtime.

use std::fs::File;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, ReadBuf};
use tokio::net::unix::pipe::Receiver;

/// The caller's audio in an EAGI session, as an [`AsyncRead`]. Same format
/// as [`crate::sync::Audio`]: signed 16-bit linear PCM, mono, host byte
/// order, 8000 samples per second by default.
#[derive(Debug)]
pub struct Audio {
    pipe: Receiver,
}

impl Audio {
    /// Opens fd 3 as Asterisk passes it to an EAGI program. Must be called
    /// inside a tokio runtime with I/O enabled.
    ///
    /// # Errors
    /// As [`crate::sync::Audio::open`]: when fd 3 is not open, is not a
    /// pipe, or is stdin's or stdout's pipe.
    pub fn open() -> io::Result<Audio> {
        Audio::from_file(crate::sync::eagi::open_fd3()?)
    }

    /// Reads audio from an open pipe (or FIFO).
    ///
    /// # Errors
    /// When `file` is not a pipe.
    pub fn from_file(file: File) -> io::Result<Audio> {
        Ok(Audio {
            pipe: Receiver::from_file(file)?,
        })
    }
}

impl AsyncRead for Audio {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.pipe).poll_read(cx, buf)
    }
}
