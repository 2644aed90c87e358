//! The reply decoder on any bytes, cut anywhere, and every command's reading
//! of every frame it returns: no panic, and the same frames however the
//! bytes arrive.
#![no_main]

use std::fmt::Debug;

use agi_fuzz::{Args, Stream, Visit, every_command};
use agi_proto::{Command, Exchange, Frame, FrameDecoder, ParseErrorKind, Status, Step};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let stream = Stream::split(input);
    let whole = decode(&stream, &[stream.data.len()]);
    let cut = decode(&stream, &stream.ends().collect::<Vec<_>>());
    assert_eq!(whole, cut, "the cuts changed the frames");
    let frames = whole.0;
    for frame in &frames {
        check(frame);
    }
    every_command(&Args::plain(), &mut Replay(&frames));
});

/// Decodes `stream` growing to each of `ends`: the frames, and the first
/// error's kind and offset.
fn decode<'a>(
    stream: &Stream<'a>,
    ends: &[usize],
) -> (Vec<Frame<'a>>, Option<(ParseErrorKind, usize)>) {
    let mut decoder = FrameDecoder::new(stream.limits);
    let mut frames = Vec::new();
    let mut start = 0;
    for &end in ends {
        while start < end {
            match decoder.decode(&stream.data[start..end]) {
                Ok(Status::Complete { value, consumed }) => {
                    assert!(
                        consumed > 0 && consumed <= end - start,
                        "consumed {consumed}"
                    );
                    frames.push(value);
                    start += consumed;
                }
                Ok(Status::Partial) => break,
                Err(e) => {
                    assert!(
                        e.offset <= end - start,
                        "error offset {} past {}",
                        e.offset,
                        end - start
                    );
                    return (frames, Some((e.kind, e.offset)));
                }
            }
        }
    }
    (frames, None)
}

/// Every accessor of a frame, on any bytes.
fn check(frame: &Frame<'_>) {
    let Frame::Reply(reply) = frame else {
        return;
    };
    let line = reply.line();
    assert!(line.starts_with(format!("{:03}", reply.code()).as_bytes()));
    assert!(line[3..].starts_with(b" result="));
    if let Some(n) = reply.result_int() {
        assert_eq!(
            std::str::from_utf8(reply.result())
                .ok()
                .and_then(|r| r.parse::<i64>().ok()),
            Some(n)
        );
    }
    let text = reply.text();
    assert!(line.ends_with(text));
    if let Some(data) = reply.data() {
        assert!(reply.keyword().is_some_and(|k| k.len() <= data.len()));
    }
    for (key, _) in reply.fields() {
        if let Ok(key) = std::str::from_utf8(key) {
            assert!(
                reply.field(key).is_some(),
                "field {key} listed but not found"
            );
        }
    }
}

/// Each command reads each frame alone, then all the frames in turn, as a
/// client would (a new exchange after each outcome).
struct Replay<'f, 'a>(&'f [Frame<'a>]);

impl Visit for Replay<'_, '_> {
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug,
    {
        for frame in self.0 {
            let step = Exchange::new(command).step(*frame);
            match frame {
                Frame::Hangup => assert!(matches!(step, Step::Hangup)),
                Frame::DeadChannel | Frame::InvalidCommand | Frame::Other { .. } => {
                    assert!(
                        matches!(step, Step::Done(Err(_))),
                        "{frame:?} gave {step:?}"
                    )
                }
                _ => {}
            }
        }
        let mut exchange = Exchange::new(command);
        for frame in self.0 {
            if let Step::Done(_) = exchange.step(*frame) {
                exchange = Exchange::new(command);
            }
        }
    }
}
