//! Accept failures (out of file descriptors): the server retries ever more
//! slowly, logs sparingly, and serves the waiting calls once it can. Its
//! own test binary: it lowers the process's descriptor limit.

mod common;

use std::time::Duration;

use agi_client::server::{Overflow, Router, ServerConfig, Session};
use rustix::process::{Resource, getrlimit, setrlimit};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpSocket;

use common::{LOOPBACK, Logs, start};

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
        if let Some(before) = self.0.take() {
            setrlimit(Resource::Nofile, before).unwrap();
        }
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
    let before = out_of_descriptors();
    let mut calls = Vec::new();
    for socket in callers {
        let stream = socket.connect(addr).await.unwrap();
        let (r, mut w) = stream.into_split();
        w.write_all(b"agi_network: yes\nagi_network_script: hi\n\n")
            .await
            .unwrap();
        calls.push((BufReader::new(r), w));
    }
    // Out of descriptors for 600 ms: about seven failed accepts (10, 20,
    // 40... ms apart), not sixty.
    tokio::time::sleep(Duration::from_millis(600)).await;
    before.restore();

    for (r, w) in &mut calls {
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(3), r.read_line(&mut line))
            .await
            .expect("served once descriptors are back")
            .unwrap();
        assert_eq!(line, "NOOP\n");
        w.write_all(b"200 result=0\n").await.unwrap();
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

    let gate = std::sync::Arc::new(tokio::sync::Notify::new());
    let g = std::sync::Arc::clone(&gate);
    let router = Router::new().route("hi", move |mut s: Session| {
        let g = std::sync::Arc::clone(&g);
        async move {
            s.chan.noop().await?;
            g.notified().await;
            Ok::<_, agi_client::Error>(())
        }
    });
    let config = ServerConfig {
        bind: LOOPBACK,
        max_sessions: 1,
        overflow: Overflow::WaitAtMost(Duration::from_secs(10)),
        ..ServerConfig::default()
    };
    let (addr, _stop, _task) = start(config, router).await;
    let call = |socket: TcpSocket| async move {
        let stream = socket.connect(addr).await.unwrap();
        let (r, mut w) = stream.into_split();
        w.write_all(b"agi_network: yes\nagi_network_script: hi\n\n")
            .await
            .unwrap();
        (BufReader::new(r), w)
    };
    let mut first = call(TcpSocket::new_v4().unwrap()).await;
    let mut line = String::new();
    first.0.read_line(&mut line).await.unwrap();
    assert_eq!(line, "NOOP\n");
    first.1.write_all(b"200 result=0\n").await.unwrap();
    let mut held = call(TcpSocket::new_v4().unwrap()).await;
    // The server is full and holds one call; now out of descriptors.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let callers: Vec<TcpSocket> = (0..2).map(|_| TcpSocket::new_v4().unwrap()).collect();
    let before = out_of_descriptors();
    let mut late = Vec::new();
    for socket in callers {
        late.push(call(socket).await);
    }
    // A slot frees while accepts fail: the held call starts.
    tokio::time::sleep(Duration::from_millis(300)).await;
    gate.notify_one();
    line.clear();
    tokio::time::timeout(Duration::from_secs(2), held.0.read_line(&mut line))
        .await
        .expect("the held call starts while accepts fail")
        .unwrap();
    assert_eq!(line, "NOOP\n");
    held.1.write_all(b"200 result=0\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    before.restore();

    // Failures in a row, as logged (the 1st, 2nd, 4th, 8th...; a slot
    // freed gives back a descriptor, so a streak may end and another
    // start): backing off 10, 20, 40... ms, a streak logs at most its 8th
    // failure in 700 ms, where spinning would log the thousands.
    let text = logs.text();
    let streaks: Vec<u64> = text
        .lines()
        .filter(|l| l.contains("accept failed"))
        .filter_map(|l| l.rsplit("failures=").next()?.parse().ok())
        .collect();
    assert!(!streaks.is_empty(), "no accept failed:\n{text}");
    assert!(streaks.iter().all(|&n| n <= 8), "{streaks:?}:\n{text}");
    gate.notify_one();
    drop(first);
}
