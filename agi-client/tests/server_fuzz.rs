//! The FastAGI server against random hostile peers: whatever a peer sends
//! (environment blocks with junk lines, cut short, in pieces; replies that
//! are garbage, partial, floods of HANGUP, unfinished usage blocks, lines
//! past the limit) and however it ends (silence, FIN, RST), its connection
//! ends within the configured deadlines, nothing panics, and the server
//! goes on serving well-behaved calls.

mod common;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use agi_client::Options;
use agi_client::server::{Router, Server, ServerConfig, Session};
use agi_proto::{EscapeDigits, Limits};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Every deadline of the server below is 300 ms (the idle one closes
/// between 300 and 600 ms); a connection still open this long after its
/// peer's last move was held by the server.
const BOUND: Duration = Duration::from_secs(5);

/// Longest reply line the server takes.
const MAX_LINE: usize = 256;

/// One hostile peer: how it opens, and how it answers each command.
#[derive(Debug, Clone)]
struct Peer {
    /// What it sends first, written in pieces.
    opening: Vec<Vec<u8>>,
    /// One move per command the server sends; once they run out, silence.
    answers: Vec<Answer>,
}

#[derive(Debug, Clone)]
enum Answer {
    /// A reply the command takes as success (see `good_reply`), after
    /// `hangups` HANGUP lines, ending in CRLF when `crlf`.
    Good {
        hangups: usize,
        alt: bool,
        crlf: bool,
    },
    /// These bytes (a reply or not, whole lines or not), then the next
    /// command is awaited.
    Write(Vec<u8>),
    /// Stops sending and waits for the server to close.
    Silence,
    /// Half-closes and waits for the server to close.
    Fin,
    /// Resets the connection (a zero linger).
    Reset,
}

/// A byte a hostile peer favours: line ends, separators, NUL, digits.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => any::<u8>(),
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b':'),
        1 => Just(b' '),
        1 => Just(0u8),
        1 => b'0'..=b'9',
    ]
}

fn junk(max: usize) -> impl Strategy<Value = Vec<u8>> {
    vec(byte(), 0..max)
}

/// Junk without a line feed, `len` bytes long.
fn one_line(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    vec(byte().prop_filter("one line", |&b| b != b'\n'), len)
}

/// An environment block for `script`, junk lines among its lines, LF or
/// CRLF, complete or cut short; or bytes that are no block at all.
fn opening_bytes() -> impl Strategy<Value = Vec<u8>> {
    let script = prop_oneof![
        3 => Just(b"fuzz".to_vec()),
        1 => Just(b"fuzz?a=1&b".to_vec()),
        1 => one_line(0..24),
    ];
    let block = (
        script,
        // Not empty: an empty line would end the block early (the raw
        // openings below cover that).
        vec((0..8usize, one_line(1..40)), 0..3),
        any::<bool>(),
        prop_oneof![3 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)],
    )
        .prop_map(|(script, junk_lines, crlf, cut)| {
            let mut lines: Vec<Vec<u8>> = vec![
                b"agi_network: yes".to_vec(),
                [&b"agi_network_script: "[..], &script].concat(),
                b"agi_request: agi://127.0.0.1/fuzz".to_vec(),
                b"agi_channel: SIP/bob-1".to_vec(),
                b"agi_uniqueid: 1.2".to_vec(),
                b"agi_version: 22.6.0".to_vec(),
            ];
            for (at, line) in junk_lines {
                // Not first: a block must start with an `agi_` name.
                lines.insert(1 + at % lines.len(), line);
            }
            lines.push(Vec::new());
            let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
            let mut bytes: Vec<u8> = lines.iter().flat_map(|l| [&l[..], end].concat()).collect();
            if let Some(cut) = cut {
                bytes.truncate(cut.index(bytes.len()));
            }
            bytes
        });
    prop_oneof![
        8 => block,
        1 => junk(300),
        1 => Just([&b"agi_request: "[..], &[b'x'; 2 * MAX_LINE]].concat()),
    ]
}

/// The opening, cut into pieces at random points.
fn opening() -> impl Strategy<Value = Vec<Vec<u8>>> {
    (opening_bytes(), vec(any::<prop::sample::Index>(), 0..4)).prop_map(|(bytes, cuts)| {
        let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
        at.sort_unstable();
        at.push(bytes.len());
        let mut start = 0;
        at.into_iter()
            .map(|end| {
                let piece = bytes[start..end].to_vec();
                start = end;
                piece
            })
            .collect()
    })
}

/// A reply Asterisk could send, or a piece of one, or not.
fn reply_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop_oneof![
            Just(&b"200 result=0\n"[..]),
            Just(&b"200 result=1 (SIP/bob)\n"[..]),
            Just(&b"200 result=-1\n"[..]),
            Just(&b"HANGUP\n"[..]),
            Just(&b"510 Invalid or unknown command\n"[..]),
            Just(&b"511 Command Not Permitted on a dead channel or intercept routine\n"[..]),
            Just(&b"520-Invalid command syntax.  Proper usage follows:\n"[..]),
            Just(&b"520 End of proper usage.\n"[..]),
            Just(&b"200 result=\n"[..]),
            Just(&b"200 result=1 endpos=-1\n"[..]),
        ]
        .prop_map(<[u8]>::to_vec),
        2 => junk(40),
        1 => junk(40).prop_map(|mut l| { l.push(b'\n'); l }),
        1 => Just(vec![b'7'; MAX_LINE + 10]),
    ]
}

fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        12 => (0..3usize, any::<bool>(), any::<bool>())
            .prop_map(|(hangups, alt, crlf)| Answer::Good { hangups, alt, crlf }),
        4 => vec(reply_piece(), 1..4).prop_map(|p| Answer::Write(p.concat())),
        1 => Just(Answer::Silence),
        1 => Just(Answer::Fin),
        1 => Just(Answer::Reset),
    ]
}

fn peer() -> impl Strategy<Value = Peer> {
    (opening(), vec(answer(), 0..12)).prop_map(|(opening, answers)| Peer { opening, answers })
}

/// A handler that runs through several kinds of command and reply shape
/// until one fails.
async fn handler(mut s: Session) -> Result<(), agi_client::Error> {
    for _ in 0..2 {
        s.chan.noop().await?;
        s.chan.get_variable("X").await?;
        s.chan.exec("Wait", "1").await?;
        s.chan.get_data("beep", Duration::from_secs(2), 4).await?;
        s.chan.stream_file("beep", EscapeDigits::ANY).await?;
        s.chan.database_get("cid", "101").await?;
    }
    Ok(())
}

/// Commands the handler sends on a good call.
const COMMANDS: usize = 12;

/// A reply `command` takes as success; `alt` picks between two where the
/// command has two (a value or none, digits or none).
fn good_reply(command: &[u8], alt: bool) -> &'static [u8] {
    let pick = |a: &'static [u8], b: &'static [u8]| if alt { a } else { b };
    if command.starts_with(b"GET VARIABLE") || command.starts_with(b"DATABASE GET") {
        pick(b"200 result=1 (x)", b"200 result=0")
    } else if command.starts_with(b"GET DATA") {
        // Empty when no key was pressed, as Asterisk sends it.
        pick(b"200 result=12", b"200 result=")
    } else if command.starts_with(b"STREAM FILE") {
        b"200 result=0 endpos=8000"
    } else {
        b"200 result=0"
    }
}

fn config() -> ServerConfig {
    ServerConfig {
        bind: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        session: Options {
            env_timeout: Some(Duration::from_millis(300)),
            command_timeout: Some(Duration::from_millis(300)),
            limits: Limits {
                max_line: MAX_LINE,
                max_block: 1024,
                ..Limits::default()
            },
            handle_sighup: false,
        },
        idle_timeout: Some(Duration::from_millis(300)),
        shutdown_grace: Duration::from_secs(2),
        ..ServerConfig::default()
    }
}

/// Plays `peer`; `Err` when the server held its connection past `BOUND`
/// after the peer's last move.
async fn play(addr: SocketAddr, peer: Peer) -> Result<(), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (r, mut w) = stream.into_split();
    for piece in &peer.opening {
        // The server may have closed already: the checks below still hold.
        let _ = w.write_all(piece).await;
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let mut reader = BufReader::new(r);
    let mut line = Vec::new();
    for answer in peer.answers {
        line.clear();
        match tokio::time::timeout(BOUND, reader.read_until(b'\n', &mut line)).await {
            Err(_) => return Err(format!("no command nor close within {BOUND:?}")),
            // Closed (FIN or RST): done.
            Ok(Ok(0) | Err(_)) => return Ok(()),
            Ok(Ok(_)) => {}
        }
        match answer {
            Answer::Good { hangups, alt, crlf } => {
                let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
                let hangups = b"HANGUP\n".repeat(hangups);
                let _ = w
                    .write_all(&[&hangups, good_reply(&line, alt), end].concat())
                    .await;
            }
            Answer::Write(bytes) => {
                let _ = w.write_all(&bytes).await;
            }
            Answer::Silence => break,
            Answer::Fin => {
                let _ = w.shutdown().await;
                break;
            }
            Answer::Reset => {
                let _ = rustix::net::sockopt::set_socket_linger(w.as_ref(), Some(Duration::ZERO));
                return Ok(());
            }
        }
    }
    let mut rest = Vec::new();
    match tokio::time::timeout(BOUND, reader.read_to_end(&mut rest)).await {
        Err(_) => Err(format!("not closed within {BOUND:?} of the last move")),
        Ok(_) => Ok(()),
    }
}

/// A well-behaved call, answered in full (the other reply of each pair in
/// the second round).
async fn good_call(addr: SocketAddr) {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (r, mut w) = stream.into_split();
    w.write_all(b"agi_network: yes\nagi_network_script: fuzz\nagi_uniqueid: 9.9\n\n")
        .await
        .unwrap();
    let mut reader = BufReader::new(r);
    let mut commands = 0;
    loop {
        let mut line = String::new();
        let n = tokio::time::timeout(BOUND, reader.read_line(&mut line))
            .await
            .expect("the server answers a good call")
            .unwrap();
        if n == 0 {
            break;
        }
        commands += 1;
        let reply = [good_reply(line.as_bytes(), commands > COMMANDS / 2), b"\n"].concat();
        w.write_all(&reply).await.unwrap();
    }
    assert_eq!(commands, COMMANDS, "the whole handler ran");
}

/// Runs `peers` at once against a fresh server, then a good call, then a
/// shutdown that must find nothing to cut; nothing may be logged at ERROR
/// (a panic, caught or not).
fn check(peers: Vec<Peer>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (logs, _guard) = common::Logs::capture(tracing::Level::WARN);
    let outcome: Result<(), String> = rt.block_on(async {
        let router = Router::new().route("fuzz", handler);
        let server = Server::bind(config(), router).await.unwrap();
        let addr = server.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(server.serve_until(async {
            let _ = stopped.await;
        }));
        let plays: Vec<_> = peers
            .into_iter()
            .map(|p| tokio::spawn(play(addr, p)))
            .collect();
        let mut held = Vec::new();
        for (i, play) in plays.into_iter().enumerate() {
            if let Err(e) = play.await.unwrap() {
                held.push(format!("peer {i}: {e}"));
            }
        }
        good_call(addr).await;
        stop.send(()).unwrap();
        let report = serving.await.unwrap();
        if !held.is_empty() {
            return Err(held.join("; "));
        }
        if report.cut != 0 {
            return Err(format!(
                "{} sessions were still open at shutdown",
                report.cut
            ));
        }
        Ok(())
    });
    prop_assert!(outcome.is_ok(), "{}", outcome.unwrap_err());
    let text = logs.text();
    prop_assert!(!text.contains("ERROR"), "logged at ERROR:\n{text}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // About a quarter of a second each; PROPTEST_CASES=2000 for a
        // longer search.
        cases: 24,
        // A failing case waits out BOUND, so shrinking one takes minutes.
        max_shrink_iters: 32,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_peers_end_promptly_and_the_server_serves_on(peers in vec(peer(), 1..8)) {
        check(peers)?;
    }
}
