//! Server settings, with defaults that are safe to expose.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::options::Options;

/// What happens to a connection beyond `max_sessions`.
///
/// Asterisk waits for a FastAGI server's first command with no time limit,
/// the caller hearing silence (or ringing, before an answer): a call that
/// waits for a session gets no answer until one ends, and hanging up does
/// not free Asterisk's channel (it waits for the server to close, unless
/// the dialplan sets `AGIEXITONHANGUP`). `WaitAtMost` bounds that wait; a
/// call told `failure` goes on in the dialplan with `AGISTATUS=FAILURE` (a
/// fallback route, a busy tone).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Overflow {
    /// It waits in the listen backlog, not accepted and its environment
    /// unread, until a session ends, however long that takes.
    Wait,
    /// It waits until a session ends, for at most this long (from its
    /// accept), then is told `failure` and closed. The server accepts such
    /// connections and holds them, oldest first, without reading them (up
    /// to `backlog` of them: past that, the next wait in the listen backlog,
    /// where their time is not yet counted); each holds a file descriptor.
    /// A peer not on the allow-list is closed at once, as always. At
    /// shutdown, connections still held are told `failure`. A limit too far
    /// to represent (`Duration::MAX`) is no time limit (the connections are
    /// still held, and told `failure` at shutdown); zero refuses at once, as
    /// `Refuse` does. A caller who hangs up while held still gets a session
    /// when a slot frees (its commands then fail as on any dead channel).
    WaitAtMost(Duration),
    /// It is told `failure` (without waiting) and closed at once: Asterisk
    /// sets `AGISTATUS=FAILURE`.
    Refuse,
}

/// FastAGI server settings.
///
/// ```
/// use agi_client::server::ServerConfig;
///
/// let config = ServerConfig::default();
/// assert_eq!(config.bind.to_string(), "127.0.0.1:4573");
/// assert!(config.allow.is_none());
/// ```
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on. Default `127.0.0.1:4573`: reachable from this
    /// machine only until you choose otherwise.
    pub bind: SocketAddr,
    /// Peers allowed to connect (exact addresses); others are closed before
    /// anything is read. `None` allows all. IPv4 addresses match whether
    /// the peer arrives as such or, on a dual-stack `[::]` listener, as
    /// `::ffff:a.b.c.d`, and whichever of the two forms the list uses.
    pub allow: Option<Vec<IpAddr>>,
    /// Sessions served at once (at least 1: `Server::bind` refuses 0; more
    /// than 4,294,967,295 count as that many).
    /// A connection counts from its accept (held ones under
    /// [`Overflow::WaitAtMost`] from when they start as a session): while
    /// its environment block is still arriving (for at most
    /// `session.env_timeout`), then while its handler runs, a command in
    /// flight included. A command has no time limit by default (a bridged
    /// `Dial` lasts the call), so a peer that
    /// sends a block and then stops answering holds its slot until
    /// `session.command_timeout`, `session_timeout` or TCP keepalive (a
    /// dead host) ends it: serve beyond loopback with an allow-list
    /// (`Server::bind` warns when there is none). Each session also holds a
    /// file descriptor: raise the process's limit (`ulimit -n`, systemd's
    /// `LimitNOFILE`) above this (and above this plus `backlog` with
    /// [`Overflow::WaitAtMost`]). Default 4096.
    pub max_sessions: usize,
    /// What to do with connections beyond `max_sessions`. Default `Wait`.
    pub overflow: Overflow,
    /// The listen backlog: connections the kernel queues before `accept`.
    /// Default 4096, so that bursts of calls are not dropped (a full backlog
    /// drops SYNs and the caller waits a whole retransmit). Under
    /// [`Overflow::WaitAtMost`] it also caps the connections held, and so
    /// the descriptors they use.
    pub backlog: u32,
    /// The client options of each session: `env_timeout` (default 10 s)
    /// drops a peer that connects and sends nothing or dribbles; the
    /// `command_timeout` bounds each reply wait.
    pub session: Options,
    /// Closes a session whose handler holds the call with no command in
    /// flight (a stuck database call, a forgotten `await`), so that
    /// Asterisk gets its channel back. Checked once per period `L` while
    /// the handler waits with no command in flight: a gap between commands
    /// shorter than `L` never closes the session; a handler that stops is
    /// closed between `L` and `2L` after its last command ended (`L` after
    /// the start if it sent none). Default 60 s. A command in flight (a
    /// long `Dial`) is not idle: only `session.command_timeout` bounds
    /// that, and it is off by default. Only commands sent from the
    /// handler's own future count: a channel the handler moves into a task
    /// of its own is not watched (and closing, which drops the handler's
    /// future, would not close it either). Values under 1 ms count as 1 ms.
    pub idle_timeout: Option<Duration>,
    /// Longest life of one session's handler; `None` for no limit.
    pub session_timeout: Option<Duration>,
    /// TCP keepalive: after this long without traffic the kernel probes the
    /// peer (every quarter of it, at least 1 s, four times), and a session
    /// whose peer's host died or became unreachable fails instead of
    /// holding its slot forever (a command in flight, a long `Dial`, has no
    /// other deadline by default). Live peers answer the probes from their
    /// kernel: a quiet call is not cut. Set on the listening socket, which
    /// accepted sockets inherit on Linux and the BSDs (no cost per
    /// session). Whole seconds from 1 to 32,767 (Linux's range; values
    /// outside it are clamped); OpenBSD and a few others take the switch
    /// only, with their own timing; a system that refuses it still serves,
    /// with a warning. Default 60 s; `None` leaves the system's setting
    /// (off).
    pub keepalive: Option<Duration>,
    /// How long sessions in flight may finish after shutdown starts.
    /// Default 30 s.
    pub shutdown_grace: Duration,
    /// How long a command that failed with `-1` waits for Asterisk's
    /// `HANGUP` notice before it returns. Asterisk answers a command the
    /// caller's hangup interrupted (a prompt playing, GET DATA waiting) with
    /// `-1` and writes its notice right after; a failure on a live channel
    /// (a missing prompt) gives the same `-1` and nothing after it, so it
    /// pays this wait in full. The notice tells the two apart for
    /// [`Channel::is_hung_up`](crate::aio::Channel::is_hung_up) and for the
    /// session's log (a hangup at DEBUG, not a handler failure at WARN).
    /// On Linux the server acknowledges the reply at once and the notice
    /// comes within a round trip; other systems delay that ACK (40 ms on
    /// FreeBSD, about 100 ms on macOS), so raise this there to tell a hangup
    /// apart. Zero reads only what has already arrived. Keep it short:
    /// `command_timeout` does not bound it. Default 100 ms.
    pub hangup_notice_wait: Duration,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 4573),
            allow: None,
            max_sessions: 4096,
            overflow: Overflow::Wait,
            backlog: 4096,
            session: Options {
                handle_sighup: false,
                ..Options::default()
            },
            idle_timeout: Some(Duration::from_secs(60)),
            session_timeout: None,
            keepalive: Some(Duration::from_secs(60)),
            shutdown_grace: Duration::from_secs(30),
            hangup_notice_wait: Duration::from_millis(100),
        }
    }
}
