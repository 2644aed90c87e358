//! Both clients over any bytes from the peer, arriving in any pieces: each
//! reads the environment, then sends every command in turn (twice), and a
//! line longer than every Asterisk takes. No panic, no hang; each command
//! writes exactly its own line or nothing; and the async client (its reads
//! also pending now and then) writes and returns what the blocking one does.
#![no_main]

use std::cell::RefCell;
use std::fmt::Debug;
use std::io::{self, Read, Write};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use agi_client::{Error, Options, aio, sync};
use agi_fuzz::{Args, Stream, Visit, every_command};
use agi_proto::command::SetVariable;
use agi_proto::{Command, tokenize};
use libfuzzer_sys::fuzz_target;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::runtime::Runtime;

fuzz_target!(|input: &[u8]| {
    let stream = Stream::split(input);
    let options = agi_fuzz::options(stream.limits);
    let blocking = run_sync(&stream, options);
    let not_blocking = run_async(&stream, options);
    assert_eq!(blocking.env, not_blocking.env, "the environments differ");
    let pairs = blocking.commands.iter().zip(&not_blocking.commands);
    for (i, (a, b)) in pairs.enumerate() {
        let clip = |v: &[u8]| String::from_utf8_lossy(&v[..v.len().min(80)]).into_owned();
        assert!(
            a == b,
            "command {i}: sync {:?} {:?}, async {:?} {:?}",
            a.0,
            clip(&a.1),
            b.0,
            clip(&b.1)
        );
    }
    assert_eq!(blocking.commands.len(), not_blocking.commands.len());
});

/// What a client did: how the environment went, then per command its
/// outcome and what it wrote. (Not `is_hung_up()`: it turns true once a
/// HANGUP line has been read, which depends on how the bytes arrived.)
#[derive(Debug, PartialEq)]
struct Record {
    env: String,
    commands: Vec<(String, Vec<u8>)>,
}

impl Record {
    fn new(env: String) -> Record {
        Record {
            env,
            commands: Vec::new(),
        }
    }
}

/// Sends every command twice, then a 3,000-byte line (sent only to an
/// Asterisk that takes 8,190 bytes).
fn drive(visitor: &mut impl Visit) {
    every_command(&Args::plain(), visitor);
    every_command(&Args::plain(), visitor);
    visitor.visit(&SetVariable::new("LONG", &[b'a'; 3000][..]));
}

fn run_sync(stream: &Stream<'_>, options: Options) -> Record {
    let reader = Pieces::new(stream, false);
    let written = Written::default();
    match sync::Channel::with_options(reader, written.clone(), options) {
        Err(e) => no_env(&written, e),
        Ok(mut channel) => {
            let mut run = SyncRun {
                record: Record::new(format!("{:?}", channel.env())),
                channel: &mut channel,
                written,
            };
            drive(&mut run);
            run.record
        }
    }
}

/// A client whose environment failed: it must have written nothing.
fn no_env(written: &Written, e: Error) -> Record {
    assert!(
        written.0.borrow().is_empty(),
        "wrote before the environment"
    );
    Record::new(shown::<()>(Err(e)))
}

fn run_async(stream: &Stream<'_>, options: Options) -> Record {
    let runtime = agi_fuzz::runtime();
    let written = Written::default();
    let duplex = Duplex {
        pieces: Pieces::new(stream, true),
        written: written.clone(),
    };
    match runtime.block_on(aio::Channel::with_options(duplex, options)) {
        Err(e) => no_env(&written, e),
        Ok(mut channel) => {
            let mut run = AsyncRun {
                record: Record::new(format!("{:?}", channel.env())),
                channel: &mut channel,
                written,
                runtime,
            };
            drive(&mut run);
            run.record
        }
    }
}

/// The `Debug` of a result, a parse error by its kind and offset only: its
/// excerpt shows what had arrived, which depends on the reads' sizes.
fn shown<T: Debug>(result: Result<T, Error>) -> String {
    match result {
        Err(Error::Parse(e)) => format!("Err(Parse({:?} at {}))", e.kind, e.offset),
        other => format!("{other:?}"),
    }
}

/// What one command wrote: its own line, or nothing (and then it failed).
fn new_line<C: Command + Debug>(
    command: &C,
    written: &Written,
    before: usize,
    ok: bool,
) -> Vec<u8> {
    let all = written.0.borrow();
    let new = all[before..].to_vec();
    if new.is_empty() {
        assert!(!ok, "{command:?} succeeded unsent");
        return new;
    }
    assert_eq!(
        new.iter().filter(|&&b| b == b'\n').count(),
        1,
        "{command:?} wrote {new:?}"
    );
    assert_eq!(new.last(), Some(&b'\n'));
    assert!(!new.iter().any(|&b| b == b'\r' || b == 0));
    let tokens = tokenize(&new[..new.len() - 1]);
    let words: Vec<&[u8]> = C::NAME.split(' ').map(str::as_bytes).collect();
    assert_eq!(tokens[..words.len()], words[..], "{command:?}");
    new
}

struct SyncRun<'c, 's, 'a> {
    channel: &'c mut sync::Channel<Pieces<'s, 'a>, Written>,
    written: Written,
    record: Record,
}

impl Visit for SyncRun<'_, '_, '_> {
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug,
    {
        let before = self.written.0.borrow().len();
        let outcome = self.channel.send(command);
        let line = new_line(command, &self.written, before, outcome.is_ok());
        let _ = self.channel.is_hung_up();
        self.record.commands.push((shown(outcome), line));
    }
}

struct AsyncRun<'c, 's, 'a> {
    channel: &'c mut aio::Channel<Duplex<'s, 'a>>,
    written: Written,
    record: Record,
    runtime: &'static Runtime,
}

impl Visit for AsyncRun<'_, '_, '_> {
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug,
    {
        let before = self.written.0.borrow().len();
        let outcome = self.runtime.block_on(self.channel.send(command));
        let line = new_line(command, &self.written, before, outcome.is_ok());
        let _ = self.channel.is_hung_up();
        self.record.commands.push((shown(outcome), line));
    }
}

/// Hands out the stream up to the next cut at each read; with `stall`, a
/// read is pending every other time (and wakes itself).
struct Pieces<'s, 'a> {
    stream: &'s Stream<'a>,
    at: usize,
    stall: bool,
    stalled: bool,
}

impl<'s, 'a> Pieces<'s, 'a> {
    fn new(stream: &'s Stream<'a>, stall: bool) -> Self {
        Pieces {
            stream,
            at: 0,
            stall,
            stalled: false,
        }
    }

    fn take(&mut self, room: usize) -> &'a [u8] {
        let end = self.stream.ends().find(|&e| e > self.at).unwrap_or(self.at);
        let n = (end - self.at).min(room);
        self.at += n;
        &self.stream.data[self.at - n..self.at]
    }
}

impl Read for Pieces<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let piece = self.take(out.len());
        out[..piece.len()].copy_from_slice(piece);
        Ok(piece.len())
    }
}

/// The async client's stream: the same pieces, writes seen from outside.
struct Duplex<'s, 'a> {
    pieces: Pieces<'s, 'a>,
    written: Written,
}

impl AsyncRead for Duplex<'_, '_> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let pieces = &mut self.get_mut().pieces;
        if pieces.stall {
            pieces.stalled = !pieces.stalled;
            if pieces.stalled {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
        }
        buf.put_slice(pieces.take(buf.remaining()));
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Duplex<'_, '_> {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(self.get_mut().written.write(bytes))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// What a client wrote, seen from outside it.
#[derive(Clone, Default)]
struct Written(Rc<RefCell<Vec<u8>>>);

impl Write for Written {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
