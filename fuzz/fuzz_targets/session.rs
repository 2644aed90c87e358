//! The blocking client over any bytes from the peer, arriving in any pieces:
//! it reads the environment, then sends every command in turn (twice), and
//! a line longer than every Asterisk takes. No panic, no hang, and each
//! command writes its own line or nothing.
#![no_main]

use std::cell::RefCell;
use std::fmt::Debug;
use std::io::{self, Read, Write};
use std::rc::Rc;

use agi_client::Options;
use agi_client::sync::Channel;
use agi_fuzz::{Args, Stream, Visit, every_command};
use agi_proto::command::{ALL, SetVariable};
use agi_proto::{Command, tokenize};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let stream = Stream::split(input);
    let options = Options {
        limits: stream.limits,
        handle_sighup: false,
        ..Options::default()
    };
    let reader = Pieces {
        stream: &stream,
        at: 0,
    };
    let written = Written::default();
    let Ok(mut channel) = Channel::with_options(reader, written.clone(), options) else {
        assert!(
            written.0.borrow().is_empty(),
            "wrote before the environment"
        );
        return;
    };
    let mut run = Run {
        channel: &mut channel,
        written: written.clone(),
        visited: 0,
    };
    every_command(&Args::plain(), &mut run);
    every_command(&Args::plain(), &mut run);
    assert_eq!(run.visited, 2 * ALL.len());
    // Over 2,046 bytes: sent only to an Asterisk that takes 8,190.
    run.visit(&SetVariable::new("LONG", &[b'a'; 3000][..]));
});

/// Hands out the stream up to the next cut at each read.
struct Pieces<'s, 'a> {
    stream: &'s Stream<'a>,
    at: usize,
}

impl Read for Pieces<'_, '_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let end = self.stream.ends().find(|&e| e > self.at).unwrap_or(self.at);
        let n = (end - self.at).min(out.len());
        out[..n].copy_from_slice(&self.stream.data[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// What the client wrote, seen from outside it.
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

struct Run<'c, 's, 'a> {
    channel: &'c mut Channel<Pieces<'s, 'a>, Written>,
    written: Written,
    visited: usize,
}

impl Visit for Run<'_, '_, '_> {
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug,
    {
        self.visited += 1;
        let before = self.written.0.borrow().len();
        let outcome = self.channel.send(command);
        let _ = self.channel.is_hung_up();
        let all = self.written.0.borrow();
        let new = &all[before..];
        // Its line or nothing; a success had its line sent.
        if new.is_empty() {
            assert!(outcome.is_err(), "{command:?} succeeded unsent");
            return;
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
    }
}
