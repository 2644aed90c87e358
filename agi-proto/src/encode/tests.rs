use proptest::prelude::*;

use super::*;
use crate::command::{Exec, SetVariable};
use crate::tokenize::tokenize;

fn line(args: &[&[u8]]) -> Result<Vec<u8>, EncodeError> {
    let mut buf = Vec::new();
    let mut w = ArgWriter::new(&mut buf, &Limits::default());
    w.words("NOOP");
    for a in args {
        w.arg(a)?;
    }
    w.finish()?;
    Ok(buf)
}

#[test]
fn quotes_only_when_needed() {
    assert_eq!(
        line(&[
            b"plain",
            b"",
            b"a b",
            b"tab\there",
            b"q\"",
            b"back\\",
            b"'s'"
        ])
        .unwrap(),
        b"NOOP plain \"\" \"a b\" \"tab\there\" \"q\\\"\" \"back\\\\\" 's'\n"
    );
}

#[test]
fn refuses_line_breaks_and_nul_anywhere() {
    for (arg, byte, position) in [(&b"a\nb"[..], b'\n', 1), (b"\r", b'\r', 0), (b"ab\0", 0, 2)] {
        assert_eq!(
            line(&[b"ok", arg]).unwrap_err(),
            EncodeError::ForbiddenByte {
                arg: 1,
                byte,
                position
            }
        );
    }
}

#[test]
fn refuses_over_long_lines_and_leaves_the_buffer_alone() {
    let limits = Limits {
        max_command: 20,
        ..Limits::default()
    };
    let mut buf = b"kept".to_vec();
    let err = encode_command(&Exec::new("Dial", "SIP/bob,5,tTr"), &limits, &mut buf).unwrap_err();
    assert_eq!(err, EncodeError::TooLong { len: 23, max: 20 });
    assert_eq!(buf, b"kept");
    // Exactly at the limit is sent.
    encode_command(&Exec::new("Dial", "SIP/bob,55"), &limits, &mut buf).unwrap();
    assert_eq!(buf, b"keptEXEC Dial SIP/bob,55\n");
}

/// `NOOP` followed by `args` one-letter arguments.
fn noop_with(args: usize) -> Result<(), EncodeError> {
    let mut buf = Vec::new();
    let limits = Limits {
        max_command: 8190,
        ..Limits::default()
    };
    let mut w = ArgWriter::new(&mut buf, &limits);
    w.words("NOOP");
    for _ in 0..args {
        w.arg("x")?;
    }
    w.finish()
}

#[test]
fn refuses_more_than_127_tokens() {
    assert_eq!(noop_with(126), Ok(()));
    assert_eq!(
        noop_with(127),
        Err(EncodeError::TooManyTokens {
            count: 128,
            max: 127
        })
    );
}

#[test]
fn empty_variable_name_is_refused() {
    let mut buf = Vec::new();
    let err = encode_command(&SetVariable::new("", "x"), &Limits::default(), &mut buf).unwrap_err();
    assert!(matches!(err, EncodeError::InvalidArgument(_)));
    assert!(buf.is_empty());
}

fn arg_bytes() -> impl Strategy<Value = Vec<u8>> {
    // Bias towards the bytes the tokenizer treats specially.
    let special = prop::sample::select(vec![
        b' ', b'\t', b'"', b'\\', b'\'', b'(', b')', b',', 0xff, b'a',
    ]);
    let byte = prop_oneof![special, any::<u8>()]
        .prop_filter("sendable", |b| !matches!(b, b'\n' | b'\r' | 0));
    proptest::collection::vec(byte, 0..24)
}

proptest! {
    /// Whatever the arguments, Asterisk's tokenizer gives them back unchanged.
    #[test]
    fn asterisk_reads_back_every_argument(args in proptest::collection::vec(arg_bytes(), 0..10)) {
        let refs: Vec<&[u8]> = args.iter().map(Vec::as_slice).collect();
        let encoded = line(&refs).unwrap();
        prop_assert_eq!(encoded.iter().filter(|&&b| b == b'\n').count(), 1);
        prop_assert_eq!(encoded.last(), Some(&b'\n'));
        let tokens = tokenize(&encoded[..encoded.len() - 1]);
        prop_assert_eq!(&tokens[0], b"NOOP");
        prop_assert_eq!(&tokens[1..], &args[..]);
    }

    /// CR, LF and NUL are refused wherever they are.
    #[test]
    fn forbidden_bytes_always_refused(mut arg in arg_bytes(), at in any::<prop::sample::Index>(), bad in prop::sample::select(vec![b'\n', b'\r', 0u8])) {
        let pos = at.index(arg.len() + 1);
        arg.insert(pos, bad);
        prop_assert_eq!(line(&[&arg]).unwrap_err(), EncodeError::ForbiddenByte { arg: 0, byte: bad, position: pos });
    }
}
