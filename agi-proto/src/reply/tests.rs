use proptest::prelude::*;

use super::*;

fn frame(buf: &[u8]) -> Frame<'_> {
    let (frame, used) = parse_frame(buf).unwrap().complete().expect("complete");
    assert_eq!(used, buf.len(), "one frame uses the whole input");
    frame
}

fn reply(buf: &[u8]) -> Reply<'_> {
    match frame(buf) {
        Frame::Reply(r) => r,
        other => panic!("not a reply: {other:?}"),
    }
}

const USAGE: &[u8] = b"520-Invalid command syntax.  Proper usage follows:\n\
Retrieves an entry in the Asterisk database.\n\
Example return code: 200 result=1 (testvariable)\n\
\n\
520 End of proper usage.\n";

/// Every reply shape of the protocol reference, with what it holds.
#[test]
fn reply_table() {
    // (line, code, result, data, keyword, text)
    type Row = (
        &'static [u8],
        u16,
        &'static [u8],
        Option<&'static [u8]>,
        Option<&'static [u8]>,
        &'static [u8],
    );
    let table: &[Row] = &[
        (b"200 result=0\n", 200, b"0", None, None, b""),
        (b"200 result=-1\n", 200, b"-1", None, None, b""),
        (
            b"200 result=1 (some value)\n",
            200,
            b"1",
            Some(b"some value"),
            Some(b"some value"),
            b"(some value)",
        ),
        (b"200 result=1 ()\n", 200, b"1", Some(b""), Some(b""), b"()"),
        (
            b"200 result=1 (he said \"hi\" (ok) )()\n",
            200,
            b"1",
            Some(b"he said \"hi\" (ok) )("),
            Some(b"he said \"hi\" (ok"),
            b"(he said \"hi\" (ok) )()",
        ),
        (
            b"200 result= (timeout)\n",
            200,
            b"",
            Some(b"timeout"),
            Some(b"timeout"),
            b"(timeout)",
        ),
        (b"200 result=\n", 200, b"", None, None, b""),
        (b"200 result=0042*\n", 200, b"0042*", None, None, b""),
        (
            b"200 result=0 (timeout) endpos=0\n",
            200,
            b"0",
            Some(b"timeout"),
            Some(b"timeout"),
            b"(timeout) endpos=0",
        ),
        (
            b"200 result=-1 Gosub label not found\n",
            200,
            b"-1",
            None,
            None,
            b"Gosub label not found",
        ),
        (
            b"100 result=0 Trying...\n",
            100,
            b"0",
            None,
            None,
            b"Trying...",
        ),
        (
            b"503 result=-2 Memory allocation failure\n",
            503,
            b"-2",
            None,
            None,
            b"Memory allocation failure",
        ),
        (
            b"200 result=53 endpos=10560\r\n",
            200,
            b"53",
            None,
            None,
            b"endpos=10560",
        ),
    ];
    for &(line, code, result, data, keyword, text) in table {
        let r = reply(line);
        let name = String::from_utf8_lossy(line);
        assert_eq!(r.code(), code, "{name}");
        assert_eq!(r.result(), result, "{name}");
        assert_eq!(r.data(), data, "{name}");
        assert_eq!(r.keyword(), keyword, "{name}");
        assert_eq!(r.text(), text, "{name}");
    }
}

#[test]
fn fields_after_the_keyword() {
    let r = reply(b"200 result=1 (speech) endpos=0 results=2 score0=90 text0=\"call (bob) now\" grammar0=g1 score1=10 text1=\"\" grammar1=g2\n");
    assert_eq!(r.keyword(), Some(&b"speech"[..]));
    assert_eq!(r.field("results"), Some(&b"2"[..]));
    assert_eq!(r.field("text0"), Some(&b"call (bob) now"[..]));
    assert_eq!(r.field("text1"), Some(&b""[..]));
    assert_eq!(r.field("grammar1"), Some(&b"g2"[..]));
    assert_eq!(r.field("nope"), None);
    let r = reply(b"200 result=0 endpos=-1\n");
    assert_eq!(r.field("endpos"), Some(&b"-1"[..]));
    assert_eq!(r.result_int(), Some(0));
    assert_eq!(
        reply(b"200 result=1 (digit) digit=5 endpos=0\n").field("digit"),
        Some(&b"5"[..])
    );
    // Quotes are not escaped: the closing one ends the line or precedes
    // ` name=`.
    let r = reply(b"200 result=1 (speech) t0=\"a \"b\" c\" g0=x t1=\"q\"  \n");
    assert_eq!(r.field("t0"), Some(&b"a \"b\" c"[..]));
    assert_eq!(r.field("g0"), Some(&b"x"[..]));
    assert_eq!(r.field("t1"), Some(&b"q"[..]));
    let r = reply(b"200 result=1 (speech) t0=\"never closed\n");
    assert_eq!(r.field("t0"), Some(&b"never closed"[..]));
}

#[test]
fn codes_and_hangup() {
    assert_eq!(frame(b"HANGUP\n"), Frame::Hangup);
    assert_eq!(
        frame(b"510 Invalid or unknown command\n"),
        Frame::InvalidCommand
    );
    assert_eq!(
        frame(b"511 Command Not Permitted on a dead channel or intercept routine\n"),
        Frame::DeadChannel
    );
    assert_eq!(
        frame(b"520 Invalid command syntax.  Proper usage not available.\n"),
        Frame::Usage(Usage {
            text: b"Invalid command syntax.  Proper usage not available."
        })
    );
    assert_eq!(
        frame(b"404 nope\n"),
        Frame::Other {
            code: 404,
            text: b"nope"
        }
    );
}

#[test]
fn usage_block_is_one_frame_whatever_it_holds() {
    let Frame::Usage(u) = frame(USAGE) else {
        panic!()
    };
    assert_eq!(
        u.text,
        &b"Retrieves an entry in the Asterisk database.\nExample return code: 200 result=1 (testvariable)\n"[..]
    );
    let Frame::Usage(u) = frame(b"520-x\n520 End of proper usage.\n") else {
        panic!()
    };
    assert_eq!(u.text, b"");
}

#[test]
fn every_proper_prefix_is_partial() {
    for whole in [
        USAGE,
        b"200 result=1 (x)\n",
        b"HANGUP\n",
        b"510 Invalid or unknown command\n",
    ] {
        for cut in 0..whole.len() {
            assert_eq!(
                parse_frame(&whole[..cut]).unwrap(),
                Status::Partial,
                "{cut} of {:?}",
                whole.escape_ascii().to_string()
            );
        }
    }
}

#[test]
fn malformed_lines_name_what_and_where() {
    let cases: &[(&[u8], ParseErrorKind, usize)] = &[
        (b"garbage\n", ParseErrorKind::InvalidLine, 0),
        (b"2x", ParseErrorKind::InvalidLine, 0),
        (b"HANGOVER", ParseErrorKind::InvalidLine, 0),
        (b"HANGUP now\n", ParseErrorKind::InvalidLine, 0),
        (b"200\n", ParseErrorKind::InvalidLine, 0),
        (b"200 result=abc\n", ParseErrorKind::InvalidResult, 11),
        (b"200 result=1(x)\n", ParseErrorKind::InvalidResult, 11),
        (b"\n", ParseErrorKind::InvalidLine, 0),
    ];
    for &(input, kind, offset) in cases {
        let err = parse_frame(input).unwrap_err();
        assert_eq!(
            (err.kind, err.offset),
            (kind, offset),
            "{:?}",
            input.escape_ascii().to_string()
        );
    }
}

#[test]
fn long_lines_are_refused_before_and_after_the_lf() {
    let limits = Limits {
        max_line: 20,
        max_block: 64,
        ..Limits::default()
    };
    let long = b"200 result=1 (0123456789)\n";
    for input in [&long[..], &long[..24]] {
        let err = FrameDecoder::new(limits).decode(input).unwrap_err();
        assert_eq!(err.kind, ParseErrorKind::LineTooLong { limit: 20 });
    }
    let mut block = b"520-start\n".to_vec();
    block.extend(std::iter::repeat_n(b"line\n".as_slice(), 20).flatten());
    let err = FrameDecoder::new(limits).decode(&block).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::BlockTooLong { limit: 64 });
}

/// A block limit set below the line limit: a first line longer than the
/// block is a block too long, whole or arriving in pieces (it panicked,
/// slicing past the block limit; found by `fuzz/`'s `reply` target).
#[test]
fn a_first_line_longer_than_the_block_limit_is_a_block_too_long() {
    let limits = Limits {
        max_line: 64,
        max_block: 16,
        ..Limits::default()
    };
    let block =
        b"520-Invalid command syntax.  Proper usage follows:\nUsage: X\n520 End of proper usage.\n";
    // The last cut is the whole block at once.
    for cut in 0..=block.len() {
        let mut d = FrameDecoder::new(limits);
        let first = d.decode(&block[..cut]);
        let outcome = match first {
            Ok(Status::Partial) => d.decode(block),
            other => other,
        };
        assert_eq!(
            outcome.unwrap_err().kind,
            ParseErrorKind::BlockTooLong { limit: 16 },
            "cut at {cut}"
        );
    }
}

#[test]
fn decoder_resumes_a_usage_block() {
    let mut d = FrameDecoder::default();
    let mut buf = Vec::new();
    for &b in USAGE {
        buf.push(b);
        let status = d.decode(&buf).unwrap();
        assert_eq!(status.is_complete(), buf.len() == USAGE.len());
    }
    assert_eq!(
        d.decode(b"HANGUP\n").unwrap().complete().unwrap().0,
        Frame::Hangup
    );
}

/// The one-pass reader takes the replies most commands get, and leaves
/// what it does not fully check to the general path.
#[test]
fn usual_replies_take_the_one_pass_reader() {
    let max = Limits::default().max_line;
    for (line, one_pass) in [
        (&b"200 result=1\n"[..], true),
        (b"200 result=-1\n", true),
        (b"200 result=\n", true),
        (b"200 result=0123\n", true),
        (b"200 result=1 (value 3)\n", true),
        (b"200 result=0 endpos=10560\n", true),
        (b"200 result= (timeout)\n", true),
        (b"200 result=1", false),
        (b"200 result=1\r\n", false),
        (b"200 result=1 (ok)\r\n", false),
        (b"200 result=12*#\n", false),
        (b"200 result=1 (unterminated\n", false),
        (b"100 result=0 Trying...\n", false),
        (b"200 result=1x\n", false),
    ] {
        let shown = line.escape_ascii();
        match usual_reply(line, max) {
            Some(fast) => {
                assert!(one_pass, "{shown} is for the general path");
                assert_eq!(
                    Ok(fast),
                    FrameDecoder::default().decode_line(line),
                    "{shown}"
                );
            }
            None => assert!(!one_pass, "{shown} should take the one pass"),
        }
    }
    assert_eq!(
        usual_reply(b"200 result=1 (abc)\n", 18),
        Some(Status::Complete {
            value: Frame::Reply(reply(b"200 result=1 (abc)\n")),
            consumed: 19,
        }),
        "at max_line"
    );
    assert_eq!(
        usual_reply(b"200 result=1 (abc)\n", 17),
        None,
        "past max_line"
    );
}

proptest! {
    /// Whatever the one-pass reader accepts, the general path reads the
    /// same way: same frame, same bytes consumed.
    #[test]
    fn usual_reply_agrees_with_the_general_path(
        body in proptest::collection::vec(prop::sample::select(b"0123456789-*#A ()x\r\n\"".to_vec()), 0..24),
        max_line in 8usize..40,
    ) {
        let mut buf = b"200 result=".to_vec();
        buf.extend_from_slice(&body);
        let mut decoder = FrameDecoder::new(Limits { max_line, ..Limits::default() });
        if let Some(fast) = usual_reply(&buf, decoder.limits.max_line) {
            prop_assert_eq!(Ok(fast), decoder.decode_line(&buf));
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(Status::Complete { value: Frame::Reply(r), consumed }) = parse_frame(&bytes) {
            prop_assert!(consumed <= bytes.len());
            let _ = (r.data(), r.keyword(), r.result_int(), r.fields().count());
        }
    }

    #[test]
    fn arbitrary_reply_tails_never_panic(tail in proptest::collection::vec(any::<u8>().prop_filter("no LF", |b| *b != b'\n'), 0..128)) {
        let mut line = b"200 result=1 ".to_vec();
        line.extend_from_slice(&tail);
        line.push(b'\n');
        if let Ok(Status::Complete { value: Frame::Reply(r), .. }) = parse_frame(&line) {
            let _ = (r.data(), r.keyword(), r.field("endpos"), r.fields().count());
        }
    }

    /// Any bytes, however they arrive, give the same frames and the same
    /// error: a peer's segmentation does not change what the client reports.
    #[test]
    fn any_stream_any_cuts_same_outcome(
        pieces in proptest::collection::vec(prop::sample::select(vec![
            &b"200 result="[..], b"HANGUP", b"HANG", b"520-", b"520 End", b"100 ", b"1", b"-",
            b" ", b"(", b")", b"x", b"\n", b"\r\n", b"\0", b"0123456789",
        ]), 0..24),
        cut_points in proptest::collection::vec(any::<usize>(), 0..8),
        // Either limit may be the smaller one.
        (max_line, max_block) in (4usize..64, 8usize..128),
    ) {
        let stream = pieces.concat();
        let limits = Limits { max_line, max_block, ..Limits::default() };
        prop_assert_eq!(outcomes_of(&stream, &cuts(cut_points, stream.len()), limits), outcomes_of(&stream, &[], limits));
    }

    /// Prefixes of a stream in any order, shorter ones included (which
    /// breaks the decoder's rule, as a decoder reused for another stream
    /// does): each call reads what a new decoder reads, and none panics.
    #[test]
    fn any_prefix_in_any_order_reads_as_new(
        pieces in proptest::collection::vec(prop::sample::select(vec![
            &b"200 result="[..], b"HANGUP", b"520-", b"520 End", b"1", b" ", b"(", b")", b"x", b"\n", b"\r",
        ]), 0..16),
        ends in proptest::collection::vec(any::<usize>(), 1..10),
        (max_line, max_block) in (4usize..64, 8usize..128),
    ) {
        let stream = pieces.concat();
        let limits = Limits { max_line, max_block, ..Limits::default() };
        let mut d = FrameDecoder::new(limits);
        for end in ends {
            let buf = &stream[..end % (stream.len() + 1)];
            prop_assert_eq!(d.decode(buf), FrameDecoder::new(limits).decode(buf));
        }
    }

    /// After any part of one stream, any other bytes (which break the
    /// decoder's rule) give some outcome, never a panic.
    #[test]
    fn other_bytes_after_a_partial_never_panic(
        first in proptest::collection::vec(prop::sample::select(vec![
            &b"200 result="[..], b"520-", b"520 End", b"1", b" (", b")", b"x", b"\n",
        ]), 0..12),
        then in proptest::collection::vec(any::<u8>(), 0..256),
        (max_line, max_block) in (4usize..64, 8usize..128),
    ) {
        let mut d = FrameDecoder::new(Limits { max_line, max_block, ..Limits::default() });
        let first = first.concat();
        let _ = d.decode(&first);
        if let Ok(Status::Complete { value: Frame::Reply(r), consumed }) = d.decode(&then) {
            prop_assert!(consumed <= then.len());
            let _ = (r.data(), r.keyword(), r.result_int(), r.fields().count());
        }
    }

    #[test]
    fn split_stream_same_frames(cut_points in proptest::collection::vec(any::<usize>(), 0..8)) {
        let stream: &[u8] = b"200 result=1 (a b)\nHANGUP\n100 result=0 Trying...\n520-x\ny\n520 End of proper usage.\n200 result= (timeout)\n";
        let whole = outcomes_of(stream, &[], Limits::default());
        prop_assert_eq!((whole.0.len(), &whole.1), (5, &None), "five frames, no error");
        prop_assert_eq!(outcomes_of(stream, &cuts(cut_points, stream.len()), Limits::default()), whole);
    }
}

/// Cut points within `len` bytes, in order.
fn cuts(points: Vec<usize>, len: usize) -> Vec<usize> {
    let mut cuts: Vec<usize> = points.into_iter().map(|c| c % (len + 1)).collect();
    cuts.sort_unstable();
    cuts
}

/// Feeds `stream` growing to each cut point, then whole, under `limits`;
/// returns the frames, and the first error's kind and offset (its excerpt
/// shows what had arrived, which depends on the cuts).
fn outcomes_of(stream: &[u8], cuts: &[usize], limits: Limits) -> (Vec<String>, Option<String>) {
    let mut d = FrameDecoder::new(limits);
    let mut frames = Vec::new();
    let mut start = 0;
    for end in cuts.iter().copied().chain([stream.len()]) {
        while start < end {
            match d.decode(&stream[start..end]) {
                Ok(Status::Complete { value, consumed }) => {
                    frames.push(format!("{value:?}"));
                    start += consumed;
                }
                Ok(Status::Partial) => break,
                Err(e) => return (frames, Some(format!("{:?} at {}", e.kind, e.offset))),
            }
        }
    }
    (frames, None)
}

#[test]
fn data_with_line_feeds_runs_to_the_line_that_ends_in_a_parenthesis() {
    // RECEIVE TEXT of a message of three lines, then the next reply.
    let whole = b"200 result=1 (Hello\n\nsee you (soon))\n200 result=0\n";
    let first = 37;
    let (frame, used) = parse_frame(whole).unwrap().complete().unwrap();
    assert_eq!(used, first);
    let Frame::Reply(r) = frame else {
        panic!("{frame:?}")
    };
    assert_eq!(r.result_int(), Some(1));
    assert_eq!(r.data(), Some(&b"Hello\n\nsee you (soon)"[..]));
    assert_eq!(r.line(), &whole[..first - 1]);
    // The same frame however the bytes arrive, one decoder throughout.
    for cut in 0..=whole.len() {
        let mut decoder = FrameDecoder::default();
        let mut seen = None;
        for end in [cut, whole.len()] {
            if let Status::Complete { value, consumed } = decoder.decode(&whole[..end]).unwrap() {
                seen = Some((value, consumed));
                break;
            }
        }
        assert_eq!(seen, Some((Frame::Reply(r), first)), "cut at {cut}");
    }
    // Bounded by `max_line`, all its lines together.
    let limits = Limits {
        max_line: 20,
        ..Limits::default()
    };
    let long = b"200 result=1 (0123\n45678\n9012345)\n";
    for input in [&long[..], &long[..26]] {
        let err = FrameDecoder::new(limits).decode(input).unwrap_err();
        assert_eq!(
            err.kind,
            ParseErrorKind::LineTooLong { limit: 20 },
            "{input:?}"
        );
    }
    assert!(matches!(
        FrameDecoder::new(limits).decode(&long[..20]).unwrap(),
        Status::Partial
    ));
}
