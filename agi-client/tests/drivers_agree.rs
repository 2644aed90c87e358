//! The sync and async clients drive one protocol core, so fed the same
//! bytes, cut into reads of any sizes, they must write the same commands
//! and return the same results, whatever the bytes: replies in order,
//! HANGUP lines, interim `100` lines, usage blocks, garbage, lines past the
//! limit, a stream that ends anywhere.

use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};

use agi_client::{Options, aio, sync};
use agi_proto::{EscapeDigits, Limits};
use proptest::collection::vec;
use proptest::prelude::*;

/// Longest reply line the channels take.
const MAX_LINE: usize = 128;

/// The peer's bytes, handed out in reads of the given sizes (in turn).
struct Chunked {
    bytes: Vec<u8>,
    at: usize,
    sizes: Vec<usize>,
    turn: usize,
}

impl Chunked {
    fn take(&mut self, room: usize) -> &[u8] {
        let size = self.sizes[self.turn % self.sizes.len()];
        self.turn += 1;
        let n = size.min(room).min(self.bytes.len() - self.at);
        self.at += n;
        &self.bytes[self.at - n..self.at]
    }
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let piece = self.take(buf.len());
        buf[..piece.len()].copy_from_slice(piece);
        Ok(piece.len())
    }
}

impl tokio::io::AsyncRead for Chunked {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let piece = self.get_mut().take(buf.remaining());
        buf.put_slice(piece);
        Poll::Ready(Ok(()))
    }
}

/// Runs the same commands on a channel, sync or async (`$($await)?` is
/// `.await` for the latter), each one whatever the previous returned;
/// the `Debug` of each result.
macro_rules! commands {
    ($chan:ident $(. $await:ident)?) => {
        vec![
            format!("{:?}", $chan.noop()$(.$await)?),
            format!("{:?}", $chan.get_variable("X")$(.$await)?),
            format!("{:?}", $chan.exec("Dial", "SIP/101,5")$(.$await)?),
            format!("{:?}", $chan.get_data("beep", std::time::Duration::from_secs(2), 4)$(.$await)?),
            format!("{:?}", $chan.stream_file("beep", EscapeDigits::ANY)$(.$await)?),
            format!("{:?}", $chan.database_get("cid", "101")$(.$await)?),
            format!("{:?}", $chan.channel_status()$(.$await)?),
            format!("{:?}", $chan.say_digits("123", EscapeDigits::NONE)$(.$await)?),
            format!("{:?}", $chan.database_deltree("cid")$(.$await)?),
            format!("{:?}", $chan.hangup()$(.$await)?),
        ]
    };
}

fn options() -> Options {
    Options {
        limits: Limits {
            max_line: MAX_LINE,
            max_block: 512,
            ..Limits::default()
        },
        handle_sighup: false,
        ..Options::default()
    }
}

/// What a driver did: the environment's outcome, each command's result,
/// and the bytes it wrote.
type Outcome = (String, Vec<String>, Vec<u8>);

fn run_sync(peer: Chunked) -> Outcome {
    match sync::Channel::with_options(peer, Vec::new(), options()) {
        Err(e) => (format!("{e:?}"), Vec::new(), Vec::new()),
        Ok(mut chan) => {
            let env = format!("{:?}", chan.env());
            let results = commands!(chan);
            (env, results, chan.into_inner().1)
        }
    }
}

fn run_aio(peer: Chunked) -> Outcome {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let stream = tokio::io::join(peer, Vec::new());
        match aio::Channel::with_options(stream, options()).await {
            Err(e) => (format!("{e:?}"), Vec::new(), Vec::new()),
            Ok(mut chan) => {
                let env = format!("{:?}", chan.env());
                let results = commands!(chan.await);
                (env, results, chan.into_inner().into_inner().1)
            }
        }
    })
}

/// A byte a hostile peer favours.
fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => any::<u8>(),
        2 => Just(b'\n'),
        1 => Just(b'\r'),
        1 => Just(b' '),
        1 => Just(b'('),
        1 => Just(b')'),
        1 => Just(b'='),
        2 => b'0'..=b'9',
    ]
}

/// One piece of what the peer sends after the environment.
fn piece() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => prop_oneof![
            Just(&b"200 result=0\n"[..]),
            Just(&b"200 result=1\n"[..]),
            Just(&b"200 result=1 (x)\n"[..]),
            Just(&b"200 result=-1\n"[..]),
            Just(&b"200 result=\n"[..]),
            Just(&b"200 result=49 endpos=8000\n"[..]),
            Just(&b"200 result=0 (timeout)\n"[..]),
            Just(&b"200 result=6\r\n"[..]),
            Just(&b"HANGUP\n"[..]),
            Just(&b"100 result=0 Trying...\n"[..]),
            Just(&b"510 Invalid or unknown command\n"[..]),
            Just(&b"511 Command Not Permitted on a dead channel or intercept routine\n"[..]),
            Just(&b"520-Invalid command syntax.  Proper usage follows:\n"[..]),
            Just(&b" Usage: EXEC <application> <options>\n"[..]),
            Just(&b"520 End of proper usage.\n"[..]),
        ]
        .prop_map(<[u8]>::to_vec),
        2 => vec(byte(), 0..24),
        1 => Just(vec![b'9'; MAX_LINE + 4]),
    ]
}

/// A reply each command in `commands!` takes as success, in order.
const GOOD: [&[u8]; 10] = [
    b"200 result=0\n",
    b"200 result=1 (x)\n",
    b"200 result=0\n",
    b"200 result=12\n",
    b"200 result=0 endpos=8000\n",
    b"200 result=1 (v)\n",
    b"200 result=6\n",
    b"200 result=0\n",
    b"200 result=1\n",
    b"200 result=1\n",
];

/// What the peer sends for one command: HANGUP or interim lines before
/// either the good reply or other pieces.
fn answer() -> impl Strategy<Value = (Vec<bool>, Option<Vec<Vec<u8>>>)> {
    (
        vec(any::<bool>(), 0..3),
        prop_oneof![3 => Just(None), 1 => vec(piece(), 1..3).prop_map(Some)],
    )
}

fn peer() -> impl Strategy<Value = (Vec<u8>, Vec<usize>)> {
    let env = prop_oneof![
        8 => Just(b"agi_network: yes\nagi_channel: SIP/bob-1\nagi_arg_1: 101\n\n".to_vec()),
        1 => vec(byte(), 0..40).prop_map(|junk| [&b"agi_request: x\n"[..], &junk].concat()),
        1 => vec(byte(), 0..40),
    ];
    (
        env,
        vec(answer(), 0..12),
        vec(1..64usize, 1..6),
        any::<prop::sample::Index>(),
    )
        .prop_map(|(env, answers, sizes, end)| {
            let mut bytes = env;
            for (i, (before, body)) in answers.into_iter().enumerate() {
                for hangup in before {
                    bytes.extend_from_slice(if hangup {
                        b"HANGUP\n"
                    } else {
                        b"100 result=0 Trying...\n"
                    });
                }
                match body {
                    Some(pieces) => bytes.extend(pieces.concat()),
                    None => bytes.extend_from_slice(GOOD.get(i).copied().unwrap_or(b"")),
                }
            }
            // The stream ends anywhere, most often after everything.
            let at = end.index(bytes.len() * 2 + 1);
            bytes.truncate(at);
            (bytes, sizes)
        })
}

proptest! {
    #[test]
    fn sync_and_async_clients_agree_on_any_bytes((bytes, sizes) in peer()) {
        let feed = |bytes: &Vec<u8>| Chunked { bytes: bytes.clone(), at: 0, sizes: sizes.clone(), turn: 0 };
        let sync = run_sync(feed(&bytes));
        let aio = run_aio(feed(&bytes));
        prop_assert_eq!(&sync.0, &aio.0, "environment");
        prop_assert_eq!(&sync.1, &aio.1, "results");
        prop_assert_eq!(
            String::from_utf8_lossy(&sync.2),
            String::from_utf8_lossy(&aio.2),
            "bytes written"
        );
    }
}
