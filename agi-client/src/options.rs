//! Settings shared by both clients.

use std::time::Duration;

use agi_proto::Limits;

/// How a channel reads and how long it waits.
///
/// ```
/// use std::time::Duration;
/// use agi_client::Options;
///
/// let options = Options {
///     command_timeout: Some(Duration::from_secs(300)),
///     ..Options::default()
/// };
/// assert!(options.handle_sighup);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]

pub struct Options {
    /// Longest reply line (default 64 KiB), longest environment block or
    /// usage block (default 256 KiB). Its `max_command` is not used: command
    /// lines may have the 2046 bytes every Asterisk takes, or the limit of
    /// the peer's `agi_version` once a line needs more.
    pub limits: Limits,
    /// Longest wait for the environment block; `None` waits as long as the
    /// transport does. The async client bounds the whole block; sync
    /// channels on TCP or a file descriptor (standard AGI) bound each read.
    pub env_timeout: Option<Duration>,
    /// Longest wait for one command's reply; `None` (the default) waits
    /// forever, since STREAM FILE or Dial legitimately take minutes. The async
    /// client bounds the whole reply; sync channels on TCP or a file
    /// descriptor (standard AGI) bound each read. A command that times out
    /// poisons the channel (its late reply would answer the next command).
    pub command_timeout: Option<Duration>,
    /// Standard AGI only (`sync::Channel::stdio`, `aio::Channel::stdio`):
    /// catch the SIGHUP Asterisk sends on hangup instead of dying of it
    /// (the default action), and record the hangup. Default `true` with
    /// the `sighup` feature (on by default), `false` without it.
    pub handle_sighup: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            limits: Limits::default(),
            env_timeout: Some(Duration::from_secs(10)),
            command_timeout: None,
            // Without the feature, `stdio()` could only fail.
            handle_sighup: cfg!(feature = "sighup"),
        }
    }
}
