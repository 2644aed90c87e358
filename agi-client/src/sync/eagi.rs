//! EAGI: the caller's audio on file descriptor 3.

use std::fs::File;
use std::io::{self, Read};

/// The caller's audio in an EAGI session: raw signed 16-bit linear PCM,
/// mono, in host byte order (little-endian on x86-64 and ARM64), 8000
/// samples per second unless the channel variable `EAGI_AUDIO_FORMAT` chose
/// another format (`slin16` is 16 kHz). No header, no framing: about 16000
/// bytes per second at 8 kHz.
///
/// Asterisk writes audio only while it waits for the next command, and
/// drops frames when the pipe is full, so read it steadily (from another
/// thread) and treat it as a gappy stream, not a clock.
#[derive(Debug)]
pub struct Audio {
    file: File,
}

impl Audio {
    /// Sample rate of the default `slin` format.
    pub const DEFAULT_SAMPLE_RATE: u32 = 8000;

    /// Opens fd 3 as Asterisk passes it to an EAGI program.
    ///
    /// # Errors
    /// When fd 3 is not open (a plain AGI session, or not run by Asterisk)
    /// or is stdin's or stdout's pipe. Run by hand, a file of raw audio
    /// does as well as Asterisk's pipe: `program 3<audio.sln`.
    pub fn open() -> io::Result<Audio> {
        open_fd3().map(Audio::from_file)
    }

    /// Reads audio from an already open file or pipe.
    pub fn from_file(file: File) -> Audio {
        Audio { file }
    }

    /// Reads whole samples into `out`; returns how many. Zero at the end.
    ///
    /// # Errors
    /// The read error.
    pub fn read_samples(&mut self, out: &mut [i16]) -> io::Result<usize> {
        let mut bytes = vec![0u8; out.len() * 2];
        let mut filled = 0;
        while filled == 0 || filled % 2 != 0 {
            match self.file.read(&mut bytes[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        let samples = filled / 2;
        for (s, b) in out.iter_mut().zip(bytes[..samples * 2].chunks_exact(2)) {
            *s = i16::from_ne_bytes([b[0], b[1]]);
        }
        Ok(samples)
    }
}

impl Read for Audio {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.file.read(buf)
    }
}

/// Fd 3, unless it is missing or is the command channel (see
/// [`Audio::open`]).
pub(crate) fn open_fd3() -> io::Result<File> {
    let not_audio = |why: &str, kind| {
        io::Error::new(
            kind,
            format!("fd 3 is not EAGI audio: {why} (a plain AGI session?)"),
        )
    };
    // Reopening through /dev/fd needs no unsafe code.
    let file = File::open("/dev/fd/3").map_err(|e| not_audio(&e.to_string(), e.kind()))?;
    let audio = rustix::fs::fstat(&file)?;
    let stdio = [
        ("stdin", rustix::fs::fstat(std::io::stdin())),
        ("stdout", rustix::fs::fstat(std::io::stdout())),
    ];
    // A closed stdin or stdout (an error) cannot be Asterisk's pipe either.
    for (name, other) in stdio {
        if other.is_ok_and(|o| (o.st_dev, o.st_ino) == (audio.st_dev, audio.st_ino)) {
            let why = format!("it is the same file as {name}");
            return Err(not_audio(&why, io::ErrorKind::InvalidInput));
        }
    }
    Ok(file)
}
