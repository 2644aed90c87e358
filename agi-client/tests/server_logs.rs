//! The server's logs: one span per session naming the peer, Asterisk's
//! unique id and the script, around every line the session logs. (Its own
//! test binary: the log collector is installed for the test's thread.)

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use agi_client::server::{Router, ServerConfig, Session};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

use common::{LOOPBACK, Logs, shut_down, start};

/// Connects and sends an environment block for `script` with uniqueid
/// `uid`: the connection's local address, what it reads, where it writes.
async fn connect(
    addr: SocketAddr,
    script: &str,
    uid: &str,
) -> (SocketAddr, BufReader<OwnedReadHalf>, OwnedWriteHalf) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let local = stream.local_addr().unwrap();
    let (r, mut w) = stream.into_split();
    let env = format!(
        "agi_network: yes\nagi_network_script: {script}\nagi_uniqueid: {uid}\nagi_version: 22.6.0\n\n"
    );
    w.write_all(env.as_bytes()).await.unwrap();
    (local, BufReader::new(r), w)
}

/// Runs one session of `script` (uniqueid `uid`), answering a NOOP if the
/// handler sends one, until the server closes the connection.
async fn session(addr: SocketAddr, script: &str, uid: &str) -> String {
    let (local, mut r, mut w) = connect(addr, script, uid).await;
    let peer = local.to_string();
    let mut line = String::new();
    let read = async {
        while r.read_line(&mut line).await.unwrap() > 0 {
            if line == "NOOP\n" {
                // Scripts named `dead…` run on a channel already hung up;
                // `junk…` ones get bytes that are not AGI.
                let reply = if script.starts_with("dead") {
                    "511 Command Not Permitted on a dead channel or intercept routine\n"
                } else if script.starts_with("junk") {
                    "garbage\n"
                } else {
                    "200 result=0\n"
                };
                w.write_all(reply.as_bytes()).await.unwrap();
            }
            line.clear();
        }
        let _ = r.read_to_end(&mut Vec::new()).await;
    };
    tokio::time::timeout(Duration::from_secs(3), read)
        .await
        .expect("the server closes the session");
    peer
}

/// An error of the handler's own around the channel's.
#[derive(Debug)]
struct Wrapped(agi_client::Error);

impl std::fmt::Display for Wrapped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("could not play the menu")
    }
}

impl std::error::Error for Wrapped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// Panics when dropped.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("bomb");
    }
}

#[tokio::test]
async fn each_session_logs_in_a_span_with_peer_uniqueid_and_script() {
    let (logs, _guard) = Logs::capture(tracing::Level::TRACE);

    let router = Router::new()
        .route("works", |mut s: Session| async move { s.chan.noop().await })
        .route("fails", |mut s: Session| async move {
            s.chan.noop().await?;
            Err::<(), agi_client::server::BoxError>("database down".into())
        })
        .route("drops-badly", |mut s: Session| async move {
            // Dropped at the session timeout, outside the handler's poll.
            let _bomb = Bomb;
            s.chan.verbose("never answered").await
        })
        // The caller hung up: `?` on the next command ends the handler.
        .route("dead", |mut s: Session| async move {
            s.chan.noop().await?;
            s.chan.noop().await
        })
        .route("dead-wrapped", |mut s: Session| async move {
            s.chan.noop().await.map_err(Wrapped)?;
            Ok::<(), Wrapped>(())
        })
        // Wrapped in our own error type, as an I/O error's payload.
        .route("dead-in-io", |mut s: Session| async move {
            s.chan
                .noop()
                .await
                .map_err(|e| agi_client::Error::Io(std::io::Error::other(e)))
        })
        .route("panics", |mut s: Session| async move {
            s.chan.noop().await?;
            if true {
                panic!("handler bug");
            }
            Ok::<(), agi_client::Error>(())
        })
        // Panics in the closure's own body, before making its future.
        .route("panics-early", |s: Session| {
            if s.query().get("x").is_none() {
                panic!("early bug");
            }
            async move {
                drop(s);
                Ok::<(), agi_client::Error>(())
            }
        });
    let config = ServerConfig {
        bind: LOOPBACK,
        session_timeout: Some(Duration::from_millis(300)),
        ..ServerConfig::default()
    };
    let (addr, stop, task) = start(config, router).await;

    let works = session(addr, "works", "1700000000.1").await;
    let fails = session(addr, "fails?x=1", "1700000000.2").await;
    let unknown = session(addr, "nobody", "1700000000.3").await;
    let panicked = session(addr, "panics", "1700000000.4").await;
    let early = session(addr, "panics-early", "1700000000.9").await;
    let dead = session(addr, "dead", "1700000000.6").await;
    let wrapped = session(addr, "dead-wrapped", "1700000000.7").await;
    let in_io = session(addr, "dead-in-io", "1700000000.8").await;
    session(addr, "drops-badly", "1700000000.5").await;
    // The peer's bytes are escaped in the log (no terminal escapes).
    let odd = session(addr, "works", "17\x1b[2J.5").await;
    // Health checks: one closes with FIN, one with RST (a zero linger, as
    // some load balancers do), neither sending a byte.
    drop(TcpStream::connect(addr).await.unwrap());
    let reset = TcpStream::connect(addr).await.unwrap();
    rustix::net::sockopt::set_socket_linger(&reset, Some(Duration::ZERO)).unwrap();
    drop(reset);
    tokio::time::sleep(Duration::from_millis(50)).await;
    shut_down(stop, task).await;

    let text = logs.text();
    let span = |peer: &str, uid: &str, script: &str| {
        format!("agi{{peer={peer} uniqueid={uid} script={script}}}")
    };
    let logged = |level: &str, span: &str, message: &str| {
        text.lines()
            .any(|l| l.contains(level) && l.contains(span) && l.contains(message))
    };
    let ok = span(&works, "1700000000.1", "works");
    assert!(logged("DEBUG", &ok, "session starts"), "{text}");
    assert!(logged("DEBUG", &ok, "session ends"), "{text}");
    // The query string is not logged (the span ends after the path).
    let failed = span(&fails, "1700000000.2", "fails");
    assert!(logged("DEBUG", &failed, "session starts"), "{text}");
    let error = "handler failed; connection closed error=database down";
    assert!(logged("WARN", &failed, error), "{text}");
    let none = span(&unknown, "1700000000.3", "nobody");
    assert!(
        logged("WARN", &none, "no handler for this script"),
        "{text}"
    );
    let bug = span(&panicked, "1700000000.4", "panics");
    let panic = "the handler panicked; connection closed panic=handler bug";
    assert!(logged("ERROR", &bug, panic), "{text}");
    let outside = "ERROR agi_client::server::sessions: a session panicked outside its handler";
    assert!(text.contains(outside), "{text}");
    // Caught in the span with its message too, made before its future.
    let early = span(&early, "1700000000.9", "panics-early");
    let panic = "the handler panicked; connection closed panic=early bug";
    assert!(logged("ERROR", &early, panic), "{text}");
    // A handler ended by the hangup is logged at DEBUG only, wrapped or not.
    let ended = "the call ended before the handler did; connection closed";
    let hung_up = span(&dead, "1700000000.6", "dead");
    assert!(logged("DEBUG", &hung_up, ended), "{text}");
    assert!(!logged("DEBUG", &hung_up, "hangup="), "{text}");
    // Wrapped, the hangup is named beside the handler's own message.
    let wrapped = span(&wrapped, "1700000000.7", "dead-wrapped");
    let error = "error=could not play the menu hangup=";
    assert!(
        logged("DEBUG", &wrapped, &format!("{ended} {error}")),
        "{text}"
    );
    // So is a hangup inside an error of the channel's own type.
    let in_io = span(&in_io, "1700000000.8", "dead-in-io");
    assert!(logged("DEBUG", &in_io, ended), "{text}");
    assert!(logged("DEBUG", &in_io, "hangup="), "{text}");
    let escaped = span(&odd, r"17\x1b[2J.5", "works");
    assert!(logged("DEBUG", &escaped, "session starts"), "{text}");
    assert!(!text.contains('\x1b'), "{text}");
    // Both health checks are logged at DEBUG only.
    let quiet = "connection closed before sending anything";
    let checks = text
        .lines()
        .filter(|l| l.contains("DEBUG") && l.contains(quiet));
    assert_eq!(checks.count(), 2, "{text}");
    let warnings = text
        .lines()
        .filter(|l| l.contains("WARN") || l.contains("ERROR"));
    // The five above (the bomb's panic ends its session before the
    // timeout's own warning), none for the three hangups.
    assert_eq!(warnings.count(), 5, "{text}");
    // The lines sent and received (at TRACE) are inside the span too.
    assert!(logged("TRACE", &ok, "> NOOP"), "{text}");
    assert!(logged("TRACE", &ok, "< 200 result=0"), "{text}");
}

/// A command the caller's hangup interrupted fails with `-1`, and
/// Asterisk's `HANGUP` notice follows the reply, in the same read or a
/// later one: a handler that lets that failure out is logged at DEBUG, as
/// any hangup, where the same failure on a live channel (a missing prompt:
/// no notice) is a warning.
#[tokio::test]
async fn a_failure_the_hangup_caused_is_no_warning() {
    let (logs, _guard) = Logs::capture(tracing::Level::DEBUG);
    let router = Router::new().fallback(|mut s: Session| async move {
        s.chan
            .stream_file("demo-congrats", agi_proto::EscapeDigits::NONE)
            .await?;
        Ok::<(), agi_client::Error>(())
    });
    // A wait that a notice 10 ms late meets on a loaded machine too.
    let config = ServerConfig {
        bind: LOOPBACK,
        hangup_notice_wait: Duration::from_secs(1),
        ..ServerConfig::default()
    };
    let (addr, stop, task) = start(config, router).await;
    let played = b"200 result=-1 endpos=12000\n";
    // What follows the reply: with it, or a moment later (a read of its
    // own, as when the handler's task ran first), or nothing.
    let play = |uid: &'static str, with: &'static [u8], later: &'static [u8]| async move {
        let (_, mut r, mut w) = connect(addr, "play", uid).await;
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        assert!(line.starts_with("STREAM FILE"), "{line:?}");
        w.write_all(&[played, with].concat()).await.unwrap();
        if !later.is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
            w.write_all(later).await.unwrap();
        }
        tokio::time::timeout(Duration::from_secs(3), r.read_to_end(&mut Vec::new()))
            .await
            .expect("the server closes the session")
            .unwrap();
    };
    play("1700000003.1", b"", b"HANGUP\n").await;
    play("1700000003.2", b"", b"").await;
    play("1700000003.3", b"HANGUP\n", b"").await;
    shut_down(stop, task).await;

    let text = logs.text();
    let lines = |uid: &str, level: &str| {
        text.lines()
            .filter(|l| l.contains(&format!("uniqueid={uid} ")) && l.contains(level))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    let ended = "the call ended before the handler did; connection closed error=STREAM FILE failed";
    for uid in ["1700000003.1", "1700000003.3"] {
        let hung_up = lines(uid, "DEBUG");
        assert!(hung_up.iter().any(|l| l.contains(ended)), "{uid}: {text}");
        assert!(lines(uid, "WARN").is_empty(), "{uid}: {text}");
    }
    let failed = lines("1700000003.2", "WARN");
    assert!(
        failed.len() == 1 && failed[0].contains("handler failed; connection closed"),
        "{text}"
    );
}

/// A handler whose `Drop` panics when the shutdown cuts its session: logged
/// as a panic outside the handler, as at a timeout, and counted as cut.
#[tokio::test]
async fn a_panic_as_the_cut_drops_a_handler_is_logged_and_counted() {
    let (logs, _guard) = Logs::capture(tracing::Level::INFO);
    let router = Router::new().route("drops-badly", |mut s: Session| async move {
        let _bomb = Bomb;
        s.chan.verbose("never answered").await
    });
    let config = ServerConfig {
        bind: LOOPBACK,
        shutdown_grace: Duration::from_millis(100),
        ..ServerConfig::default()
    };
    let (addr, stop, task) = start(config, router).await;
    // The writer kept open: the session stays in flight.
    let (_, mut r, _w) = connect(addr, "drops-badly", "1700000004.1").await;
    // In flight, its bomb armed, when the shutdown starts: waiting for the
    // reply to the VERBOSE it sent.
    let mut line = String::new();
    r.read_line(&mut line).await.unwrap();
    assert!(line.starts_with("VERBOSE"), "{line:?}");
    let (report, _) = shut_down(stop, task).await;
    assert_eq!((report.finished, report.cut), (0, 1));
    // The cut closed the connection.
    let rest = tokio::time::timeout(Duration::from_secs(3), r.read_to_end(&mut Vec::new())).await;
    assert!(matches!(rest, Ok(Ok(0))), "{rest:?}");
    let text = logs.text();
    let outside = "ERROR agi_client::server::sessions: a session panicked outside its handler";
    assert!(text.contains(outside), "{text}");
}

/// Warnings any peer can trigger at will are logged at most once a second
/// each, the next line counting those left out: twenty refused connections
/// make one line, and the one a second later says nineteen were left out.
#[tokio::test]
async fn refusals_are_logged_at_most_once_a_second() {
    let (logs, _guard) = Logs::capture(tracing::Level::INFO);
    let config = ServerConfig {
        bind: LOOPBACK,
        allow: Some(vec!["10.1.2.3".parse().unwrap()]),
        ..ServerConfig::default()
    };
    let (addr, _stop, _task) = start(config, Router::new()).await;
    let refused = || async {
        let mut peer = TcpStream::connect(addr).await.unwrap();
        let mut rest = Vec::new();
        tokio::time::timeout(Duration::from_secs(3), peer.read_to_end(&mut rest))
            .await
            .expect("refused at once")
            .unwrap();
    };
    logged_once_a_second(&logs, "not on the allow-list", 20, |_| refused()).await;
}

/// Scripts no route serves are such warnings too: any peer names the
/// script, and a dialplan that names one the server lacks sends every call.
#[tokio::test]
async fn unknown_scripts_are_logged_at_most_once_a_second() {
    let (logs, _guard) = Logs::capture(tracing::Level::INFO);
    let config = ServerConfig {
        bind: LOOPBACK,
        ..ServerConfig::default()
    };
    let (addr, _stop, _task) = start(config, Router::new()).await;
    let unknown = |i| async move {
        session(addr, "nobody", &format!("1700000001.{i}")).await;
    };
    logged_once_a_second(&logs, "no handler for this script", 10, unknown).await;
}

/// Makes a warning `times` times at once, then once more a second later:
/// the burst logs one line, and the later one a line that counts the
/// `times - 1` left out.
async fn logged_once_a_second<F, Fut>(logs: &Logs, warning: &str, times: usize, mut make: F)
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    for i in 0..times {
        make(i).await;
    }
    let lines = |text: &str| {
        text.lines()
            .filter(|l| l.contains("WARN") && l.contains(warning))
            .count()
    };
    assert_eq!(lines(&logs.text()), 1, "{}", logs.text());
    tokio::time::sleep(Duration::from_millis(1100)).await;
    make(times).await;
    let text = logs.text();
    assert_eq!(lines(&text), 2, "{text}");
    let left_out = format!("suppressed={}", times - 1);
    assert!(text.contains(&left_out), "{text}");
}

/// A handler ended by a peer that answers with bytes that are not AGI is
/// such a warning too, and the peer's fields are clipped in the span.
#[tokio::test]
async fn replies_that_are_not_agi_are_logged_at_most_once_a_second() {
    let (logs, _guard) = Logs::capture(tracing::Level::INFO);
    let router = Router::new().fallback(|mut s: Session| async move { s.chan.noop().await });
    let config = ServerConfig {
        bind: LOOPBACK,
        ..ServerConfig::default()
    };
    let (addr, _stop, _task) = start(config, router).await;
    let long = format!("junk{}", "x".repeat(300));
    let junk = |i| {
        let long = long.clone();
        async move {
            session(addr, &long, &format!("1700000002.{i}")).await;
        }
    };
    logged_once_a_second(&logs, "not AGI", 10, junk).await;
    let text = logs.text();
    assert!(
        text.contains(&format!("script=junk{}", "x".repeat(124))),
        "{text}"
    );
    assert!(
        !text.contains(&"x".repeat(125)),
        "clipped at 128 bytes: {text}"
    );
}
