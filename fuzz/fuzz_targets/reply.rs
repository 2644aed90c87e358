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
    let whole = stream.same_however_cut("the frames", |ends| decode(&stream, ends));
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

/// Every accessor of a reply against a plain reading of its line.
fn check(frame: &Frame<'_>) {
    let Frame::Reply(reply) = frame else {
        return;
    };
    let line = reply.line();
    assert!(line.starts_with(format!("{:03} result=", reply.code()).as_bytes()));
    // The value runs to the first space; the text follows it, one space
    // dropped.
    let after = &line[11..];
    let end = after.iter().position(|&b| b == b' ').unwrap_or(after.len());
    assert_eq!(reply.result(), &after[..end]);
    let text = &after[end..];
    let text = text.strip_prefix(b" ").unwrap_or(text);
    assert_eq!(reply.text(), text);
    // An integer: an optional minus and 1 to 18 ASCII digits.
    let digits = reply.result().strip_prefix(b"-").unwrap_or(reply.result());
    let int = (1..=18).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit);
    let want = int
        .then(|| {
            std::str::from_utf8(reply.result())
                .ok()?
                .parse::<i64>()
                .ok()
        })
        .flatten();
    assert_eq!(reply.result_int(), want, "{:?}", reply.result());
    // Data to the last `)`, the keyword to the first, both after a `(`
    // that opens the text.
    let inner = text.strip_prefix(b"(");
    let last = inner.and_then(|i| i.iter().rposition(|&b| b == b')').map(|p| &i[..p]));
    let first = inner.and_then(|i| i.iter().position(|&b| b == b')').map(|p| &i[..p]));
    assert_eq!(reply.data(), last);
    assert_eq!(reply.keyword(), first);
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
            // What a frame means before any reply, whatever the command:
            // only a `200` reply can succeed.
            match frame {
                Frame::Hangup => assert!(matches!(step, Step::Hangup)),
                Frame::Reply(r) if r.code() == 100 => assert!(matches!(step, Step::Interim)),
                Frame::Reply(r) if r.code() == 200 => {}
                _ => assert!(
                    matches!(step, Step::Done(Err(_))),
                    "{frame:?} gave {step:?}"
                ),
            }
        }
        let mut exchange = Exchange::new(command);
        for frame in self.0 {
            let step = exchange.step(*frame);
            match (frame, &step) {
                // A hangup notice is never an outcome, even between a reply
                // and the usage block that follows it.
                (Frame::Hangup, step) => assert!(matches!(step, Step::Hangup), "{step:?}"),
                (_, Step::Done(_)) => exchange = Exchange::new(command),
                (_, Step::Hangup) => panic!("{frame:?} read as a hangup"),
                (_, Step::Interim) => {}
            }
        }
    }
}
