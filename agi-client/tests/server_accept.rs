//! Accept failures (out of file descriptors): the server retries ever more
//! slowly, logs sparingly, and serves the waiting calls once it can. Its
//! own test binary: it lowers the process's descriptor limit.

mod common;

use std::time::Duration;

use agi_client::server::{Router, ServerConfig, Session};
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

#[tokio::test]
async fn accept_failures_back_off_log_sparingly_and_recover() {
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
    let before = getrlimit(Resource::Nofile);
    let lowered = rustix::process::Rlimit {
        current: Some(next_fd()),
        maximum: before.maximum,
    };
    setrlimit(Resource::Nofile, lowered).unwrap();
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
    setrlimit(Resource::Nofile, before).unwrap();

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
