//! Every command with any arguments: either refused for a reason that holds
//! (nothing written), or exactly one line within the peer's limit that
//! Asterisk's tokenizer reads back as the command's words and the caller's
//! arguments.
#![no_main]

use std::fmt::Debug;

use agi_fuzz::{Args, Visit, every_command};
use agi_proto::command::{ALL, DatabasePut, Exec, SendText, SetVariable, Verbose};
use agi_proto::{Command, EncodeError, Limits, encode_command, tokenize};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Debug, Arbitrary)]
struct Input {
    args: Args,
    limit: u16,
}

fuzz_target!(|input: Input| {
    let limits = Limits {
        max_command: usize::from(input.limit),
        ..Limits::default()
    };
    let mut check = Check { limits, visited: 0 };
    every_command(&input.args, &mut check);
    assert_eq!(check.visited, ALL.len());
    // Where the caller's bytes go through unchanged, they come back as the
    // same tokens; clean ones are refused only for the line's length.
    let a = &input.args;
    let (name, key, bytes) = (a.text[0].as_str(), a.text[1].as_str(), a.bytes.as_slice());
    let clean = |s: &[u8]| !s.iter().any(|b| matches!(b, b'\n' | b'\r' | 0));
    let expect = |sent: Result<Vec<Vec<u8>>, EncodeError>, clean: bool| match sent {
        Ok(tokens) => Some(tokens),
        Err(EncodeError::TooLong { .. }) => None,
        Err(e) => {
            assert!(!clean, "clean arguments refused: {e}");
            None
        }
    };
    let sent = check.line(&SetVariable::new(name, bytes));
    if let Some(t) = expect(
        sent,
        !name.is_empty() && clean(name.as_bytes()) && clean(bytes),
    ) {
        assert_eq!(t[2..], [name.as_bytes(), bytes]);
    }
    // Empty options are sent as `""`: an empty token.
    if let Some(t) = expect(check.line(&Exec::new(name, bytes)), false) {
        assert_eq!(t[1..], [name.as_bytes(), bytes]);
    }
    if let Some(t) = expect(check.line(&DatabasePut::new(name, key, bytes)), false) {
        assert_eq!(t[2..], [name.as_bytes(), key.as_bytes(), bytes]);
    }
    if let Some(t) = expect(check.line(&SendText::new(bytes)), clean(bytes)) {
        assert_eq!(t[2..], [bytes]);
    }
    if let Some(t) = expect(check.line(&Verbose::new(bytes)), clean(bytes)) {
        assert_eq!(t[1..], [bytes]);
    }
});

struct Check {
    limits: Limits,
    visited: usize,
}

impl Check {
    /// Encodes `command` after a line already in the buffer and checks the
    /// outcome; the line's tokens as Asterisk reads them, when it is sent.
    fn line<C: Command + Debug>(&mut self, command: &C) -> Result<Vec<Vec<u8>>, EncodeError> {
        const BEFORE: &[u8] = b"NOOP\n";
        let mut buf = BEFORE.to_vec();
        if let Err(e) = encode_command(command, &self.limits, &mut buf) {
            assert_eq!(buf, BEFORE, "{command:?} was refused ({e}) but wrote");
            self.refusal_holds(command, &e);
            return Err(e);
        }
        let line = &buf[BEFORE.len()..];
        assert_eq!(line.last(), Some(&b'\n'));
        let body = &line[..line.len() - 1];
        assert!(
            !body.iter().any(|b| matches!(b, b'\n' | b'\r' | 0)),
            "{command:?} sent {body:?}"
        );
        assert!(
            body.len() <= self.limits.max_command,
            "{} bytes over {}",
            body.len(),
            self.limits.max_command
        );
        let tokens = tokenize(body);
        // `tokenize` keeps at most 127 tokens; no command here has that
        // many, so reaching it means the line split where it should not.
        assert!(
            tokens.len() < Limits::MAX_TOKENS,
            "{command:?}: {} tokens",
            tokens.len()
        );
        let words: Vec<&[u8]> = C::NAME.split(' ').map(str::as_bytes).collect();
        assert_eq!(tokens[..words.len()], words[..], "{command:?}");
        let mut again = Vec::new();
        encode_command(command, &self.limits, &mut again).expect("encodes twice alike");
        assert_eq!(again, line);
        Ok(tokens)
    }

    /// A refusal must be true of the command: a line over the limit really
    /// is, a forbidden byte really is there.
    fn refusal_holds<C: Command + Debug>(&self, command: &C, e: &EncodeError) {
        let unlimited = Limits {
            max_command: usize::MAX,
            ..self.limits
        };
        let mut line = Vec::new();
        match (e, encode_command(command, &unlimited, &mut line)) {
            (EncodeError::TooLong { len, max }, Ok(())) => {
                assert_eq!(*max, self.limits.max_command);
                assert_eq!(*len, line.len() - 1, "{command:?}");
                assert!(len > max);
            }
            (EncodeError::TooLong { .. }, Err(other)) => {
                panic!("{command:?}: too long, but refused without a limit: {other}")
            }
            (other, Ok(())) => panic!("{command:?}: refused ({other}) only because of the limit"),
            (EncodeError::ForbiddenByte { byte, .. }, Err(again)) => {
                assert!(matches!(byte, b'\n' | b'\r' | 0), "{command:?}: {e}");
                assert_eq!(&again, e);
            }
            (_, Err(again)) => assert_eq!(&again, e, "{command:?}"),
        }
    }
}

impl Visit for Check {
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug,
    {
        // Every command once, in the reference's order.
        assert_eq!(C::NAME, ALL[self.visited].name, "command {}", self.visited);
        self.visited += 1;
        let _ = self.line(command);
    }
}
