//! The listener, the session tasks, and graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpSocket};

use super::config::{Overflow, ServerConfig};
use super::overflow::{Held, Waited};
use super::router::Router;
use super::sessions::Shared;

/// A bound FastAGI server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    shared: Arc<Shared>,
}

/// What graceful shutdown did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Sessions that finished within the grace period.
    pub finished: usize,
    /// Sessions still running at the deadline, cut off.
    pub cut: usize,
}

impl Server {
    /// Binds `config.bind` with `config.backlog`.
    ///
    /// # Errors
    /// When the address cannot be bound, and `InvalidInput` for
    /// `max_sessions` 0 (a server that could never serve).
    pub async fn bind(mut config: ServerConfig, router: Router) -> io::Result<Server> {
        if config.max_sessions == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "max_sessions must be at least 1",
            ));
        }
        // Counted in 32 bits; each session holds a file descriptor anyway.
        config.max_sessions = config.max_sessions.min(u32::MAX as usize);
        let socket = match config.bind {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        // Accepted sockets inherit it where the system allows (see
        // `conn::NodelayInherited`): commands are not held back by Nagle.
        socket.set_nodelay(true)?;
        if let Some(idle) = config.keepalive {
            set_keepalive(&socket, idle);
        }
        // Peers are compared in canonical form (`::ffff:a.b.c.d` is
        // `a.b.c.d`), so the list is too, whichever form it was given in.
        for ip in config.allow.iter_mut().flatten() {
            *ip = ip.to_canonical();
        }
        socket.bind(config.bind)?;
        let listener = socket.listen(config.backlog)?;
        tracing::info!(addr = %listener.local_addr()?, "FastAGI server listening");
        if config.allow.is_none() && !config.bind.ip().to_canonical().is_loopback() {
            // Any peer that reaches it may open sessions, and one that stops
            // answering holds its slot as long as a command may last.
            tracing::warn!(
                addr = %config.bind,
                "FastAGI server reachable beyond this host with no allow-list: \
                 set ServerConfig::allow to the Asterisk hosts"
            );
        }
        Ok(Server {
            listener,
            shared: Arc::new(Shared::new(config, router)),
        })
    }

    /// The bound address (useful with port 0).
    ///
    /// # Errors
    /// The socket's error.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` completes, then stops accepting, gives the
    /// sessions in flight `shutdown_grace` to finish, and cuts the rest: their
    /// futures are dropped at their next poll, which closes their
    /// connections. It waits at most 1 s more for that; a handler that blocks
    /// its thread is counted as cut and left to end on its own.
    ///
    /// Sessions run as tasks on the current runtime (spread over its worker
    /// threads on a multi-thread runtime). Beyond `max_sessions`, with
    /// [`Overflow::Wait`] the server stops accepting until a session ends
    /// (new calls queue in the listen backlog); with
    /// [`Overflow::WaitAtMost`] it holds them, oldest first, and tells those
    /// that waited too long `failure`; with [`Overflow::Refuse`] it accepts
    /// and closes them at once.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> ShutdownReport {
        let shared = self.shared;
        tokio::pin!(shutdown);
        // Accept failures in a row (out of descriptors and the like).
        let mut failures: u32 = 0;
        // Connections waiting for a session under `Overflow::WaitAtMost`.
        let mut held = Held::new(shared.config.backlog);
        loop {
            // Accepted to be held rather than served.
            let mut hold = false;
            let full = shared.active() >= shared.config.max_sessions;
            let accepted = match shared.config.overflow {
                Overflow::Wait if full => {
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        () = shared.room() => continue,
                    }
                }
                // Held connections go first: none is passed by a newer one.
                Overflow::WaitAtMost(limit) if full || !held.is_empty() => {
                    match held
                        .serve(&shared, limit, &self.listener, shutdown.as_mut())
                        .await
                    {
                        Waited::Shutdown => break,
                        Waited::Again => continue,
                        Waited::Accepted(accepted) => {
                            hold = true;
                            accepted
                        }
                    }
                }
                _ => tokio::select! {
                    biased;
                    () = &mut shutdown => break,
                    accepted = self.listener.accept() => accepted,
                },
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors and the like: keep serving,
                    // retrying ever more slowly (10 ms doubling to 1 s) and
                    // logging the 1st, 2nd, 4th, 8th... failure in a row
                    // rather than each.
                    failures = failures.saturating_add(1);
                    if failures.is_power_of_two() {
                        tracing::warn!(error = %e, failures, "accept failed");
                    }
                    let pause = Duration::from_millis(10 << (failures.min(8) - 1))
                        .min(Duration::from_secs(1));
                    if hold {
                        // Held connections still start and time out
                        // meanwhile. (Once the server is not full, the
                        // plain accept at the top of the loop tries at
                        // once, and pauses inline if it fails too.)
                        held.pause_accepts(pause);
                        continue;
                    }
                    tokio::select! {
                        biased;
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(pause) => {}
                    }
                    continue;
                }
            };
            if failures > 0 {
                tracing::info!(failures, "accepting again");
                failures = 0;
            }
            if hold {
                held.push(&shared, stream, peer);
                continue;
            }
            let Some(session) = shared.try_admit() else {
                if let Some(suppressed) = shared.warnings.full.admit() {
                    tracing::warn!(%peer, suppressed, "connection refused: max_sessions reached");
                }
                super::conn::refuse_now(&stream);
                continue;
            };
            // Not boxed: tokio copies a task's future several times while
            // spawning it (~1,000 instructions of memcpy for this one), but
            // a box costs an allocation, and measured paired the session
            // used 0.5 % more CPU boxed (the allocator's free lists miss the
            // cache more than the copies do).
            tokio::spawn(session.run(stream, peer));
        }
        drop(self.listener);
        held.refuse_all(&shared);
        let (finished, cut) = shared.drain(shared.config.shutdown_grace).await;
        tracing::info!(finished, cut, "shutdown complete");
        ShutdownReport { finished, cut }
    }
}

/// TCP keepalive on the listening socket, for the accepted ones to inherit:
/// probes after `idle` of silence (whole seconds, 1 to 32,767, the range
/// Linux takes), then every quarter of it (at least 1 s), four unanswered
/// probes ending the connection. A system that refuses it still serves,
/// with a warning.
fn set_keepalive(socket: &TcpSocket, idle: Duration) {
    let idle = idle.clamp(Duration::from_secs(1), Duration::from_secs(32_767));
    if let Err(e) = try_keepalive(socket, idle) {
        tracing::warn!(
            error = %e,
            "TCP keepalive not set: only the session's timeouts end a call whose peer died"
        );
    }
}

// These systems take SO_KEEPALIVE only, with their own timing.
#[cfg_attr(
    any(
        target_os = "haiku",
        target_os = "nto",
        target_os = "openbsd",
        target_os = "redox"
    ),
    allow(unused_variables)
)]
fn try_keepalive(socket: &TcpSocket, idle: Duration) -> io::Result<()> {
    use rustix::net::sockopt;
    sockopt::set_socket_keepalive(socket, true)?;
    #[cfg(not(any(
        target_os = "haiku",
        target_os = "nto",
        target_os = "openbsd",
        target_os = "redox"
    )))]
    {
        sockopt::set_tcp_keepidle(socket, idle)?;
        sockopt::set_tcp_keepintvl(socket, (idle / 4).max(Duration::from_secs(1)))?;
        sockopt::set_tcp_keepcnt(socket, 4)?;
    }
    Ok(())
}
