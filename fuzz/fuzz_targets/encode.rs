//! Every command with any arguments: either refused with nothing written, or
//! exactly one line within the peer's limit that Asterisk's tokenizer reads
//! back as the command's words and the caller's arguments.
#![no_main]

use std::fmt::Debug;

use agi_fuzz::{Args, Visit, every_command};
use agi_proto::command::{DatabasePut, Exec, SendText, SetVariable, Verbose};
use agi_proto::{Command, Limits, encode_command, tokenize};
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
    let mut check = Check { limits, lines: 0 };
    every_command(&input.args, &mut check);
    // Where the caller's bytes go through unchanged, they come back as the
    // same tokens.
    let a = &input.args;
    let (name, bytes) = (a.text[0].as_str(), a.bytes.as_slice());
    if let Some(t) = check.line(&SetVariable::new(name, bytes)) {
        assert_eq!(t[2..], [name.as_bytes(), bytes]);
    }
    if let Some(t) = check.line(&Exec::new(name, bytes)) {
        // An empty options argument is sent as `""`, which Asterisk reads
        // back as an empty token.
        assert_eq!(t[1..], [name.as_bytes(), bytes]);
    }
    if let Some(t) = check.line(&DatabasePut::new(name, &a.text[1], bytes)) {
        assert_eq!(t[2..], [name.as_bytes(), a.text[1].as_bytes(), bytes]);
    }
    if let Some(t) = check.line(&SendText::new(bytes)) {
        assert_eq!(t[2..], [bytes]);
    }
    if let Some(t) = check.line(&Verbose::new(bytes)) {
        assert_eq!(t[1], bytes);
    }
});

struct Check {
    limits: Limits,
    lines: usize,
}

impl Check {
    /// Encodes `command` after a line already in the buffer and checks the
    /// line's shape; its tokens as Asterisk reads them, when it was sent.
    fn line<C: Command + Debug>(&mut self, command: &C) -> Option<Vec<Vec<u8>>> {
        const BEFORE: &[u8] = b"NOOP\n";
        let mut buf = BEFORE.to_vec();
        let result = encode_command(command, &self.limits, &mut buf);
        if result.is_err() {
            assert_eq!(
                buf,
                BEFORE,
                "a refused command wrote {:?}",
                String::from_utf8_lossy(&buf)
            );
            return None;
        }
        self.lines += 1;
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
        assert!(tokens.len() <= Limits::MAX_TOKENS);
        let words: Vec<&[u8]> = C::NAME.split(' ').map(str::as_bytes).collect();
        assert_eq!(tokens[..words.len()], words[..], "{command:?}");
        let mut again = Vec::new();
        encode_command(command, &self.limits, &mut again).expect("encodes twice alike");
        assert_eq!(again, line);
        Some(tokens)
    }
}

impl Visit for Check {
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug,
    {
        self.line(command);
    }
}
