//! A FastAGI server: Asterisk connects for each call that runs
//! `AGI(agi://host:4573/script?query,args…)`; the server routes the session
//! by its script path to a handler.
//!
//! ```no_run
//! use agi_client::server::{Router, Server, ServerConfig, Session};
//!
//! # async fn run() -> std::io::Result<()> {
//! let router = Router::new().route("hello", |mut s: Session| async move {
//!     s.chan.answer().await?;
//!     s.chan.stream_file("hello-world", agi_proto::EscapeDigits::NONE).await?;
//!     s.chan.hangup().await?;
//!     Ok::<_, agi_client::Error>(())
//! });
//! let server = Server::bind(ServerConfig::default(), router).await?; // 127.0.0.1:4573
//! let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
//! // Give `stop` to your Ctrl-C handler: `stop.send(())` starts the shutdown.
//! # drop(stop);
//! let report = server.serve_until(async { stopped.await.ok(); }).await;
//! println!("{} sessions were cut at shutdown", report.cut);
//! # Ok(()) }
//! ```
//!
//! The server keeps no state between sessions, so several instances behind
//! `hagi://` (DNS SRV) or a TCP load balancer serve the same dialplan.

mod config;
mod conn;
mod idle;
mod overflow;
mod router;
mod sessions;
mod shutdown;
mod throttle;

/// The attribute that implements [`Handler`] on a type of your own
/// (re-exported, so that you need no direct dependency on async-trait).
pub use async_trait::async_trait;
pub use config::{Overflow, ServerConfig};
pub use router::{BoxError, Handler, Query, Router, Session};
pub use shutdown::{Server, ShutdownReport};
