//! The listener, the session tasks, and graceful shutdown.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::config::{Overflow, ServerConfig};
use super::conn;
use super::router::Router;

/// A bound FastAGI server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    config: Arc<ServerConfig>,
    router: Arc<Router>,
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
    /// When the address cannot be bound.
    pub async fn bind(config: ServerConfig, router: Router) -> io::Result<Server> {
        let socket = match config.bind {
            SocketAddr::V4(_) => TcpSocket::new_v4()?,
            SocketAddr::V6(_) => TcpSocket::new_v6()?,
        };
        socket.set_reuseaddr(true)?;
        socket.set_nodelay(true)?;
        socket.bind(config.bind)?;
        let listener = socket.listen(config.backlog)?;
        tracing::info!(addr = %listener.local_addr()?, "FastAGI server listening");
        Ok(Server {
            listener,
            config: Arc::new(config),
            router: Arc::new(router),
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
    /// sessions in flight `shutdown_grace` to finish, and cuts the rest.
    pub async fn serve_until(self, shutdown: impl Future<Output = ()>) -> ShutdownReport {
        let permits = Arc::new(Semaphore::new(self.config.max_sessions));
        let mut sessions = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                accepted = self.listener.accept() => {
                    // Reap finished sessions here rather than waking this loop
                    // for each one: a wake per session costs more than the reap.
                    while let Some(done) = sessions.try_join_next() {
                        report_panic(done);
                    }
                    let (stream, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // Out of descriptors and the like: keep serving.
                            tracing::warn!(error = %e, "accept failed");
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                            continue;
                        }
                    };
                    let permit = match self.config.overflow {
                        Overflow::Refuse => match Arc::clone(&permits).try_acquire_owned() {
                            Ok(p) => Some(p),
                            Err(_) => {
                                tracing::warn!(%peer, "connection refused: max_sessions reached");
                                continue;
                            }
                        },
                        Overflow::Wait => None,
                    };
                    let (config, router, permits) = (Arc::clone(&self.config), Arc::clone(&self.router), Arc::clone(&permits));
                    sessions.spawn(async move {
                        let _permit = match permit {
                            Some(p) => p,
                            None => match permits.acquire_owned().await {
                                Ok(p) => p,
                                Err(_) => return,
                            },
                        };
                        conn::serve(stream, peer, config, router).await
                    });
                }
            }
        }
        drop(self.listener);
        // Sessions that ended before the shutdown are not "finished" by it.
        while let Some(done) = sessions.try_join_next() {
            report_panic(done);
        }
        let in_flight = sessions.len();
        tracing::info!(in_flight, "shutting down: no new sessions");
        let mut report = ShutdownReport::default();
        let deadline = tokio::time::sleep(self.config.shutdown_grace);
        tokio::pin!(deadline);
        while !sessions.is_empty() {
            tokio::select! {
                () = &mut deadline => break,
                Some(done) = sessions.join_next() => {
                    report_panic(done);
                    report.finished += 1;
                }
            }
        }
        report.cut = sessions.len();
        sessions.shutdown().await;
        tracing::info!(
            finished = report.finished,
            cut = report.cut,
            "shutdown complete"
        );
        report
    }
}

fn report_panic(done: Result<(), tokio::task::JoinError>) {
    if let Err(e) = done {
        if e.is_panic() {
            tracing::error!("a session handler panicked; its connection was closed");
        }
    }
}
