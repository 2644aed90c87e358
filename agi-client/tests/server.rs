//! The FastAGI server on loopback, with a hand-driven Asterisk on the other
//! end of each connection.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agi_client::Options;
use agi_client::server::{BoxError, Handler, Overflow, Router, Server, ServerConfig, Session};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Notify, oneshot};
use tokio::time::error::Elapsed;

mod common;
use common::{LOOPBACK, hold_router, shut_down, start};

fn env(script: &str) -> String {
    format!(
        "agi_network: yes\nagi_network_script: {script}\nagi_request: agi://127.0.0.1/{script}\nagi_channel: SIP/bob-1\n\
         agi_uniqueid: 1.{}\nagi_version: 22.6.0\nagi_arg_1: 101\n\n",
        script.len()
    )
}

/// Plays Asterisk on one connection: sends the environment, then answers
/// each expected command; returns what the server sent that was not expected.
struct Asterisk {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Asterisk {
    async fn connect(addr: SocketAddr, script: &str) -> Asterisk {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (r, mut writer) = stream.into_split();
        writer.write_all(env(script).as_bytes()).await.unwrap();
        Asterisk {
            reader: BufReader::new(r),
            writer,
        }
    }

    async fn expect(&mut self, command: &str, reply: &str) {
        self.expect_late(command, reply, Duration::ZERO).await;
    }

    /// Reads the next line, which must be `command`; answers nothing.
    async fn receive(&mut self, command: &str) {
        let mut line = String::new();
        self.reader.read_line(&mut line).await.unwrap();
        assert_eq!(line, format!("{command}\n"));
    }

    /// As `expect`, with the reply held back for `delay` (a long command).
    async fn expect_late(&mut self, command: &str, reply: &str, delay: Duration) {
        self.receive(command).await;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        self.writer.write_all(reply.as_bytes()).await.unwrap();
    }

    /// As `expect`, failing when the command has not come within 2 s (a
    /// session never served, left waiting in the backlog).
    async fn expect_soon(&mut self, command: &str, reply: &str) {
        tokio::time::timeout(Duration::from_secs(2), self.expect(command, reply))
            .await
            .unwrap_or_else(|_| panic!("no {command:?} within 2 s"));
    }

    /// Fails if the server sends anything, or closes, within `period` (a
    /// session that waits for a free slot).
    async fn gets_nothing_for(&mut self, period: Duration) {
        let mut line = String::new();
        let early = tokio::time::timeout(period, self.reader.read_line(&mut line)).await;
        assert!(early.is_err(), "the session did not wait: {line:?}");
    }

    /// How long the server takes to close the connection (at most 3 s).
    async fn time_to_close(&mut self) -> Duration {
        let started = Instant::now();
        assert!(self.closed_within(Duration::from_secs(3)).await);
        started.elapsed()
    }

    /// `true` when the server closes the connection (FIN, or RST when it
    /// closed with our environment unread) within `limit`.
    async fn closed_within(&mut self, limit: Duration) -> bool {
        read_to_close(&mut self.reader, limit).await.0.is_ok()
    }
}

/// Reads until the peer closes, for up to `limit`: how the read ended
/// (`Err` when the time ran out; `Ok(Ok(0))` for a FIN with nothing
/// left) and what arrived.
async fn read_to_close(
    stream: &mut (impl AsyncRead + Unpin),
    limit: Duration,
) -> (Result<std::io::Result<usize>, Elapsed>, Vec<u8>) {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(limit, stream.read_to_end(&mut received)).await;
    (closed, received)
}

fn config() -> ServerConfig {
    ServerConfig {
        bind: LOOPBACK,
        session: Options {
            env_timeout: Some(Duration::from_millis(300)),
            handle_sighup: false,
            ..Options::default()
        },
        shutdown_grace: Duration::from_secs(2),
        ..ServerConfig::default()
    }
}

/// Starts `router` under `config()` with the given shutdown grace period.
async fn start_graced(router: Router, grace: Duration) -> common::Running {
    let config = ServerConfig {
        shutdown_grace: grace,
        ..config()
    };
    start(config, router).await
}

fn greeter() -> Router {
    Router::new()
        .route("ivr/main", |mut s: Session| async move {
            let lang = s.query().get("lang").unwrap_or("en").to_owned();
            s.chan.set_variable("LANG", lang.as_str()).await?;
            let exten = s.chan.env().arg(1).unwrap().to_string();
            s.chan
                .verbose(&format!("{} for {exten}", s.script()))
                .await?;
            Ok::<_, agi_client::Error>(())
        })
        .route("other", |mut s: Session| async move { s.chan.noop().await })
}

#[tokio::test]
async fn routes_by_path_and_parses_the_query() {
    let (addr, stop, task) = start(config(), greeter()).await;
    let mut a = Asterisk::connect(addr, "ivr/main?lang=fr").await;
    a.expect("SET VARIABLE LANG fr", "200 result=1\n").await;
    a.expect("VERBOSE \"ivr/main for 101\"", "200 result=1\n")
        .await;
    assert!(a.closed_within(Duration::from_secs(2)).await);
    let mut b = Asterisk::connect(addr, "other").await;
    b.expect("NOOP", "200 result=0\n").await;
    assert!(b.closed_within(Duration::from_secs(2)).await);
    stop.send(()).unwrap();
    assert_eq!(task.await.unwrap().cut, 0);
}

/// A handler on a type of its own (a trait object), with state shared by
/// its sessions: each caller is told its place in line.
struct Counter {
    prefix: &'static str,
    served: Arc<AtomicUsize>,
}

#[agi_client::server::async_trait]
impl Handler for Counter {
    async fn call(&self, mut s: Session) -> Result<(), BoxError> {
        let n = self.served.fetch_add(1, Ordering::SeqCst) + 1;
        s.chan
            .verbose(&format!("{} {n} via {}", self.prefix, s.script()))
            .await?;
        Ok(())
    }
}

#[tokio::test]
async fn handlers_on_own_types_keep_state_across_sessions() {
    let served = Arc::new(AtomicUsize::new(0));
    let router = Router::new()
        .route(
            "count",
            Counter {
                prefix: "caller",
                served: Arc::clone(&served),
            },
        )
        .fallback(Counter {
            prefix: "lost",
            served: Arc::new(AtomicUsize::new(0)),
        });
    let (addr, stop, task) = start(config(), router).await;
    for n in 1..=2 {
        let mut a = Asterisk::connect(addr, "count").await;
        a.expect(
            &format!("VERBOSE \"caller {n} via count\""),
            "200 result=1\n",
        )
        .await;
        assert!(a.closed_within(Duration::from_secs(2)).await);
    }
    let mut b = Asterisk::connect(addr, "elsewhere").await;
    b.expect("VERBOSE \"lost 1 via elsewhere\"", "200 result=1\n")
        .await;
    assert!(b.closed_within(Duration::from_secs(2)).await);
    assert_eq!(served.load(Ordering::SeqCst), 2);
    let (report, _) = shut_down(stop, task).await;
    assert_eq!(report.cut, 0);
}

/// An unknown script's connection is closed cleanly: the server sends only
/// `failure` (Asterisk then sets AGISTATUS=FAILURE, where a bare close would
/// read as SUCCESS), the peer reads the end of the stream (a FIN, not a
/// reset), and what Asterisk still sends after it (its `HANGUP`) is read by
/// the server, not answered with a reset.
#[tokio::test]
async fn unknown_script_is_closed_cleanly() {
    let (addr, _stop, _task) = start(config(), greeter()).await;
    let mut a = Asterisk::connect(addr, "nope").await;
    let (closed, received) = read_to_close(&mut a.reader, Duration::from_secs(2)).await;
    assert!(
        matches!(closed, Ok(Ok(8))) && received == b"failure\n",
        "{closed:?}, after {received:?}"
    );
    // The server is still reading (for up to 500 ms): a HANGUP now is
    // taken, and its socket closes at the end of that with nothing unread,
    // where one that never read it would close with a reset.
    a.writer.write_all(b"HANGUP\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(800)).await;
    let error = a.writer.as_ref().take_error().unwrap();
    assert!(error.is_none(), "the connection was reset: {error:?}");
}

#[tokio::test]
async fn fallback_serves_unknown_paths() {
    let router = greeter().fallback(|mut s: Session| async move {
        s.chan.verbose(&format!("fallback {}", s.script())).await
    });
    let (addr, _stop, _task) = start(config(), router).await;
    let mut a = Asterisk::connect(addr, "nope").await;
    a.expect("VERBOSE \"fallback nope\"", "200 result=1\n")
        .await;
}

/// A peer off the allow-list is closed before anything is read: one that
/// sends nothing is closed at once (end of stream), well inside a 5 s
/// environment deadline rather than at it, and one that sends its
/// environment gets no command. A peer on the list is served.
#[tokio::test]
async fn allow_list_refuses_other_peers_before_reading() {
    let mut config = ServerConfig {
        allow: Some(vec!["10.1.2.3".parse().unwrap()]),
        ..config()
    };
    config.session.env_timeout = Some(Duration::from_secs(5));
    let (addr, _stop, _task) = start(config, greeter()).await;
    let started = Instant::now();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let (closed, _) = read_to_close(&mut silent, Duration::from_secs(2)).await;
    let after = started.elapsed();
    assert!(matches!(closed, Ok(Ok(0))), "{closed:?}");
    assert!(
        after < Duration::from_secs(1),
        "closed after {after:?}: it waited for an environment"
    );
    let mut a = Asterisk::connect(addr, "other").await;
    // A reset, its environment unread, or a FIN: either way nothing sent.
    let (closed, received) = read_to_close(&mut a.reader, Duration::from_secs(2)).await;
    assert!(closed.is_ok(), "left open");
    assert!(received.is_empty(), "served: {received:?}");

    let config = ServerConfig {
        allow: Some(vec![Ipv4Addr::LOCALHOST.into()]),
        ..self::config()
    };
    let (addr, _stop, _task) = start(config, greeter()).await;
    let mut b = Asterisk::connect(addr, "other").await;
    b.expect("NOOP", "200 result=0\n").await;
}

/// A one-slot server's address, the gate its session waits on, and its
/// shutdown and task (as in `common::Running`).
type OneSlot = (
    SocketAddr,
    Arc<Notify>,
    oneshot::Sender<()>,
    tokio::task::JoinHandle<agi_client::server::ShutdownReport>,
);

/// A server with room for one session, whose "hold" script answers one
/// NOOP then waits for the gate.
async fn one_slot(overflow: Overflow) -> OneSlot {
    one_slot_in(ServerConfig {
        overflow,
        ..config()
    })
    .await
}

/// As `one_slot`, with `config` but for its `max_sessions`.
async fn one_slot_in(config: ServerConfig) -> OneSlot {
    let (router, gate) = hold_router();
    let config = ServerConfig {
        max_sessions: 1,
        ..config
    };
    let (addr, stop, task) = start(config, router).await;
    (addr, gate, stop, task)
}

#[tokio::test]
async fn max_sessions_refuses_the_excess() {
    let (addr, gate, _stop, _task) = one_slot(Overflow::Refuse).await;
    let mut first = Asterisk::connect(addr, "hold").await;
    first.expect("NOOP", "200 result=0\n").await;
    let mut second = Asterisk::connect(addr, "hold").await;
    let (closed, received) = read_to_close(&mut second.reader, Duration::from_secs(2)).await;
    assert!(closed.is_ok(), "the second session is refused");
    assert_eq!(received, b"failure\n", "{closed:?}");
    gate.notify_one();
    assert!(first.closed_within(Duration::from_secs(2)).await);
    let mut third = Asterisk::connect(addr, "hold").await;
    third.expect("NOOP", "200 result=0\n").await;
    gate.notify_one();
}

#[tokio::test]
async fn max_sessions_with_wait_holds_the_excess_until_a_session_ends() {
    let (addr, gate, _stop, _task) = one_slot(Overflow::Wait).await;
    let mut first = Asterisk::connect(addr, "hold").await;
    first.expect("NOOP", "200 result=0\n").await;
    let mut second = Asterisk::connect(addr, "hold").await;
    // Longer than the 300 ms environment deadline: the waiting connection
    // is not accepted yet, so its deadline has not started.
    second.gets_nothing_for(Duration::from_millis(600)).await;
    gate.notify_one();
    assert!(first.closed_within(Duration::from_secs(2)).await);
    second.expect("NOOP", "200 result=0\n").await;
    gate.notify_one();
    assert!(second.closed_within(Duration::from_secs(2)).await);
}

/// With a bounded wait, callers beyond `max_sessions` are served oldest
/// first as sessions end, and one that waits past the limit is told
/// `failure`, no sooner (lower bounds only on time: a loaded machine makes
/// waits longer, never shorter).
#[tokio::test]
async fn max_sessions_with_a_bounded_wait_serves_in_order_then_refuses() {
    let limit = Duration::from_millis(1500);
    let (addr, gate, _stop, _task) = one_slot(Overflow::WaitAtMost(limit)).await;
    let mut first = Asterisk::connect(addr, "hold").await;
    first.expect("NOOP", "200 result=0\n").await;
    let mut second = Asterisk::connect(addr, "hold").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let third_came = Instant::now();
    let mut third = Asterisk::connect(addr, "hold").await;
    second.gets_nothing_for(Duration::from_millis(300)).await;

    // A slot frees within the limit: the older of the two gets it.
    gate.notify_one();
    assert!(first.closed_within(Duration::from_secs(2)).await);
    second.expect_soon("NOOP", "200 result=0\n").await;

    // The third waits on, past its limit, and is refused.
    let (closed, received) = read_to_close(&mut third.reader, Duration::from_secs(4)).await;
    // A FIN, not a reset: its environment was read before the close.
    assert!(matches!(closed, Ok(Ok(_))), "{closed:?}");
    assert_eq!(received, b"failure\n");
    let waited = third_came.elapsed();
    assert!(waited >= limit, "refused after {waited:?}");
    gate.notify_one();
    assert!(second.closed_within(Duration::from_secs(2)).await);
}

/// Past `backlog` held connections, the next waits in the kernel's queue,
/// and its wait counts from its accept: here only once the held one
/// starts.
#[tokio::test]
async fn past_the_backlog_a_wait_counts_from_the_accept() {
    let limit = Duration::from_millis(1500);
    let (addr, gate, _stop, _task) = one_slot_in(ServerConfig {
        overflow: Overflow::WaitAtMost(limit),
        backlog: 1,
        ..config()
    })
    .await;
    let mut first = Asterisk::connect(addr, "hold").await;
    first.expect("NOOP", "200 result=0\n").await;
    let mut held = Asterisk::connect(addr, "hold").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let queued_came = Instant::now();
    let mut queued = Asterisk::connect(addr, "hold").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    gate.notify_one();
    held.expect_soon("NOOP", "200 result=0\n").await;
    // Accepted when the slot went to `held`, at least 200 ms after it
    // came: refused no sooner than that plus the limit.
    let (closed, received) = read_to_close(&mut queued.reader, Duration::from_secs(5)).await;
    assert!(closed.is_ok(), "never refused");
    assert_eq!(received, b"failure\n");
    let waited = queued_came.elapsed();
    assert!(
        waited >= limit + Duration::from_millis(200),
        "held from its connect: refused after {waited:?}"
    );
    gate.notify_one();
}

/// Connections still held at shutdown are told `failure` then; a limit
/// too far to represent (`Duration::MAX`) is no limit.
#[tokio::test]
async fn held_connections_are_refused_at_shutdown() {
    let (addr, gate, stop, task) = one_slot(Overflow::WaitAtMost(Duration::MAX)).await;
    let mut first = Asterisk::connect(addr, "hold").await;
    first.expect("NOOP", "200 result=0\n").await;
    let mut second = Asterisk::connect(addr, "hold").await;
    second.gets_nothing_for(Duration::from_millis(300)).await;
    gate.notify_one();
    second.expect_soon("NOOP", "200 result=0\n").await;
    let mut third = Asterisk::connect(addr, "hold").await;
    // Time for the server to accept and hold it (no upper bound depends
    // on this wait).
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.send(()).unwrap();
    let (closed, received) = read_to_close(&mut third.reader, Duration::from_secs(1)).await;
    assert!(closed.is_ok(), "still held after the shutdown started");
    assert_eq!(received, b"failure\n");
    gate.notify_one();
    let report = task.await.unwrap();
    assert_eq!((report.finished, report.cut), (1, 0));
}

/// A peer the allow-list refuses is closed at once even when the server
/// is full: it is never held for a session. (Linux: the whole of
/// 127.0.0.0/8 is local there.)
#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_refused_peer_is_not_held_for_a_session() {
    let (addr, gate, _stop, _task) = one_slot_in(ServerConfig {
        allow: Some(vec![Ipv4Addr::LOCALHOST.into()]),
        overflow: Overflow::WaitAtMost(Duration::from_secs(5)),
        ..config()
    })
    .await;
    let mut first = Asterisk::connect(addr, "hold").await;
    first.expect("NOOP", "200 result=0\n").await;
    // Another loopback address, not on the list.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut other = socket.connect(addr).await.unwrap();
    let (closed, received) = read_to_close(&mut other, Duration::from_secs(2)).await;
    assert!(closed.is_ok(), "held for a session");
    assert!(received.is_empty(), "{received:?}");
    gate.notify_one();
    assert!(first.closed_within(Duration::from_secs(2)).await);
}

#[tokio::test]
async fn slow_peer_is_dropped_at_the_deadline_and_empty_connections_are_quiet() {
    let (addr, _stop, _task) = start(config(), greeter()).await;
    let mut slow = TcpStream::connect(addr).await.unwrap();
    slow.write_all(b"agi_network: yes\nagi_req").await.unwrap();
    let started = Instant::now();
    let (closed, _) = read_to_close(&mut slow, Duration::from_secs(3)).await;
    assert!(matches!(closed, Ok(Ok(0))), "{closed:?}");
    assert!(
        started.elapsed() >= Duration::from_millis(250),
        "dropped at the 300 ms deadline, not before"
    );

    drop(TcpStream::connect(addr).await.unwrap()); // a health check
    let mut a = Asterisk::connect(addr, "other").await;
    a.expect("NOOP", "200 result=0\n").await;
}

/// The deadline bounds the whole block: a peer that sends a byte every
/// 50 ms never completes it and is dropped at the 300 ms deadline.
#[tokio::test]
async fn dribbling_peer_is_dropped_at_the_deadline() {
    let (addr, _stop, _task) = start(config(), greeter()).await;
    let mut peer = TcpStream::connect(addr).await.unwrap();
    let started = Instant::now();
    let block = env("other");
    let mut closed_after = None;
    for byte in block.as_bytes().iter().take(40) {
        if peer.write_all(&[*byte]).await.is_err() {
            closed_after = Some(started.elapsed());
            break;
        }
        let mut probe = [0u8; 1];
        if let Ok(read) =
            tokio::time::timeout(Duration::from_millis(50), peer.read(&mut probe)).await
        {
            assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
            closed_after = Some(started.elapsed());
            break;
        }
    }
    let after = closed_after.expect("still open after 2 s of dribbling");
    assert!(
        after >= Duration::from_millis(280),
        "dropped after {after:?}"
    );
    assert!(
        after < Duration::from_millis(1500),
        "dropped after {after:?}"
    );
}

/// An environment block that arrives in pieces within the deadline is
/// served like one that arrives whole.
#[tokio::test]
async fn environment_in_pieces_within_the_deadline_is_served() {
    let (addr, _stop, _task) = start(config(), greeter()).await;
    let block = env("ivr/main?lang=fr");
    let (first, rest) = block.split_at(block.len() / 2);
    let stream = TcpStream::connect(addr).await.unwrap();
    let (r, mut writer) = stream.into_split();
    writer.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    writer.write_all(rest.as_bytes()).await.unwrap();
    let mut peer = Asterisk {
        reader: BufReader::new(r),
        writer,
    };
    peer.expect("SET VARIABLE LANG fr", "200 result=1\n").await;
    peer.expect("VERBOSE \"ivr/main for 101\"", "200 result=1\n")
        .await;
    assert!(peer.closed_within(Duration::from_secs(2)).await);
}

/// Each handler sends one NOOP, then: "fails" returns an error, "panics"
/// panics, and "works" sends a second NOOP and counts itself in `served`.
fn faulty(served: &Arc<AtomicUsize>) -> Router {
    let served = Arc::clone(served);
    Router::new()
        .route("fails", |mut s: Session| async move {
            s.chan.noop().await?;
            Err::<(), agi_client::server::BoxError>("database down".into())
        })
        .route("panics", |mut s: Session| async move {
            s.chan.noop().await?;
            if true {
                panic!("handler bug");
            }
            Ok::<(), agi_client::Error>(())
        })
        .route("works", move |mut s: Session| {
            let served = Arc::clone(&served);
            async move {
                s.chan.noop().await?;
                s.chan.noop().await?;
                served.fetch_add(1, Ordering::SeqCst);
                Ok::<_, agi_client::Error>(())
            }
        })
}

/// A failing and a panicking handler end only their own session: a session
/// in the middle of its call meanwhile (one NOOP answered, the handler
/// waiting for the reply to its second) goes on and ends normally, and the
/// server serves the next caller.
#[tokio::test]
async fn handler_errors_and_panics_end_only_their_session() {
    let served = Arc::new(AtomicUsize::new(0));
    let (addr, stop, task) = start(config(), faulty(&served)).await;
    let mut busy = Asterisk::connect(addr, "works").await;
    busy.expect("NOOP", "200 result=0\n").await;
    busy.receive("NOOP").await;

    let mut a = Asterisk::connect(addr, "fails").await;
    a.expect("NOOP", "200 result=0\n").await;
    assert!(a.closed_within(Duration::from_secs(2)).await);
    let mut b = Asterisk::connect(addr, "panics").await;
    b.expect("NOOP", "200 result=0\n").await;
    assert!(b.closed_within(Duration::from_secs(2)).await);

    // The second NOOP's reply reaches the handler, which ends normally.
    busy.writer.write_all(b"200 result=0\n").await.unwrap();
    assert!(busy.closed_within(Duration::from_secs(2)).await);
    assert_eq!(
        served.load(Ordering::SeqCst),
        1,
        "the session in flight ended early"
    );

    let mut c = Asterisk::connect(addr, "works").await;
    c.expect("NOOP", "200 result=0\n").await;
    c.expect("NOOP", "200 result=0\n").await;
    assert!(c.closed_within(Duration::from_secs(2)).await);
    assert_eq!(served.load(Ordering::SeqCst), 2);
    let (report, _) = shut_down(stop, task).await;
    assert_eq!((report.finished, report.cut), (0, 0));
}

/// A caller connected now, while the slot is taken, when `queue`.
async fn queue_if(queue: bool, addr: SocketAddr, script: &str) -> Option<Asterisk> {
    match queue {
        true => Some(Asterisk::connect(addr, script).await),
        false => None,
    }
}

/// The caller queued earlier, or one connected now.
async fn queued_or_new(queued: Option<Asterisk>, addr: SocketAddr, script: &str) -> Asterisk {
    match queued {
        Some(caller) => caller,
        None => Asterisk::connect(addr, script).await,
    }
}

/// A panicking and a failing session give their slot back: with room for
/// one session, a panic then an error, each with the next caller either
/// waiting behind it (`Wait`) or coming after it (`Refuse`), and the caller
/// after them is still served. The shutdown then has no session in flight:
/// none finished during the grace period, none cut.
#[tokio::test]
async fn a_panic_or_an_error_gives_its_session_slot_back() {
    for overflow in [Overflow::Refuse, Overflow::Wait] {
        let served = Arc::new(AtomicUsize::new(0));
        let config = ServerConfig {
            max_sessions: 1,
            overflow,
            ..config()
        };
        let (addr, stop, task) = start(config, faulty(&served)).await;
        // Under `Wait`, the next caller connects while the slot is taken
        // and waits in the backlog; under `Refuse`, once it is free.
        let queue = overflow == Overflow::Wait;
        let mut panics = Asterisk::connect(addr, "panics").await;
        let queued = queue_if(queue, addr, "fails").await;
        panics.expect("NOOP", "200 result=0\n").await;
        assert!(panics.closed_within(Duration::from_secs(2)).await);

        let mut fails = queued_or_new(queued, addr, "fails").await;
        let queued = queue_if(queue, addr, "works").await;
        fails.expect_soon("NOOP", "200 result=0\n").await;
        assert!(fails.closed_within(Duration::from_secs(2)).await);

        let mut works = queued_or_new(queued, addr, "works").await;
        works.expect_soon("NOOP", "200 result=0\n").await;
        works.expect("NOOP", "200 result=0\n").await;
        assert!(works.closed_within(Duration::from_secs(2)).await);
        assert_eq!(served.load(Ordering::SeqCst), 1, "{overflow:?}");

        let (report, took) = shut_down(stop, task).await;
        assert_eq!((report.finished, report.cut), (0, 0), "{overflow:?}");
        assert!(
            took < Duration::from_millis(500),
            "{overflow:?}: the shutdown waited for {took:?}"
        );
    }
}

/// Bytes that are not AGI end their connection at once, not at the
/// environment deadline, with the buffer bounded by the configured limits;
/// a reply that is not AGI fails the command in flight. The server goes on
/// serving.
#[tokio::test]
async fn hostile_bytes_end_only_their_connection_and_promptly() {
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&failures);
    // Anything let through would reach the fallback, which waits on a NOOP.
    let router = greeter()
        .fallback(|mut s: Session| async move { s.chan.noop().await })
        .route("probe", move |mut s: Session| {
            let seen = Arc::clone(&seen);
            async move {
                let outcome = s.chan.noop().await;
                if matches!(outcome, Err(agi_client::Error::Parse(_))) {
                    seen.fetch_add(1, Ordering::SeqCst);
                }
                outcome
            }
        });
    let mut config = config();
    // A deadline far beyond the checks below: a close within them is the
    // parser's doing.
    config.session.env_timeout = Some(Duration::from_secs(30));
    config.session.limits.max_line = 1024;
    config.session.limits.max_block = 4096;
    let (addr, stop, task) = start(config, router).await;

    // A valid start, then no line feed: within max_block, past max_line.
    let long_line = [&b"agi_request: "[..], &[b'x'; 2 * 1024]].concat();
    let many_lines = b"agi_x: y\n".repeat(2_000); // no empty line
    // Not an environment from its first byte. (A line without a colon
    // later in a block is skipped, as Asterisk splits a value holding a
    // line feed; the parser's tests cover that.)
    let binary = b"\x00\xff\xfe\x01 no colon\n\n".to_vec();
    for (what, bytes) in [
        ("a line past max_line", long_line),
        ("a block past max_block", many_lines),
        ("binary lines", binary),
    ] {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (r, mut w) = stream.into_split();
        // The server may close (and reset) before it has read everything.
        let _ = w.write_all(&bytes).await;
        let mut peer = Asterisk {
            reader: BufReader::new(r),
            writer: w,
        };
        // Well before the 30 s deadline, with room for a loaded machine.
        assert!(
            peer.closed_within(Duration::from_secs(10)).await,
            "{what}: closed at once"
        );
    }

    let mut a = Asterisk::connect(addr, "probe").await;
    a.expect("NOOP", "hello there\n").await;
    assert!(a.closed_within(Duration::from_secs(2)).await);
    assert_eq!(
        failures.load(Ordering::SeqCst),
        1,
        "the NOOP failed to parse"
    );

    let mut b = Asterisk::connect(addr, "other").await;
    b.expect("NOOP", "200 result=0\n").await;
    assert!(b.closed_within(Duration::from_secs(2)).await);
    let (report, _) = shut_down(stop, task).await;
    assert_eq!(report.cut, 0);
}

/// At shutdown no new connection is accepted, a session in flight that
/// finishes within `shutdown_grace` is reported finished, and one that does
/// not is still open shortly before the grace period ends, then cut at its
/// end (not earlier), and the shutdown completes.
#[tokio::test]
async fn graceful_shutdown_lets_sessions_finish_then_cuts_the_rest() {
    let router = Router::new().route("slow", |mut s: Session| async move {
        s.chan.noop().await?;
        s.chan.noop().await
    });
    let grace = Duration::from_secs(1);
    let (addr, stop, task) = start_graced(router, grace).await;
    let mut done = Asterisk::connect(addr, "slow").await;
    done.expect("NOOP", "200 result=0\n").await;
    let mut a = Asterisk::connect(addr, "slow").await;
    a.expect("NOOP", "200 result=0\n").await;
    let mut stuck = Asterisk::connect(addr, "slow").await;
    stuck.expect("NOOP", "200 result=0\n").await;
    // A session that ends after the last accept but before the shutdown is
    // not counted by it.
    done.expect("NOOP", "200 result=0\n").await;
    assert!(done.closed_within(Duration::from_secs(1)).await);
    let stopped = Instant::now();
    stop.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        TcpStream::connect(addr).await.is_err(),
        "no new connections after shutdown starts"
    );
    a.expect("NOOP", "200 result=0\n").await; // finishes within the grace period
    assert!(a.closed_within(Duration::from_secs(1)).await);
    // `stuck` never answers its second NOOP: still open 200 ms before the
    // deadline...
    let before_deadline = (grace - Duration::from_millis(200)).saturating_sub(stopped.elapsed());
    assert!(
        !stuck.closed_within(before_deadline).await,
        "cut {:?} after the stop, before the grace period ended",
        stopped.elapsed()
    );
    // ...and cut at it.
    assert!(stuck.closed_within(Duration::from_secs(2)).await);
    let cut_after = stopped.elapsed();
    assert!(
        cut_after >= grace && cut_after < grace + Duration::from_secs(1),
        "cut {cut_after:?} after the stop"
    );
    let report = tokio::time::timeout(Duration::from_secs(2), task)
        .await
        .expect("the shutdown did not complete after the cut")
        .unwrap();
    assert_eq!((report.finished, report.cut), (1, 1));
}

/// A cut session whose handler is slow to drop (its `Drop` blocks its
/// thread past the second the shutdown waits after the cut) is counted
/// once, as cut, and the session that finished in the grace period stays
/// finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_session_slow_to_drop_is_counted_once() {
    struct Slow;
    impl Drop for Slow {
        fn drop(&mut self) {
            // The runtime goes on meanwhile: the shutdown's second passes.
            tokio::task::block_in_place(|| std::thread::sleep(Duration::from_millis(1500)));
        }
    }
    let router = Router::new()
        .route("quick", |mut s: Session| async move { s.chan.noop().await })
        .route("slow", |mut s: Session| async move {
            let _slow = Slow;
            s.chan.noop().await
        });
    let (addr, stop, task) = start_graced(router, Duration::from_secs(1)).await;
    let mut slow = Asterisk::connect(addr, "slow").await;
    let mut quick = Asterisk::connect(addr, "quick").await;
    slow.receive("NOOP").await;
    quick.receive("NOOP").await;
    let stopping = tokio::spawn(shut_down(stop, task));
    // Answered once the shutdown has surely started (probing with
    // connections would add sessions of its own to the report).
    tokio::time::sleep(Duration::from_millis(200)).await;
    quick.writer.write_all(b"200 result=0\n").await.unwrap();
    // Finished well within the grace period.
    assert!(quick.closed_within(Duration::from_millis(500)).await);
    let (report, _) = stopping.await.unwrap();
    assert_eq!((report.finished, report.cut), (1, 1));
}

/// A silent peer dropped at its deadline leaves a session in flight
/// undisturbed, and that session can still be cut afterwards.
#[tokio::test]
async fn another_sessions_deadline_leaves_a_running_session_alone() {
    let router = Router::new().route("slow", |mut s: Session| async move {
        s.chan.noop().await?;
        s.chan.noop().await?;
        s.chan.noop().await
    });
    let (addr, stop, task) = start_graced(router, Duration::from_millis(300)).await;
    let mut running = Asterisk::connect(addr, "slow").await;
    running.receive("NOOP").await;
    // A peer that sends nothing is dropped at its deadline meanwhile.
    let mut silent = TcpStream::connect(addr).await.unwrap();
    let (closed, _) = read_to_close(&mut silent, Duration::from_secs(2)).await;
    assert!(matches!(closed, Ok(Ok(0))), "{closed:?}");
    running.writer.write_all(b"200 result=0\n").await.unwrap();
    running.expect("NOOP", "200 result=0\n").await;
    // Its third NOOP is never answered: the shutdown cuts it at once.
    let (report, took) = shut_down(stop, task).await;
    assert_eq!((report.finished, report.cut), (0, 1));
    assert!(running.closed_within(Duration::from_millis(200)).await);
    assert!(
        took < Duration::from_millis(1200),
        "the cut did not reach the session: {took:?}"
    );
}

/// Every session's socket has TCP_NODELAY, whether the system copied it
/// from the listener (checked on the first connection) or the server set it.
#[tokio::test]
async fn sessions_have_tcp_nodelay() {
    let router = Router::new().route("nodelay", |mut s: Session| async move {
        let nodelay = s.chan.get_ref().nodelay()?;
        s.chan.verbose(&format!("nodelay={nodelay}")).await
    });
    let (addr, _stop, _task) = start(config(), router).await;
    for _ in 0..3 {
        let mut peer = Asterisk::connect(addr, "nodelay").await;
        peer.expect("VERBOSE nodelay=true", "200 result=1\n").await;
        assert!(peer.closed_within(Duration::from_secs(2)).await);
    }
}

/// Reports the accepted socket's keepalive settings in a VERBOSE command.
fn keepalive_reporter() -> Router {
    Router::new().route("ka", |mut s: Session| async move {
        use rustix::net::sockopt;
        let stream = s.chan.get_ref();
        let on = sockopt::socket_keepalive(stream)?;
        let idle = sockopt::tcp_keepidle(stream)?.as_secs();
        let every = sockopt::tcp_keepintvl(stream)?.as_secs();
        let probes = sockopt::tcp_keepcnt(stream)?;
        let report = format!("keepalive={on} idle={idle} every={every} probes={probes}");
        s.chan.verbose(&report).await?;
        Ok::<(), BoxError>(())
    })
}

/// Accepted connections get TCP keepalive from the listener (a dead peer
/// ends its session instead of holding its slot); `None` leaves it off.
#[tokio::test]
async fn sessions_inherit_tcp_keepalive() {
    let config = ServerConfig {
        keepalive: Some(Duration::from_secs(20)),
        ..config()
    };
    let (addr, _stop, _task) = start(config, keepalive_reporter()).await;
    let mut peer = Asterisk::connect(addr, "ka").await;
    let report = r#"VERBOSE "keepalive=true idle=20 every=5 probes=4""#;
    peer.expect(report, "200 result=1\n").await;
    let config = ServerConfig {
        keepalive: None,
        ..self::config()
    };
    let (addr, _stop, _task) = start(config, keepalive_reporter()).await;
    let mut peer = Asterisk::connect(addr, "ka").await;
    let mut line = String::new();
    peer.reader.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("VERBOSE \"keepalive=false "), "{line}");
}

/// On a dual-stack `[::]` listener an IPv4 peer arrives as
/// `::ffff:127.0.0.1`; the allow-list entry `127.0.0.1` still admits it,
/// so does `::ffff:127.0.0.1` on either listener, and a list without it
/// still refuses it (closed, nothing sent).
#[tokio::test]
async fn allow_list_matches_ipv4_peers_on_a_dual_stack_listener() {
    let dual_stack = SocketAddr::new(Ipv6Addr::UNSPECIFIED.into(), 0);
    let allowed = ServerConfig {
        bind: dual_stack,
        allow: Some(vec![Ipv4Addr::LOCALHOST.into()]),
        ..config()
    };
    if Server::bind(allowed.clone(), greeter()).await.is_err() {
        eprintln!("no IPv6 on this machine: dual-stack listener not tested");
        return;
    }
    // Connected from 127.0.0.1 to the listener's port.
    let ipv4 = |addr: SocketAddr| SocketAddr::new(Ipv4Addr::LOCALHOST.into(), addr.port());
    let (addr, _stop, _task) = start(allowed, greeter()).await;
    let mut peer = Asterisk::connect(ipv4(addr), "other").await;
    peer.expect("NOOP", "200 result=0\n").await;

    // The list may name it in its mapped form too, on either listener.
    let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
    for bind in [dual_stack, config().bind] {
        let config = ServerConfig {
            bind,
            allow: Some(vec![mapped]),
            ..config()
        };
        let (addr, _stop, _task) = start(config, greeter()).await;
        let mut peer = Asterisk::connect(ipv4(addr), "other").await;
        peer.expect("NOOP", "200 result=0\n").await;
    }

    let refused = ServerConfig {
        bind: dual_stack,
        allow: Some(vec!["10.1.2.3".parse().unwrap()]),
        ..config()
    };
    let (addr, _stop, _task) = start(refused, greeter()).await;
    let mut peer = Asterisk::connect(ipv4(addr), "other").await;
    let (closed, received) = read_to_close(&mut peer.reader, Duration::from_secs(2)).await;
    assert!(closed.is_ok(), "left open");
    assert!(received.is_empty(), "served: {received:?}");
}

/// A server that could never serve is refused at `bind`, not left to hang.
#[tokio::test]
async fn zero_max_sessions_is_refused() {
    let config = ServerConfig {
        max_sessions: 0,
        ..config()
    };
    let err = Server::bind(config, Router::new()).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("max_sessions"), "{err}");
}

/// A handler that stops sending commands is closed after the idle
/// timeout; a command in flight longer than that is not idle, and short
/// gaps between many commands never add up to it.
#[tokio::test]
async fn idle_timeout_closes_a_stalled_handler_only() {
    let router = Router::new()
        .route("stall", |mut s: Session| async move {
            // Late enough that closing one period after the start, rather
            // than after the command, would show.
            tokio::time::sleep(Duration::from_millis(200)).await;
            s.chan.noop().await?;
            std::future::pending::<()>().await;
            Ok::<_, agi_client::Error>(())
        })
        .route("wait-then-stall", |mut s: Session| async move {
            // Idle first (the timer starts), then a command still in flight
            // when that timer fires, then stalled for good.
            tokio::time::sleep(Duration::from_millis(100)).await;
            s.chan.noop().await?;
            std::future::pending::<()>().await;
            Ok::<_, agi_client::Error>(())
        })
        .route("busy", |mut s: Session| async move {
            for _ in 0..8 {
                s.chan.noop().await?;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            s.chan.verbose("done").await
        });
    let config = ServerConfig {
        idle_timeout: Some(Duration::from_millis(300)),
        ..config()
    };
    let (addr, _stop, _task) = start(config, router).await;

    // A handler that stalls after its NOOP is closed, 300 ms or more after
    // the reply. With the reply 400 ms late, the first timer fires while
    // the NOOP is in flight; the stall still counts from the reply.
    for (script, reply_delay) in [
        ("stall", Duration::ZERO),
        ("wait-then-stall", Duration::from_millis(400)),
    ] {
        let mut a = Asterisk::connect(addr, script).await;
        a.expect_late("NOOP", "200 result=0\n", reply_delay).await;
        let after = a.time_to_close().await;
        assert!(
            after >= Duration::from_millis(300),
            "{script}: closed {after:?} after the reply"
        );
    }

    // A reply that takes 600 ms: a command in flight, not idle.
    let mut slow = Asterisk::connect(addr, "busy").await;
    slow.expect_late("NOOP", "200 result=0\n", Duration::from_millis(600))
        .await;
    // Then 7 more commands 100 ms apart: 700 ms in all, never 300 idle.
    for _ in 0..7 {
        slow.expect("NOOP", "200 result=0\n").await;
    }
    slow.expect("VERBOSE done", "200 result=1\n").await;
    assert!(slow.closed_within(Duration::from_secs(2)).await);
}

/// After a command's `-1` the channel waits briefly for Asterisk's hangup
/// notice. A handler that gives up on the command during that wait (a
/// `select!`) keeps a channel the idle timeout still watches: a long
/// command after it is in flight, not idle.
#[tokio::test]
async fn a_command_dropped_while_awaiting_the_notice_leaves_the_channel_watched() {
    // What the handler saw, told to the test: the server catches a
    // handler's panic, so a panic there would lose its message.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let router = Router::new().route("impatient", move |mut s: Session| {
        let tx = tx.clone();
        async move {
            // The reply comes at once, and the wait for a notice lasts 3 s:
            // the timer ends the command during the wait (checked first, in
            // case a slow machine finds both ready).
            let timer_first = tokio::select! {
                biased;
                _ = tokio::time::sleep(Duration::from_millis(500)) => true,
                _ = s.chan.stream_file("beep", agi_proto::EscapeDigits::NONE) => false,
            };
            let _ = tx.send(timer_first);
            s.chan.noop().await?;
            s.chan.exec("Dial", "PJSIP/bob,30").await?;
            s.chan.verbose("done").await
        }
    });
    let config = ServerConfig {
        idle_timeout: Some(Duration::from_millis(100)),
        hangup_notice_wait: Duration::from_secs(3),
        ..config()
    };
    let (addr, _stop, _task) = start(config, router).await;
    let mut a = Asterisk::connect(addr, "impatient").await;
    // A live channel: no notice follows the `-1`.
    a.expect("STREAM FILE beep \"\"", "200 result=-1 endpos=0\n")
        .await;
    assert_eq!(
        rx.recv().await,
        Some(true),
        "the wait for the notice ended before the select's timer"
    );
    // A reply after the select's timer would have poisoned the channel,
    // and the NOOP would never come (a loaded machine?).
    a.expect("NOOP", "200 result=0\n").await;
    // Four idle periods in flight.
    a.expect_late(
        "EXEC Dial PJSIP/bob,30",
        "200 result=0\n",
        Duration::from_millis(400),
    )
    .await;
    a.expect("VERBOSE done", "200 result=1\n").await;
    assert!(a.closed_within(Duration::from_secs(2)).await);
}

/// `session_timeout` bounds each session's handler from its own start, a
/// command in flight included (which the idle timeout does not count): a
/// handler that holds the call past it is closed near the limit, while a
/// shorter session that started later and runs past that moment is
/// unaffected.
#[tokio::test]
async fn session_timeout_closes_a_session_that_runs_too_long_only() {
    let finished = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&finished);
    let router = Router::new()
        .route("long", |mut s: Session| async move {
            // Never answered: a command in flight, not idle.
            s.chan.noop().await
        })
        .route("short", move |mut s: Session| {
            let seen = Arc::clone(&seen);
            async move {
                s.chan.noop().await?;
                tokio::time::sleep(Duration::from_millis(1400)).await;
                s.chan.noop().await?;
                seen.fetch_add(1, Ordering::SeqCst);
                Ok::<_, agi_client::Error>(())
            }
        });
    let limit = Duration::from_secs(2);
    let config = ServerConfig {
        session_timeout: Some(limit),
        ..config()
    };
    let (addr, stop, task) = start(config, router).await;
    let started = Instant::now();
    let mut long = Asterisk::connect(addr, "long").await;
    long.receive("NOOP").await;
    // The short session starts 800 ms later and ends 1.4 s after that,
    // after the long one is closed, within its own 2 s.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let mut short = Asterisk::connect(addr, "short").await;
    short.expect("NOOP", "200 result=0\n").await;
    assert!(long.closed_within(Duration::from_secs(3)).await);
    let after = started.elapsed();
    assert!(
        after >= limit && after < limit + Duration::from_millis(800),
        "closed {after:?} after it started"
    );
    short.expect("NOOP", "200 result=0\n").await;
    assert!(short.closed_within(Duration::from_secs(2)).await);
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "the short session was cut"
    );
    let (report, _) = shut_down(stop, task).await;
    assert_eq!((report.finished, report.cut), (0, 0));
}

/// The defaults that matter for safety: loopback only, every such peer
/// allowed, a bounded number of sessions with the excess waiting in a
/// backlog deep enough for bursts, bounded waits for the environment and
/// for an idle handler, no limit on a call's length, TCP keepalive (a dead
/// peer's session fails), a grace period at shutdown, and no SIGHUP
/// handling (that is for standard AGI).
#[test]
fn server_config_defaults() {
    let config = ServerConfig::default();
    assert_eq!(config.bind, "127.0.0.1:4573".parse().unwrap());
    assert_eq!(config.allow, None);
    assert_eq!(config.max_sessions, 4096);
    assert_eq!(config.overflow, Overflow::Wait);
    assert_eq!(config.backlog, 4096);
    assert_eq!(config.idle_timeout, Some(Duration::from_secs(60)));
    assert_eq!(config.session_timeout, None);
    assert_eq!(config.keepalive, Some(Duration::from_secs(60)));
    assert_eq!(config.shutdown_grace, Duration::from_secs(30));
    assert_eq!(config.hangup_notice_wait, Duration::from_millis(100));
    assert_eq!(config.session.env_timeout, Some(Duration::from_secs(10)));
    assert_eq!(config.session.command_timeout, None);
    assert!(!config.session.handle_sighup);
    assert_eq!(config.session.limits, agi_proto::Limits::default());
}

/// A handler that blocks its thread cannot be cut: the shutdown does not wait
/// for it past the cut, and reports it as cut rather than finished.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_blocking_its_thread_is_reported_as_cut() {
    let router = Router::new().route("block", |mut s: Session| async move {
        s.chan.noop().await?;
        // Does not return to the runtime for 3 s; `block_in_place` moves the
        // worker's other tasks (the server's among them) to another thread,
        // as a runtime with a blocking handler would want.
        tokio::task::block_in_place(|| std::thread::sleep(Duration::from_secs(3)));
        Ok::<_, agi_client::Error>(())
    });
    let (addr, stop, task) = start_graced(router, Duration::from_millis(200)).await;
    let mut a = Asterisk::connect(addr, "block").await;
    a.expect("NOOP", "200 result=0\n").await;
    let (report, took) = shut_down(stop, task).await;
    assert_eq!((report.finished, report.cut), (0, 1));
    assert!(
        took < Duration::from_millis(2500),
        "the shutdown waited for the blocked handler: {took:?}"
    );
}

/// What a "call" session saw of its prompt.
#[derive(Debug)]
struct Played {
    /// The prompt failed.
    failed: bool,
    /// The channel knew of a hangup when the prompt returned.
    hung_up: bool,
    /// The CHANNEL STATUS after it (`Err(true)`: refused as a dead channel).
    after: Result<Option<agi_proto::ChannelState>, bool>,
    /// How long the prompt took.
    took: Duration,
}

/// A "call" script that plays `demo-congrats`, then asks CHANNEL STATUS,
/// and reports what it saw.
fn plays_a_prompt() -> (Router, tokio::sync::mpsc::UnboundedReceiver<Played>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let router = Router::new().route("call", move |mut s: Session| {
        let tx = tx.clone();
        async move {
            let started = Instant::now();
            let played = s
                .chan
                .stream_file("demo-congrats", agi_proto::EscapeDigits::NONE)
                .await;
            let took = started.elapsed();
            let hung_up = s.chan.is_hung_up();
            let after = s.chan.channel_status().await;
            tx.send(Played {
                failed: played.is_err(),
                hung_up,
                after: after.map_err(|e| e.is_dead_channel()),
                took,
            })
            .unwrap();
            Ok::<_, agi_client::Error>(())
        }
    });
    (router, rx)
}

/// A "call" whose prompt Asterisk answers with `reply`, then, 10 ms
/// later and in a write of its own, `later` (when not empty).
async fn prompt(addr: SocketAddr, reply: &str, later: &[u8]) -> Asterisk {
    let mut a = Asterisk::connect(addr, "call").await;
    a.expect("STREAM FILE demo-congrats \"\"", reply).await;
    if !later.is_empty() {
        tokio::time::sleep(Duration::from_millis(10)).await;
        a.writer.write_all(later).await.unwrap();
    }
    a
}

/// A hangup during a command: its `-1` comes first, Asterisk's `HANGUP`
/// notice right after, in the same read or a later one. The handler sees
/// the hangup either way; on a live channel (a missing prompt) nothing
/// follows the `-1` and the session goes on.
#[tokio::test]
async fn hangup_during_a_handler_is_seen() {
    let (router, mut rx) = plays_a_prompt();
    // A wait long enough that ending it by its timer cannot pass for
    // ending it at once, on a loaded machine too. (The wait itself, to
    // the millisecond, is tested on a paused clock in `aio::channel`.)
    let config = ServerConfig {
        hangup_notice_wait: Duration::from_secs(1),
        ..config()
    };
    let (addr, _stop, _task) = start(config, router).await;
    let dead = "511 Command Not Permitted on a dead channel or intercept routine\n";
    let interrupted = "200 result=-1 endpos=12000\n";
    let missing = "200 result=-1 endpos=0\n";

    // The notice in the same write as the reply, then a moment after it
    // in a read of its own.
    for (reply, later) in [
        (&format!("{interrupted}HANGUP\n")[..], &b""[..]),
        (interrupted, b"HANGUP\n"),
    ] {
        let mut a = prompt(addr, reply, later).await;
        a.expect("CHANNEL STATUS", dead).await;
        let p = rx.recv().await.unwrap();
        assert!(
            p.failed && p.hung_up && p.after == Err(true),
            "{later:?}: {p:?}"
        );
    }

    // The notice, then the start of the next line, a moment later: the
    // wait ends with the notice, not when that line is complete (the rest
    // of it comes after the next command, as a reply would). Ended at
    // once, not by the wait's timer: the bound is the wait's whole length,
    // not a speed target.
    let mut a = prompt(addr, interrupted, b"HANGUP\n5").await;
    a.expect("CHANNEL STATUS", &dead[1..]).await;
    let p = rx.recv().await.unwrap();
    assert!(p.failed && p.hung_up && p.after == Err(true), "{p:?}");
    assert!(p.took < Duration::from_secs(1), "{p:?}");

    // A live channel: no notice comes, the failure pays the configured
    // wait in full (so `hangup_notice_wait` reached the session; a lower
    // bound), and the next command is answered.
    let mut a = prompt(addr, missing, b"").await;
    a.expect("CHANNEL STATUS", "200 result=6\n").await;
    let p = rx.recv().await.unwrap();
    assert!(p.failed && !p.hung_up, "{p:?}");
    assert_eq!(p.after, Ok(Some(agi_proto::ChannelState::Up)));
    assert!(p.took >= Duration::from_secs(1), "{p:?}");

    // Bytes other than a notice end the wait (at once, as above) and stay
    // for the next command (here, ahead of time, its reply).
    let mut a = prompt(addr, &format!("{missing}200 result=4\n"), b"").await;
    a.receive("CHANNEL STATUS").await;
    let p = rx.recv().await.unwrap();
    assert!(p.failed && !p.hung_up, "{p:?}");
    assert!(p.took < Duration::from_secs(1), "{p:?}");
    assert_eq!(p.after, Ok(Some(agi_proto::ChannelState::Ring)));
}
