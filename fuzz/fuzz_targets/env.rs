//! The environment decoder on any bytes, cut anywhere: no panic, the same
//! outcome however the bytes arrive, and every accessor agrees with a
//! line-by-line reading of the block it returns.
#![no_main]

use agi_fuzz::Stream;
use agi_proto::{Env, EnvDecoder, OwnedEnv, ParseErrorKind, Status, Var};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let stream = Stream::split(input);
    let whole = stream.same_however_cut("the outcome", |ends| outcome(&stream, ends));
    let owned = OwnedEnv::from_bytes(Bytes::copy_from_slice(stream.data), stream.limits);
    match (&whole, owned) {
        (Outcome::Block(env, _), Ok(owned)) => assert_eq!(*env, owned.env()),
        (Outcome::Block(..), Err(e)) => panic!("from_bytes failed on a block: {e}"),
        (_, Ok(owned)) => panic!("from_bytes found a block the decoder did not: {owned:?}"),
        (_, Err(_)) => {}
    }
});

#[derive(Debug, PartialEq)]
enum Outcome<'a> {
    Block(Env<'a>, usize),
    Error(ParseErrorKind, usize),
    Partial,
}

/// Feeds the stream growing to each of `ends`; the first outcome that is
/// not "partial".
fn outcome<'a>(stream: &Stream<'a>, ends: &[usize]) -> Outcome<'a> {
    let mut decoder = EnvDecoder::new(stream.limits);
    for &end in ends {
        let buf = &stream.data[..end];
        match decoder.decode(buf) {
            Ok(Status::Partial) => {}
            Ok(Status::Complete { value, consumed }) => {
                assert!(consumed <= end && consumed <= stream.limits.max_block);
                assert_eq!(value.as_bytes(), &buf[..consumed]);
                check(&value);
                return Outcome::Block(value, consumed);
            }
            Err(e) => {
                assert!(e.offset <= end, "error offset {} past {end}", e.offset);
                return Outcome::Error(e.kind, e.offset);
            }
        }
    }
    Outcome::Partial
}

/// Reads the block line by line, as the protocol reference describes it,
/// and holds every accessor to that reading.
fn check(env: &Env<'_>) {
    let block = env.as_bytes();
    assert!(block.ends_with(b"\n"));
    let body = &block[..block.len() - 1];
    // The lines before the empty one; `name: value` at the first colon,
    // one space dropped; a line without a colon belongs to no variable.
    let mut lines: Vec<(&[u8], &[u8])> = Vec::new();
    for line in body.split(|&b| b == b'\n') {
        if line.is_empty() {
            break;
        }
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            let value = &line[colon + 1..];
            lines.push((&line[..colon], value.strip_prefix(b" ").unwrap_or(value)));
        }
    }
    let seen: Vec<(&[u8], Vec<u8>)> = env.iter().map(|(n, v)| (n, v.into_bytes())).collect();
    let want: Vec<(&[u8], Vec<u8>)> = lines.iter().map(|(n, v)| (*n, v.to_vec())).collect();
    assert_eq!(seen, want, "iter() differs from the lines");
    let last = |name: &[u8]| {
        lines
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
    };
    for var in Var::ALL {
        let got = env.var(var);
        assert_eq!(
            got.as_ref().map(|v| v.as_bytes()),
            last(var.name().as_bytes()),
            "{var:?}"
        );
        assert_eq!(
            env.get(var.name()).map(|v| v.into_bytes()),
            got.map(|v| v.into_bytes())
        );
    }
    for (name, _) in &lines {
        if let Ok(name) = std::str::from_utf8(name) {
            assert_eq!(
                env.get(name).map(|v| v.into_bytes()),
                last(name.as_bytes()).map(<[u8]>::to_vec)
            );
        }
    }
    // Arguments: `agi_arg_` and a number above zero, of 1 to 18 ASCII
    // digits (Asterisk writes no sign or leading zero; a zero is read past).
    let number = |name: &[u8]| -> Option<usize> {
        let digits = name.strip_prefix(b"agi_arg_")?;
        let ok = (1..=18).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit);
        ok.then(|| std::str::from_utf8(digits).ok()?.parse().ok())
            .flatten()
            .filter(|&n| n > 0)
    };
    let args: Vec<(usize, &[u8])> = lines
        .iter()
        .filter_map(|(n, v)| Some((number(n)?, *v)))
        .collect();
    assert_eq!(env.arg_count(), args.len());
    let values: Vec<Vec<u8>> = env.args().map(|v| v.into_bytes()).collect();
    let want: Vec<&[u8]> = args.iter().map(|(_, v)| *v).collect();
    assert_eq!(values, want, "args()");
    for n in args.iter().map(|(n, _)| *n).chain([0, 1, args.len() + 1]) {
        let last_arg = args
            .iter()
            .rev()
            .find(|(m, _)| *m == n)
            .map(|(_, v)| v.to_vec());
        assert_eq!(env.arg(n).map(|v| v.into_bytes()), last_arg, "arg {n}");
    }
    // Numbers: the last line's value when it is an optional minus and 1 to
    // 18 ASCII digits.
    let int = |name: &str| -> Option<i64> {
        let v = last(name.as_bytes())?;
        let digits = v.strip_prefix(b"-").unwrap_or(v);
        let ok = (1..=18).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit);
        ok.then(|| std::str::from_utf8(v).ok()?.parse().ok())
            .flatten()
    };
    assert_eq!(env.callingpres(), int("agi_callingpres"));
    assert_eq!(env.callingani2(), int("agi_callingani2"));
    assert_eq!(env.callington(), int("agi_callington"));
    assert_eq!(env.callingtns(), int("agi_callingtns"));
    assert_eq!(env.priority(), int("agi_priority"));
    assert_eq!(env.enhanced(), last(b"agi_enhanced") == Some(b"1.0"));
    assert_eq!(env.is_fastagi(), last(b"agi_network") == Some(b"yes"));
    // The rest must not panic, whatever the values.
    let _ = env.asterisk_version().command_limit();
    for (_, v) in env.iter() {
        let _ = (v.to_str(), v.to_string_lossy(), v.parse_int());
    }
    // The index rebuilds the same view, and the owned copy agrees.
    assert_eq!(env.index().env(block), Some(*env));
    assert_eq!(env.into_owned().env(), *env);
}
