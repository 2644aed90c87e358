//! Accept failures (out of file descriptors): the server retries ever more
//! slowly, logs sparingly, and serves the waiting calls once it can. Its
//! own test binary: it lowers the process's descriptor limit.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use agi_client::server::{Overflow, Router, ServerConfig, Session};
use rustix::process::{Resource, getrlimit, setrlimit};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use common::{LOOPBACK, Logs, hold_router, start};

/// The lowest descriptor number free now: the next one the process gets.
fn next_fd() -> u64 {
    let probe = std::fs::File::open("/dev/null").unwrap();
    let fd = std::os::fd::AsRawFd::as_raw_fd(&probe);
    u64::try_from(fd).unwrap()
}

/// Lowers the descriptor limit to the descriptors open now (the next
/// `accept` fails) until the guard is dropped or `restore`d: put back on a
/// failed assertion too, so that the other test does not fail for it.
fn out_of_descriptors() -> Lowered {
    let before = getrlimit(Resource::Nofile);
    let lowered = rustix::process::Rlimit {
        current: Some(next_fd()),
        maximum: before.maximum,
    };
    setrlimit(Resource::Nofile, lowered).unwrap();
    Lowered(Some(before))
}

/// The descriptor limit before `out_of_descriptors`.
struct Lowered(Option<rustix::process::Rlimit>);

impl Lowered {
    fn restore(mut self) {
        let before = self
            .0
            .take()
            .expect("restored once: `restore` takes the guard");
        setrlimit(Resource::Nofile, before).unwrap();
    }
}

impl Drop for Lowered {
    fn drop(&mut self) {
        if let Some(before) = self.0.take() {
            let _ = setrlimit(Resource::Nofile, before);
        }
    }
}

/// The descriptor limit is the process's: one test at a time lowers it,
/// and the other's runtime is not built meanwhile (it needs descriptors).
static LIMIT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `test` on a runtime of its own, alone among this binary's tests.
fn alone(test: impl std::future::Future<Output = ()>) {
    let _one_at_a_time = LIMIT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(test);
}

#[test]
fn accept_failures_back_off_log_sparingly_and_recover() {
    alone(back_off_and_recover());
}

async fn back_off_and_recover() {
    let (logs, _guard) = Logs::capture(tracing::Level::INFO);

    let router = Router::new().route("hi", |mut s: Session| async move { s.chan.noop().await });
    let config = ServerConfig {
        bind: LOOPBACK,
        ..ServerConfig::default()
    };
    let (addr, _stop, _task) = start(config, router).await;

    // The callers' sockets exist before the limit drops; connecting them
    // takes no new descriptor, accepting them does.
    let callers: Vec<TcpSocket> = (0..3).map(|_| TcpSocket::new_v4().unwrap()).collect();
    let lowered = out_of_descriptors();
    let mut calls = Vec::new();
    for socket in callers {
        calls.push(Call::connect(socket, addr, "hi").await);
    }
    // Out of descriptors for 600 ms: about seven failed accepts (10, 20,
    // 40... ms apart), not sixty.
    tokio::time::sleep(Duration::from_millis(600)).await;
    lowered.restore();

    for call in &mut calls {
        call.answers_noop("served once descriptors are back").await;
    }
    let text = logs.text();
    let failures = text.lines().filter(|l| l.contains("accept failed")).count();
    // Logged at the 1st, 2nd and 4th failure in a row (the 8th would be
    // about 1.3 s in).
    assert!((2..=3).contains(&failures), "{failures} lines:\n{text}");
    assert!(text.lines().any(|l| l.ends_with("failures=1")), "{text}");
    assert!(text.contains("accepting again failures="), "{text}");
}

/// With calls held for a full server (`Overflow::WaitAtMost`), failed
/// accepts back off as above (no spinning), and a held call still starts
/// when a slot frees meanwhile. (Whether it starts during a pause or only
/// after it would take a timed test to tell; the pause is 160-320 ms when
/// the slot frees here.)
#[test]
fn accept_failures_while_calls_are_held_back_off_too() {
    alone(back_off_while_calls_are_held());
}

async fn back_off_while_calls_are_held() {
    let (logs, _guard) = Logs::capture(tracing::Level::INFO);

    let (router, gate) = hold_router();
    let config = ServerConfig {
        bind: LOOPBACK,
        max_sessions: 1,
        overflow: Overflow::WaitAtMost(Duration::from_secs(10)),
        ..ServerConfig::default()
    };
    let (addr, _stop, _task) = start(config, router).await;
    let new = || TcpSocket::new_v4().unwrap();
    let mut first = Call::connect(new(), addr, "hold").await;
    first.answers_noop("the first call is served").await;
    let mut held = Call::connect(new(), addr, "hold").await;
    // The server is full and holds one call; now out of descriptors.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let callers: Vec<TcpSocket> = (0..2).map(|_| new()).collect();
    let lowered = out_of_descriptors();
    let mut late = Vec::new();
    for socket in callers {
        late.push(Call::connect(socket, addr, "hold").await);
    }
    // A slot frees while accepts fail: the held call starts (within the
    // pause or after it: see above).
    tokio::time::sleep(Duration::from_millis(300)).await;
    gate.notify_one();
    held.answers_noop("the held call starts once a slot frees")
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    lowered.restore();

    // Failures in a row, as logged (the 1st, 2nd, 4th, 8th...; a slot
    // freed gives back a descriptor, so a streak may end and another
    // start). Backing off 10, 20, 40... ms, a streak logs its 4th failure
    // in these 700 ms; 8 leaves room for a loaded machine stretching them,
    // where spinning would log the thousands.
    let text = logs.text();
    let streaks: Vec<u64> = text
        .lines()
        .filter(|l| l.contains("accept failed"))
        .filter_map(|l| l.rsplit("failures=").next()?.parse().ok())
        .collect();
    assert!(!streaks.is_empty(), "no accept failed:\n{text}");
    assert!(streaks.iter().all(|&n| n <= 8), "{streaks:?}:\n{text}");
    gate.notify_one();
}

/// One caller: what it reads from the server, and where it writes.
struct Call(BufReader<OwnedReadHalf>, OwnedWriteHalf);

impl Call {
    /// Connects `socket` and sends an environment block naming `script`.
    async fn connect(socket: TcpSocket, addr: SocketAddr, script: &str) -> Call {
        let stream = socket.connect(addr).await.unwrap();
        let (r, mut w) = stream.into_split();
        let env = format!("agi_network: yes\nagi_network_script: {script}\n\n");
        w.write_all(env.as_bytes()).await.unwrap();
        Call(BufReader::new(r), w)
    }

    /// Expects a NOOP within 3 s (`what` names the failure) and answers it.
    async fn answers_noop(&mut self, what: &str) {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(3), self.0.read_line(&mut line))
            .await
            .expect(what)
            .unwrap();
        assert_eq!(line, "NOOP\n", "{what}");
        self.1.write_all(b"200 result=0\n").await.unwrap();
    }
}
