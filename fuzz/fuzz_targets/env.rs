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
    let whole = outcome(&stream, &[stream.data.len()]);
    let cut = outcome(&stream, &stream.ends().collect::<Vec<_>>());
    assert_eq!(whole, cut, "the cuts changed the outcome");
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
    // Arguments: checked where every `agi_arg_` name is written as Asterisk
    // writes it (`agi_arg_` and a number without a sign or leading zero).
    let numbers: Vec<Option<usize>> = lines
        .iter()
        .filter_map(|(n, _)| n.strip_prefix(b"agi_arg_"))
        .map(|digits| {
            let canonical = !digits.is_empty()
                && digits.len() < 10
                && digits[0] != b'0'
                && digits.iter().all(u8::is_ascii_digit);
            canonical
                .then(|| std::str::from_utf8(digits).ok()?.parse().ok())
                .flatten()
        })
        .collect();
    assert_eq!(env.args().count(), env.arg_count());
    if numbers.iter().all(Option::is_some) {
        assert_eq!(env.arg_count(), numbers.len());
        for n in numbers
            .iter()
            .flatten()
            .copied()
            .chain([0, numbers.len() + 1])
        {
            let name = format!("agi_arg_{n}");
            let want = if n == 0 { None } else { last(name.as_bytes()) };
            assert_eq!(
                env.arg(n).map(|v| v.into_bytes()),
                want.map(<[u8]>::to_vec),
                "arg {n}"
            );
        }
    }
    // The derived accessors must not panic, whatever the values.
    let _ = (
        env.asterisk_version().command_limit(),
        env.callingpres(),
        env.callingani2(),
    );
    let _ = (
        env.callington(),
        env.callingtns(),
        env.priority(),
        env.is_fastagi(),
    );
    let _ = (
        env.network_script(),
        env.request(),
        env.channel(),
        env.uniqueid(),
    );
    for (_, v) in env.iter() {
        let _ = (v.to_str(), v.to_string_lossy(), v.parse_int());
    }
    // The index rebuilds the same view, and the owned copy agrees.
    assert_eq!(env.index().env(block), Some(*env));
    assert_eq!(env.into_owned().env(), *env);
}
