//! Shared by several test binaries: a server on loopback, its logs
//! collected, and the bytes peers send in property tests. (Each binary uses
//! a part.)
#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use agi_client::server::{Router, Server, ServerConfig, Session, ShutdownReport};
use proptest::prelude::*;
use tokio::sync::{Notify, oneshot};
use tokio::task::JoinHandle;
use tracing::subscriber::DefaultGuard;

/// Where test servers bind: loopback, a port the system picks.
pub const LOOPBACK: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0);

/// A server serving on this runtime: its address, the trigger of its
/// shutdown (which also starts when the sender is dropped), and its task.
pub type Running = (SocketAddr, oneshot::Sender<()>, JoinHandle<ShutdownReport>);

/// A router whose "hold" script answers one NOOP, then waits for the
/// gate (`notify_one` lets one session finish): a session that holds its
/// slot for as long as a test needs.
pub fn hold_router() -> (Router, Arc<Notify>) {
    let gate = Arc::new(Notify::new());
    let g = Arc::clone(&gate);
    let router = Router::new().route("hold", move |mut s: Session| {
        let g = Arc::clone(&g);
        async move {
            s.chan.noop().await?;
            g.notified().await;
            Ok::<_, agi_client::Error>(())
        }
    });
    (router, gate)
}

/// Binds `config` and serves `router` on a task of this runtime.
pub async fn start(config: ServerConfig, router: Router) -> Running {
    let server = Server::bind(config, router).await.unwrap();
    let addr = server.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(server.serve_until(async move {
        let _ = rx.await;
    }));
    (addr, tx, task)
}

/// Starts the shutdown; returns its report and how long it took.
pub async fn shut_down(
    stop: oneshot::Sender<()>,
    task: JoinHandle<ShutdownReport>,
) -> (ShutdownReport, Duration) {
    stop.send(()).unwrap();
    let started = Instant::now();
    let report = task.await.unwrap();
    (report, started.elapsed())
}

/// Log lines formatted by a `tracing_subscriber::fmt` subscriber, collected
/// for the test to read.
#[derive(Clone, Default)]
pub struct Logs(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Logs {
    /// Collects what this thread logs at `level` and above until the guard
    /// drops (tests on a current-thread runtime: the server runs here too).
    pub fn capture(level: tracing::Level) -> (Logs, DefaultGuard) {
        let logs = Logs::default();
        let writer = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(level)
            .with_writer(move || writer.clone())
            .finish();
        (logs, tracing::subscriber::set_default(subscriber))
    }

    /// Everything logged so far.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A byte a hostile peer favours: line ends, separators, NUL, digits, and
/// the characters of reply tails, among any byte at all.
pub fn hostile_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b':'),
        1 => Just(b' '),
        1 => Just(0u8),
        1 => prop::sample::select(&b"()="[..]),
        2 => b'0'..=b'9',
    ]
}

/// Up to `max` hostile bytes, line feeds included.
pub fn junk(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(hostile_byte(), 0..max)
}

/// A whole line Asterisk sends in reply (with its line feed): results of
/// every shape, HANGUP, interim and failure codes, a usage block's lines.
pub fn asterisk_line() -> impl Strategy<Value = Vec<u8>> {
    let lines: Vec<&'static [u8]> = vec![
        b"200 result=0\n",
        b"200 result=1\n",
        b"200 result=1 (x)\n",
        b"200 result=1 (SIP/bob)\n",
        b"200 result=-1\n",
        b"200 result=\n",
        b"200 result=49 endpos=8000\n",
        b"200 result=1 endpos=-1\n",
        b"200 result=0 (timeout)\n",
        b"200 result=6\r\n",
        b"HANGUP\n",
        b"100 result=0 Trying...\n",
        b"510 Invalid or unknown command\n",
        b"511 Command Not Permitted on a dead channel or intercept routine\n",
        b"520-Invalid command syntax.  Proper usage follows:\n",
        b" Usage: EXEC <application> <options>\n",
        b"520 End of proper usage.\n",
    ];
    prop::sample::select(lines).prop_map(<[u8]>::to_vec)
}
