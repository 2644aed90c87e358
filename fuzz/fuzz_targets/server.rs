//! The FastAGI server over loopback TCP against any bytes from the peer,
//! in any pieces: an environment block and replies, written without
//! waiting for the commands, then a half-close. No panic, even one the
//! server catches (the fuzzer's panic hook aborts before any unwinding);
//! no hang (the server closes every connection soon after the peer's
//! half-close); and the server writes exactly what the same handler
//! writes through a plain `aio::Channel` over the same bytes in memory:
//! what a handler sends depends on the replies, not on how they arrived,
//! nor on the server around it.
#![no_main]

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

use agi_client::aio;
use agi_client::server::{Router, Server, ServerConfig, Session};
use agi_fuzz::{Stream, options};
use agi_proto::command::{
    Answer, ChannelStatus, DatabaseGet, Exec, GetData, GetVariable, Hangup, RecordFile,
    SetVariable, SpeechRecognize, StreamFile, Verbose, WaitForDigit,
};
use agi_proto::{EscapeDigits, Limits};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncWrite};

/// The longest the peer's reads may wait once it has sent everything and
/// half-closed. Nothing the server does then waits on a timer but the wait
/// for a hangup notice after a `-1` (`hangup_notice_wait`, 100 ms by
/// default as here), which the end of the stream also ends.
const CLOSE_WITHIN: Duration = Duration::from_secs(5);

/// The pause between two pieces of the peer's bytes.
const PAUSE: Duration = Duration::from_micros(200);

/// The small limits of the second server (the first has the defaults).
/// `max_command` has no effect: the channel sets its own from the peer's
/// version.
const SMALL: Limits = Limits {
    max_line: 64,
    max_block: 256,
    max_command: 64,
};

/// The handler's script: every reply shape (variables, digits, speech, a
/// recording, a 3,000-byte line an old Asterisk refuses). A command that
/// Asterisk answers with a failure does not stop it (so what follows a
/// failure counts too); any other error does.
async fn script<S: AsyncRead + AsyncWrite + Unpin>(
    chan: &mut aio::Channel<S>,
) -> Result<(), agi_client::Error> {
    /// Stops at an error other than Asterisk's failure.
    fn go_on<T>(outcome: Result<T, agi_client::Error>) -> Result<(), agi_client::Error> {
        match outcome {
            Err(e) if !matches!(e, agi_client::Error::Failure(_)) => Err(e),
            _ => Ok(()),
        }
    }
    go_on(chan.send(&Answer).await)?;
    go_on(chan.send(&GetVariable::new("CALLERID(num)")).await)?;
    go_on(chan.send(&StreamFile::new("beep", EscapeDigits::ANY)).await)?;
    go_on(chan.send(&GetData::new("menu")).await)?;
    go_on(chan.send(&WaitForDigit::new(Duration::from_secs(2))).await)?;
    go_on(chan.send(&Exec::new("Dial", "PJSIP/bob,5")).await)?;
    go_on(chan.send(&DatabaseGet::new("cidname", "101")).await)?;
    go_on(
        chan.send(&SpeechRecognize::new("beep", Duration::from_secs(2)))
            .await,
    )?;
    let record = RecordFile::new("/tmp/x", "wav", EscapeDigits::HASH, None);
    go_on(chan.send(&record).await)?;
    go_on(chan.send(&ChannelStatus { channel: None }).await)?;
    go_on(
        chan.send(&SetVariable::new("LONG", &[b'a'; 3000][..]))
            .await,
    )?;
    go_on(chan.send(&Verbose::new("done")).await)?;
    go_on(chan.send(&Hangup { channel: None }).await)
}

async fn handler(mut s: Session) -> Result<(), agi_client::Error> {
    script(&mut s.chan).await
}

/// What the script writes through a plain channel over `data` in memory.
fn expected(data: &[u8], limits: Limits) -> Vec<u8> {
    agi_fuzz::runtime().block_on(async {
        let stream = tokio::io::join(data, Vec::new());
        match aio::Channel::with_options(stream, options(limits)).await {
            Err(_) => Vec::new(),
            Ok(mut chan) => {
                let _ = script(&mut chan).await;
                chan.into_inner().into_inner().1
            }
        }
    })
}

/// Two servers on a runtime thread of their own: default and small limits.
fn servers() -> &'static [SocketAddr; 2] {
    static SERVERS: OnceLock<[SocketAddr; 2]> = OnceLock::new();
    SERVERS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut addrs = Vec::new();
                for limits in [Limits::default(), SMALL] {
                    let config = ServerConfig {
                        bind: "127.0.0.1:0".parse().unwrap(),
                        session: options(limits),
                        ..ServerConfig::default()
                    };
                    let router = Router::new().fallback(handler);
                    let server = Server::bind(config, router).await.unwrap();
                    addrs.push(server.local_addr().unwrap());
                    tokio::spawn(server.serve_until(std::future::pending()));
                }
                tx.send([addrs[0], addrs[1]]).unwrap();
                std::future::pending::<()>().await;
            });
        });
        rx.recv().unwrap()
    })
}

/// Where the next line starts at or after byte `at`: `at` itself when a
/// line starts there, or the end of `data`.
fn next_line_start(data: &[u8], at: usize) -> usize {
    if at == 0 || data.get(at - 1) == Some(&b'\n') {
        return at;
    }
    data[at..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(data.len(), |i| at + i + 1)
}

fuzz_target!(|input: &[u8]| {
    let stream = Stream::split(input);
    let (addr, limits) = if stream.limits == Limits::default() {
        (servers()[0], Limits::default())
    } else {
        (servers()[1], SMALL)
    };
    // The peer's half-close is the first FIN, so its ports pile up in
    // TIME_WAIT; Linux reuses them on loopback (`net.ipv4.tcp_tw_reuse`, 2
    // by default), and elsewhere a long run may fail here for want of a
    // port.
    let mut peer = TcpStream::connect(addr).unwrap();
    peer.set_nodelay(true).unwrap();
    // With an even cut byte, each cut moves on to the next line's start:
    // a peer's replies in separate reads, as Asterisk writes them.
    let ends: Vec<usize> = if stream.seed.is_multiple_of(2) {
        stream
            .ends()
            .map(|cut| next_line_start(stream.data, cut))
            .collect()
    } else {
        stream.ends().collect()
    };
    let mut start = 0;
    for end in ends {
        if end == start {
            continue;
        }
        if start > 0 {
            // Long enough, nearly always, for the server to read the piece
            // before the next comes: the pieces reach it apart, where
            // written back to back they would arrive as one.
            std::thread::sleep(PAUSE);
        }
        // The server may close first (a bad block, a handler done): what
        // it read decides what it wrote, and the check below holds anyway.
        if peer.write_all(&stream.data[start..end]).is_err() {
            break;
        }
        start = end;
    }
    let _ = peer.shutdown(Shutdown::Write);
    peer.set_read_timeout(Some(CLOSE_WITHIN)).unwrap();
    let mut written = Vec::new();
    match peer.read_to_end(&mut written) {
        Ok(_) => {}
        // A reset: the server closed with bytes of ours unread.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
        Err(e) => panic!("the server did not close within 5 s of the half-close: {e}"),
    }
    let expected = expected(stream.data, limits);
    let tail = |v: &[u8]| String::from_utf8_lossy(&v[v.len().saturating_sub(120)..]).into_owned();
    assert!(
        written == expected,
        "the server wrote {} bytes ending {:?}; over memory, {} ending {:?}",
        written.len(),
        tail(&written),
        expected.len(),
        tail(&expected)
    );
});
