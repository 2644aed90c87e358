//! Playing Asterisk against a FastAGI server: C connections, each running
//! sessions back to back for a fixed time; and idle sessions for memory.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::procfs;
use crate::script::{Workload, same_tokens};

/// What one load run measured.
pub struct Report {
    pub sessions: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Session latency, connect to close, in µs.
    pub session: Histogram<u64>,
    /// From sending the environment or a reply to the next command, in µs.
    pub command: Histogram<u64>,
    pub server_cpu: Option<f64>,
    pub server_rss: Option<(u64, u64)>,
    pub own_cpu: Option<f64>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

/// How the environment block reaches the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnvArrival {
    /// Whole, in one write, right after the connection is up: the best
    /// case for a server.
    AtOnce,
    /// The first line at once, the rest a turn of the load generator's
    /// event loop later: the server finds the block incomplete when it
    /// accepts the connection, as with Asterisk, which writes the block a
    /// line at a time with Nagle on, on the same host too (see
    /// `agi-bench env-arrival`).
    Split,
}

/// Runs `conns` connections for `seconds` (or until `budget` sessions have
/// started, when given), sampling the server's /proc.
pub fn run(
    addr: SocketAddr,
    workload: Workload,
    arrival: EnvArrival,
    conns: usize,
    seconds: f64,
    budget: Option<u64>,
    server_pid: Option<u32>,
) -> Report {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let workload = Rc::new(workload);
    let env = Rc::new(workload.env(true));
    let cpu_before = server_pid.and_then(procfs::cpu_seconds);
    let own_before = procfs::cpu_seconds(std::process::id());
    let started = Instant::now();
    let deadline = started + Duration::from_secs_f64(seconds);
    let budget = Rc::new(Cell::new(budget.unwrap_or(u64::MAX)));
    let totals = Rc::new(RefCell::new(Totals::new()));
    let local = tokio::task::LocalSet::new();
    local.block_on(&rt, async {
        let mut tasks = Vec::new();
        for _ in 0..conns {
            let (workload, env, budget, totals) = (
                Rc::clone(&workload),
                Rc::clone(&env),
                Rc::clone(&budget),
                Rc::clone(&totals),
            );
            tasks.push(tokio::task::spawn_local(async move {
                connection(addr, &workload, &env, arrival, deadline, &budget, &totals).await
            }));
        }
        for t in tasks {
            t.await.expect("load task");
        }
    });
    let elapsed = started.elapsed();
    let Ok(totals) = Rc::try_unwrap(totals).map(RefCell::into_inner) else {
        unreachable!("every connection has ended");
    };
    Report {
        sessions: totals.sessions,
        errors: totals.errors,
        elapsed,
        session: totals.session,
        command: totals.command,
        server_cpu: server_pid
            .and_then(procfs::cpu_seconds)
            .zip(cpu_before)
            .map(|(a, b)| a - b),
        server_rss: server_pid.and_then(procfs::rss_kib),
        own_cpu: procfs::cpu_seconds(std::process::id())
            .zip(own_before)
            .map(|(a, b)| a - b),
    }
}

/// A run's counts and histograms, one set shared by all its connections
/// (one thread): a histogram from 1 µs to 60 s at three digits is 136 KiB,
/// and a set per connection made the load generator allocate and merge
/// gigabytes at 10,000 connections.
struct Totals {
    sessions: u64,
    errors: u64,
    session: Histogram<u64>,
    command: Histogram<u64>,
}

impl Totals {
    fn new() -> Totals {
        Totals {
            sessions: 0,
            errors: 0,
            session: histogram(),
            command: histogram(),
        }
    }
}

async fn connection(
    addr: SocketAddr,
    workload: &Workload,
    env: &[u8],
    arrival: EnvArrival,
    deadline: Instant,
    budget: &Cell<u64>,
    totals: &RefCell<Totals>,
) {
    let mut buf = vec![0u8; 4096];
    let mut scratch = Vec::with_capacity(256);
    while Instant::now() < deadline && budget.get() > 0 {
        budget.set(budget.get() - 1);
        let start = Instant::now();
        match session(addr, workload, env, arrival, &mut buf, &mut scratch, totals).await {
            Ok(()) => {
                let mut t = totals.borrow_mut();
                t.sessions += 1;
                let _ = t.session.record(start.elapsed().as_micros() as u64);
            }
            Err(e) => {
                let errors = {
                    let mut t = totals.borrow_mut();
                    t.errors += 1;
                    t.errors
                };
                if errors <= 3 {
                    eprintln!("session error: {e}");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    }
}

/// One session: connect, environment, each command checked and answered,
/// then the server's close.
async fn session(
    addr: SocketAddr,
    workload: &Workload,
    env: &[u8],
    arrival: EnvArrival,
    buf: &mut [u8],
    scratch: &mut Vec<u8>,
    totals: &RefCell<Totals>,
) -> Result<(), String> {
    let mut stream = connect_with(addr, env, arrival).await?;
    let mut sent = Instant::now();
    let (mut start, mut end) = (0, 0);
    for (i, step) in workload.steps.iter().enumerate() {
        let line = loop {
            if let Some(lf) = buf[start..end].iter().position(|&b| b == b'\n') {
                let line = (start, start + lf);
                start += lf + 1;
                break line;
            }
            if start > 0 {
                buf.copy_within(start..end, 0);
                (start, end) = (0, end - start);
            }
            if end == buf.len() {
                return Err("command line too long".into());
            }
            match stream.read(&mut buf[end..]).await {
                Ok(0) => return Err(format!("server closed before command {i}")),
                Ok(n) => end += n,
                Err(e) => return Err(format!("read: {e}")),
            }
        };
        let _ = totals
            .borrow_mut()
            .command
            .record(sent.elapsed().as_micros() as u64);
        if !same_tokens(&buf[line.0..line.1], &step.tokens, scratch) {
            return Err(format!(
                "command {i}: unexpected {:?}",
                String::from_utf8_lossy(&buf[line.0..line.1])
            ));
        }
        stream
            .write_all(&step.reply)
            .await
            .map_err(|e| format!("reply: {e}"))?;
        sent = Instant::now();
    }
    // The server ends the session by closing.
    match stream.read(buf).await {
        Ok(0) => Ok(()),
        Ok(_) => Err("command after HANGUP".into()),
        Err(e) => Err(format!("close: {e}")),
    }
}

/// Connects and sends the environment block: a non-blocking `connect`, as
/// Asterisk's, then the block as soon as the socket is writable. On
/// loopback it is when `connect` returns, so the block goes at once; tokio's
/// `TcpStream::connect` would first wait a turn of the event loop for the
/// new socket's first readiness event, a delay (and a wake-up) per session
/// that Asterisk, one thread per call, does not have. (Asterisk writes the
/// block a line at a time, microseconds apart; here it is one write.)
async fn connect_with(
    addr: SocketAddr,
    env: &[u8],
    arrival: EnvArrival,
) -> Result<TcpStream, String> {
    use rustix::io::Errno;
    use rustix::net::{AddressFamily, SendFlags, SocketFlags, SocketType};
    let family = match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    };
    let fd = rustix::net::socket_with(
        family,
        SocketType::STREAM,
        SocketFlags::NONBLOCK | SocketFlags::CLOEXEC,
        None,
    )
    .map_err(|e| format!("socket: {e}"))?;
    rustix::net::sockopt::set_tcp_nodelay(&fd, true).map_err(|e| format!("nodelay: {e}"))?;
    match rustix::net::connect(&fd, &addr) {
        // Interrupted, it goes on in the background as when in progress.
        Ok(()) | Err(Errno::INPROGRESS | Errno::INTR) => {}
        Err(e) => return Err(format!("connect: {e}")),
    }
    let now = match arrival {
        EnvArrival::AtOnce => env,
        EnvArrival::Split => &env[..=env.iter().position(|&b| b == b'\n').unwrap_or(0)],
    };
    let sent = match rustix::net::send(&fd, now, SendFlags::NOSIGNAL) {
        Ok(n) => n,
        // Not connected yet: the rest below, once it is.
        Err(Errno::AGAIN | Errno::NOTCONN) => 0,
        // A refused connection shows here, on loopback.
        Err(e) => return Err(format!("connect or env: {e}")),
    };
    let mut stream =
        TcpStream::from_std(std::net::TcpStream::from(fd)).map_err(|e| format!("register: {e}"))?;
    if sent < now.len() {
        stream
            .writable()
            .await
            .map_err(|e| format!("connect: {e}"))?;
        if let Some(e) = stream.take_error().map_err(|e| e.to_string())? {
            return Err(format!("connect: {e}"));
        }
        stream
            .write_all(&now[sent..])
            .await
            .map_err(|e| format!("env: {e}"))?;
    }
    if now.len() < env.len() {
        tokio::task::yield_now().await;
        stream
            .write_all(&env[now.len()..])
            .await
            .map_err(|e| format!("env: {e}"))?;
    }
    Ok(stream)
}

/// Opens `conns` sessions that stop after their first command (Asterisk
/// busy in a long Dial) and reports the server's RSS before and while they
/// are open, in KiB.
pub fn idle(addr: SocketAddr, conns: usize, server_pid: u32) -> (u64, u64) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let before = procfs::rss_kib(server_pid).map_or(0, |r| r.0);
        let env = Workload::router().env(true);
        let mut open = Vec::with_capacity(conns);
        for _ in 0..conns {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            s.write_all(&env).await.expect("env");
            let mut b = [0u8; 64];
            let _ = s.read(&mut b).await.expect("first command");
            open.push(s);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let during = procfs::rss_kib(server_pid).map_or(0, |r| r.0);
        drop(open);
        (before, during)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Both ways of sending the environment deliver the whole block, byte
    /// for byte, on a socket with TCP_NODELAY.
    #[test]
    fn both_arrivals_deliver_the_whole_block() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let env = Workload::router().env(true);
            for arrival in [EnvArrival::AtOnce, EnvArrival::Split] {
                let (client, accepted) =
                    tokio::join!(connect_with(addr, &env, arrival), listener.accept());
                let client = client.unwrap();
                assert!(client.nodelay().unwrap(), "{arrival:?}");
                let (mut server, _) = accepted.unwrap();
                let mut got = vec![0; env.len()];
                tokio::time::timeout(Duration::from_secs(5), server.read_exact(&mut got))
                    .await
                    .expect("the whole block arrives")
                    .unwrap();
                assert_eq!(got, env, "{arrival:?}");
            }
        });
    }
}
