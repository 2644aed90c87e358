//! The FastAGI server against random hostile peers, several at once beside
//! a well-behaved call: environment blocks with junk lines, cut short, in
//! pieces, dribbled a byte at a time or past the block limit; replies that
//! are garbage, partial, past the line limit, HANGUP floods, usage blocks
//! unfinished or past the limit; ends by silence, FIN or RST at any point.
//! Each connection must end within 3 s of the peer's last move (the
//! deadlines are 300-600 ms), a peer whose block and replies are all good
//! must be served to the end, nothing may be logged at ERROR (a panic,
//! caught or not), and shutdown must find nothing left to cut.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use agi_client::Options;
use agi_client::server::{Router, ServerConfig, Session};
use agi_proto::{EscapeDigits, Limits};
use common::{LOOPBACK, asterisk_line, hostile_byte, junk, start};
use proptest::collection::vec;
use proptest::prelude::*;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::net::tcp::OwnedWriteHalf;

/// The server's deadlines and limits here (see `config`).
const ENV_TIMEOUT: Duration = Duration::from_millis(300);
const COMMAND_TIMEOUT: Duration = Duration::from_millis(600);
/// The longest deadline is `COMMAND_TIMEOUT`; a connection still open this
/// long after its peer's last move was held by the server.
const BOUND: Duration = Duration::from_secs(3);
const MAX_LINE: usize = 256;
const MAX_BLOCK: usize = 1024;

/// One hostile peer.
#[derive(Debug, Clone)]
struct Peer {
    /// What it sends first, written in pieces.
    opening: Vec<Vec<u8>>,
    /// The opening is a whole block routed to `fuzz`: the server must
    /// serve it for as long as every answer is `Good`.
    routable: bool,
    /// The opening goes a byte every 25 ms, so that any block takes longer
    /// than the environment deadline.
    dribble: bool,
    /// Ends right after the opening, before any command.
    end_early: Option<End>,
    /// One move per command the server sends; once they run out, silence.
    answers: Vec<Answer>,
}

/// A peer's move after reading a command.
#[derive(Debug, Clone)]
enum Answer {
    /// A reply the command takes as success (see `good_reply`, which `alt`
    /// picks in), after `hangups` HANGUP lines, ending in CRLF when `crlf`.
    Good {
        hangups: usize,
        alt: bool,
        crlf: bool,
    },
    /// These bytes (a reply or not, whole lines or not), then the next
    /// command is awaited.
    Write(Vec<u8>),
    End(End),
}

/// How a peer stops.
#[derive(Debug, Clone, Copy)]
enum End {
    /// Stops sending and waits for the server to close.
    Silence,
    /// Half-closes and waits for the server to close.
    Fin,
    /// Resets the connection (a zero linger).
    Reset,
}

/// Junk without a line feed, `len` bytes long.
fn one_line(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    vec(hostile_byte().prop_filter("one line", |&b| b != b'\n'), len)
}

/// An environment block, junk lines among its lines, LF or CRLF, complete
/// or cut short, and whether it is routable; or bytes that are no block.
fn opening_bytes() -> impl Strategy<Value = (Vec<u8>, bool)> {
    let script = prop_oneof![
        3 => Just((b"fuzz".to_vec(), true)),
        1 => Just((b"fuzz?a=1&b".to_vec(), true)),
        1 => one_line(0..24).prop_map(|s| (s, false)),
    ];
    let junk_line = one_line(1..40);
    let block = (
        script,
        vec((0..8usize, junk_line), 0..3),
        any::<bool>(),
        prop_oneof![3 => Just(None), 1 => any::<prop::sample::Index>().prop_map(Some)],
    )
        .prop_map(|((script, routable), junk_lines, crlf, cut)| {
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
            // With CRLF every value ends in its CR (Asterisk never sends
            // CRLF; a CR before the LF is data): the script is `fuzz\r`,
            // and the block never ends (its last line holds a CR).
            (bytes, routable && cut.is_none() && !crlf)
        });
    prop_oneof![
        12 => block,
        // Refused at its fourth byte, unless it starts as a block would.
        1 => junk(300).prop_map(|b| (b, false)),
        1 => Just(([&b"agi_request: "[..], &[b'x'; 2 * MAX_LINE]].concat(), false)),
        1 => Just((b"agi_x: y\n".repeat(MAX_BLOCK / 8), false)),
    ]
}

/// The opening, cut into pieces at random points.
fn opening() -> impl Strategy<Value = (Vec<Vec<u8>>, bool)> {
    (opening_bytes(), vec(any::<prop::sample::Index>(), 0..4)).prop_map(
        |((bytes, routable), cuts)| {
            let mut at: Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
            at.sort_unstable();
            at.push(bytes.len());
            let mut start = 0;
            let pieces = at
                .into_iter()
                .map(|end| {
                    let piece = bytes[start..end].to_vec();
                    start = end;
                    piece
                })
                .collect();
            (pieces, routable)
        },
    )
}

/// A reply Asterisk could send, or a piece of one, or not.
fn reply_piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => asterisk_line(),
        2 => junk(40),
        1 => junk(40).prop_map(|mut l| { l.push(b'\n'); l }),
        1 => Just(vec![b'7'; MAX_LINE + 10]),
        1 => Just(b"HANGUP\n".repeat(64)),
        1 => Just([
            &b"520-Invalid command syntax.  Proper usage follows:\n"[..],
            &b" Usage: more than a block holds\n".repeat(MAX_BLOCK / 24),
            b"520 End of proper usage.\n",
        ].concat()),
    ]
}

/// Any of the three ends.
fn end() -> impl Strategy<Value = End> {
    prop_oneof![Just(End::Silence), Just(End::Fin), Just(End::Reset)]
}

/// A good reply, after up to two HANGUP lines, LF or CRLF.
fn good_answer() -> impl Strategy<Value = Answer> {
    (0..3usize, any::<bool>(), any::<bool>()).prop_map(|(hangups, alt, crlf)| Answer::Good {
        hangups,
        alt,
        crlf,
    })
}

/// Mostly good replies, so that peers get deep into the handler.
fn answer() -> impl Strategy<Value = Answer> {
    prop_oneof![
        12 => good_answer(),
        4 => vec(reply_piece(), 1..4).prop_map(|p| Answer::Write(p.concat())),
        3 => end().prop_map(Answer::End),
    ]
}

/// A peer: one in ten dribbles, about one in seven ends before any command.
fn peer() -> impl Strategy<Value = Peer> {
    (
        opening(),
        prop::bool::weighted(0.1),
        prop::option::weighted(0.15, end()),
        // One in four answers every command well (in the shapes only
        // hostile peers use), so that their handlers must complete.
        prop_oneof![
            3 => vec(answer(), 0..14),
            1 => vec(good_answer(), COMMANDS..COMMANDS + 3),
        ],
    )
        .prop_map(|((opening, routable), dribble, end_early, answers)| Peer {
            opening,
            routable,
            dribble,
            end_early,
            answers,
        })
}

/// A handler that runs through several kinds of command and reply shape
/// until one fails; `completed` counts the runs that reached the end.
async fn handler(mut s: Session, completed: Arc<AtomicUsize>) -> Result<(), agi_client::Error> {
    for _ in 0..2 {
        s.chan.noop().await?;
        s.chan.get_variable("X").await?;
        s.chan.exec("Wait", "1").await?;
        s.chan.get_data("beep", Duration::from_secs(2), 4).await?;
        s.chan.stream_file("beep", EscapeDigits::ANY).await?;
        s.chan.database_get("cid", "101").await?;
    }
    completed.fetch_add(1, Ordering::SeqCst);
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

/// Small deadlines and limits, so that every way to end comes quickly.
fn config() -> ServerConfig {
    ServerConfig {
        bind: LOOPBACK,
        session: Options {
            env_timeout: Some(ENV_TIMEOUT),
            command_timeout: Some(COMMAND_TIMEOUT),
            limits: Limits {
                max_line: MAX_LINE,
                max_block: MAX_BLOCK,
                ..Limits::default()
            },
            handle_sighup: false,
        },
        idle_timeout: Some(Duration::from_millis(300)),
        shutdown_grace: Duration::from_secs(2),
        ..ServerConfig::default()
    }
}

/// Writes the opening a byte every 25 ms until the server sends anything
/// or closes (`Ok(true)`: the peer is done) or the opening runs out
/// (`Ok(false)`); `Err` when the server has not closed `BOUND` after the
/// connect (its deadline is for the whole block, not per byte).
async fn dribble(
    opening: &[u8],
    reader: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: &mut OwnedWriteHalf,
) -> Result<bool, String> {
    let started = Instant::now();
    let mut probe = [0u8; 1];
    for byte in opening {
        let _ = w.write_all(std::slice::from_ref(byte)).await;
        tokio::select! {
            _ = reader.read(&mut probe) => return Ok(true),
            () = tokio::time::sleep(Duration::from_millis(25)) => {}
        }
        if started.elapsed() > BOUND {
            return Err(format!("a dribbling peer was held {BOUND:?}"));
        }
    }
    Ok(false)
}

/// How far a peer took its session.
#[derive(Default)]
struct Played {
    /// It answered all the handler's commands, each with a good reply:
    /// the handler must have completed.
    all_good: bool,
    /// It sent enough lines to answer all the handler's commands (a
    /// `Write` may happen to hold good replies): the handler may have
    /// completed.
    answered_last: bool,
}

/// Plays `peer`; `Err` when the server held its connection past `BOUND`
/// after the peer's last move, or closed a routable session whose replies
/// were all good.
async fn play(addr: SocketAddr, peer: Peer) -> Result<Played, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (r, mut w) = stream.into_split();
    let mut reader = BufReader::new(r);
    if peer.dribble {
        if dribble(&peer.opening.concat(), &mut reader, &mut w).await? {
            return Ok(Played::default());
        }
    } else {
        for piece in &peer.opening {
            // The server may have closed already: the checks below hold.
            let _ = w.write_all(piece).await;
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
    let mut good_so_far = peer.routable && !peer.dribble;
    let mut served = 0;
    let mut answered = 0;
    let mut ending = peer.end_early;
    let mut answers = peer.answers.into_iter();
    let mut line = Vec::new();
    loop {
        if let Some(end) = ending {
            match end {
                End::Silence => {}
                End::Fin => {
                    let _ = w.shutdown().await;
                }
                End::Reset => {
                    let _ =
                        rustix::net::sockopt::set_socket_linger(w.as_ref(), Some(Duration::ZERO));
                    // Dropping the write half would half-close (a FIN)
                    // before the RST; the socket closes with the reader.
                    w.forget();
                    return Ok(played(good_so_far, served, answered));
                }
            }
            break;
        }
        let Some(answer) = answers.next() else { break };
        line.clear();
        match tokio::time::timeout(BOUND, reader.read_until(b'\n', &mut line)).await {
            Err(_) => return Err(format!("no command nor close within {BOUND:?}")),
            Ok(Ok(0) | Err(_)) if good_so_far && served < COMMANDS => {
                return Err(format!(
                    "closed after {served} commands though its block and replies were good"
                ));
            }
            Ok(Ok(0) | Err(_)) => return Ok(played(good_so_far, served, answered)),
            Ok(Ok(_)) => {}
        }
        match answer {
            Answer::Good { hangups, alt, crlf } => {
                let end: &[u8] = if crlf { b"\r\n" } else { b"\n" };
                let hangups = b"HANGUP\n".repeat(hangups);
                let _ = w
                    .write_all(&[&hangups, good_reply(&line, alt), end].concat())
                    .await;
                served += 1;
                answered += 1;
            }
            Answer::Write(bytes) => {
                good_so_far = false;
                let _ = w.write_all(&bytes).await;
                // Each whole line may answer a command of its own.
                answered += bytes.iter().filter(|&&b| b == b'\n').count().max(1);
            }
            Answer::End(end) => ending = Some(end),
        }
    }
    let mut rest = Vec::new();
    match tokio::time::timeout(BOUND, reader.read_to_end(&mut rest)).await {
        Err(_) => Err(format!("not closed within {BOUND:?} of the last move")),
        Ok(_) => Ok(played(good_so_far, served, answered)),
    }
}

/// What a peer's counts say about its handler.
fn played(good_so_far: bool, served: usize, answered: usize) -> Played {
    Played {
        all_good: good_so_far && served >= COMMANDS,
        answered_last: answered >= COMMANDS,
    }
}

/// A well-behaved call, answered in full (the other reply of each pair in
/// the second round).
async fn good_call(addr: SocketAddr) -> Result<(), String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    let (r, mut w) = stream.into_split();
    w.write_all(b"agi_network: yes\nagi_network_script: fuzz\nagi_uniqueid: 9.9\n\n")
        .await
        .map_err(|e| e.to_string())?;
    let mut reader = BufReader::new(r);
    let mut commands = 0;
    loop {
        let mut line = String::new();
        match tokio::time::timeout(BOUND, reader.read_line(&mut line)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(_)) => {}
            other => return Err(format!("good call, command {commands}: {other:?}")),
        }
        commands += 1;
        let reply = [good_reply(line.as_bytes(), commands > COMMANDS / 2), b"\n"].concat();
        w.write_all(&reply).await.map_err(|e| e.to_string())?;
    }
    if commands == COMMANDS {
        Ok(())
    } else {
        Err(format!("good call: {commands} commands, not {COMMANDS}"))
    }
}

/// Runs `peers` and a good call at once against a fresh server, then shuts
/// it down.
async fn run(peers: Vec<Peer>) -> Result<(), String> {
    let completed = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&completed);
    let router = Router::new().route("fuzz", move |s: Session| handler(s, Arc::clone(&counter)));
    let (addr, stop, serving) = start(config(), router).await;
    let good = tokio::spawn(good_call(addr));
    let plays: Vec<_> = peers
        .into_iter()
        .map(|p| tokio::spawn(play(addr, p)))
        .collect();
    let mut problems = Vec::new();
    let (mut must, mut may) = (1, 1);
    for (i, play) in plays.into_iter().enumerate() {
        match play.await.map_err(|e| e.to_string()).and_then(|r| r) {
            Ok(played) => {
                must += usize::from(played.all_good);
                may += usize::from(played.answered_last);
            }
            Err(e) => problems.push(format!("peer {i}: {e}")),
        }
    }
    if let Err(e) = good.await.map_err(|e| e.to_string()).and_then(|r| r) {
        problems.push(e);
    }
    let _ = stop.send(());
    let report = serving.await.map_err(|e| e.to_string())?;
    if report.cut != 0 {
        problems.push(format!("{} sessions still open at shutdown", report.cut));
    }
    // At least the good call and every peer that answered all commands
    // well; at most those and the peers that answered the last command.
    let completed = completed.load(Ordering::SeqCst);
    if !(must..=may).contains(&completed) {
        problems.push(format!(
            "{completed} handlers completed, not {must} to {may}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// One case on its own runtime, its logs collected: nothing may be logged
/// at ERROR, and the whole case is bounded.
fn check(peers: Vec<Peer>) -> Result<(), TestCaseError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (logs, _guard) = common::Logs::capture(tracing::Level::ERROR);
    let outcome = rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(60), run(peers))
            .await
            .unwrap_or_else(|_| Err("the case ran past 60 s".into()))
    });
    if let Err(e) = outcome {
        return Err(TestCaseError::fail(e));
    }
    let errors = logs.text();
    prop_assert!(errors.is_empty(), "logged at ERROR:\n{errors}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // About 0.4 s each; PROPTEST_CASES=300 searches longer (2 minutes).
        cases: 20,
        // A failing case waits out its deadlines: bound the shrinking.
        max_shrink_iters: 32,
        max_shrink_time: 120_000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn hostile_peers_end_promptly_and_the_server_serves_on(peers in vec(peer(), 1..8)) {
        check(peers)?;
    }
}
