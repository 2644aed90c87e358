//! The blocking client over any bytes from the peer, arriving in any pieces:
//! it reads the environment, then sends every command in turn until the
//! bytes run out. No panic, no hang, and only whole command lines written.
#![no_main]

use std::fmt::Debug;
use std::io::{self, Read};

use agi_client::Options;
use agi_client::sync::Channel;
use agi_fuzz::{Args, Stream, Visit, every_command};
use agi_proto::Command;
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
    let Ok(mut channel) = Channel::with_options(reader, Vec::new(), options) else {
        return;
    };
    let _ = format!("{:?}", channel.env());
    let mut run = Run {
        channel: &mut channel,
        sent: 0,
    };
    every_command(&Args::plain(), &mut run);
    every_command(&Args::plain(), &mut run);
    let (_, written) = channel.into_inner();
    assert!(written.is_empty() || written.ends_with(b"\n"));
    assert!(!written.iter().any(|&b| b == b'\r' || b == 0));
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

struct Run<'c, 's, 'a> {
    channel: &'c mut Channel<Pieces<'s, 'a>, Vec<u8>>,
    sent: usize,
}

impl Visit for Run<'_, '_, '_> {
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug,
    {
        let outcome = self.channel.send(command);
        let _ = format!("{outcome:?}");
        let _ = self.channel.is_hung_up();
        self.sent += 1;
    }
}
