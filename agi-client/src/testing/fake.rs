//! The fake: a shared, scripted byte stream that is both the reader and
//! the writer of a channel.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use agi_proto::tokenize;

use super::transcript::{Record, Transcript};

/// One step of the script.
#[derive(Debug, Clone)]
enum Step {
    /// The program must send this command; Asterisk answers `reply`.
    Expect { command: Vec<u8>, reply: Vec<u8> },
    /// Asterisk sends bytes on its own (a `HANGUP` line).
    Send(Vec<u8>),
    /// Asterisk closes the session: reads give EOF, writes a broken pipe.
    Close,
    /// Asterisk goes silent: async reads never complete, sync reads fail.
    Stall,
}

#[derive(Debug, Default)]
struct State {
    outbox: VecDeque<u8>,
    steps: VecDeque<Step>,
    partial: Vec<u8>,
    closed: bool,
    stalled: bool,
    /// Every command received, for [`FakeAsterisk::received`].
    received: Vec<Vec<u8>>,
    /// Both directions in order, for [`FakeAsterisk::transcript`].
    log: Vec<Record>,
    failure: Option<String>,
}

impl State {
    /// Queues bytes for the program and logs them line by line.
    fn queue(&mut self, bytes: &[u8]) {
        self.outbox.extend(bytes.iter().copied());
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        if !bytes.is_empty() {
            self.log.extend(
                body.split(|&b| b == b'\n')
                    .map(|l| Record::Asterisk(l.to_vec())),
            );
        }
    }

    /// Runs the steps that need no command.
    fn advance(&mut self) {
        while let Some(step) = self.steps.front() {
            match step {
                Step::Expect { .. } => return,
                Step::Send(bytes) => {
                    let bytes = bytes.clone();
                    self.queue(&bytes);
                }
                Step::Close => {
                    self.closed = true;
                    self.log.push(Record::Event("EOF from Asterisk".into()));
                }
                Step::Stall => self.stalled = true,
            }
            self.steps.pop_front();
        }
    }

    /// Takes bytes written by the program; answers each whole line.
    fn receive(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.closed {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "fake Asterisk closed the session",
            ));
        }
        self.partial.extend_from_slice(bytes);
        while let Some(lf) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=lf).take(lf).collect();
            self.received.push(line.clone());
            let n = self.received.len();
            self.log.push(Record::Script(line.clone()));
            match self.steps.pop_front() {
                Some(Step::Expect { command, reply }) => {
                    if !same_command(&line, &command) {
                        return Err(self.fail(mismatch(n, &command, &line)));
                    }
                    self.queue(&reply);
                    self.advance();
                }
                _ => {
                    let msg = format!(
                        "fake Asterisk: command {} was not expected (the script has ended)\n  received: {}",
                        n,
                        line.escape_ascii()
                    );
                    return Err(self.fail(msg));
                }
            }
        }
        Ok(())
    }

    fn fail(&mut self, msg: String) -> io::Error {
        self.failure.get_or_insert_with(|| msg.clone());
        io::Error::new(io::ErrorKind::InvalidData, msg)
    }
}

/// The same command to Asterisk: the same tokens, the command's words
/// compared without case, as Asterisk finds commands.
fn same_command(line: &[u8], command: &[u8]) -> bool {
    let (a, b) = (tokenize(line), tokenize(command));
    let words = command_words(&b);
    a.len() == b.len()
        && a.iter().zip(&b).enumerate().all(|(i, (x, y))| {
            if i < words {
                x.eq_ignore_ascii_case(y)
            } else {
                x == y
            }
        })
}

/// How many leading tokens of `tokens` are the command's words (`SPEECH
/// LOAD GRAMMAR` has three): those of the longest known command they start
/// with, else the first.
fn command_words(tokens: &[Vec<u8>]) -> usize {
    agi_proto::command::ALL
        .iter()
        .filter_map(|info| {
            let words = info.name.split(' ');
            let n = words.clone().count();
            let starts = n <= tokens.len()
                && words
                    .zip(tokens)
                    .all(|(w, t)| w.as_bytes().eq_ignore_ascii_case(t));
            starts.then_some(n)
        })
        .max()
        .unwrap_or(1)
}

fn mismatch(n: usize, expected: &[u8], received: &[u8]) -> String {
    let mut msg = format!("fake Asterisk: command {n} differs\n");
    let _ = writeln!(msg, "  expected: {}", expected.escape_ascii());
    let _ = writeln!(msg, "  received: {}", received.escape_ascii());
    let tokens = |l: &[u8]| {
        tokenize(l)
            .iter()
            .map(|t| format!("{:?}", t.escape_ascii().to_string()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(msg, "  expected tokens: [{}]", tokens(expected));
    let _ = write!(msg, "  received tokens: [{}]", tokens(received));
    msg
}

/// A scripted Asterisk. Clone it to get the reader and the writer of one
/// channel (both share the script); call [`FakeAsterisk::finish`] at the end
/// of the test.
#[derive(Debug, Clone)]
pub struct FakeAsterisk {
    state: Arc<Mutex<State>>,
}

/// Builds a [`FakeAsterisk`] script.
#[derive(Debug, Default)]
pub struct Builder {
    env: Vec<u8>,
    /// `env` is sent exactly as given, final empty line included (or not).
    env_exact: bool,
    steps: Vec<Step>,
}

fn line(text: &[u8]) -> Vec<u8> {
    let mut v = text.to_vec();
    if !v.is_empty() && !v.ends_with(b"\n") {
        v.push(b'\n');
    }
    v
}

impl Builder {
    /// Adds an environment line `name: value`.
    pub fn env(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.env.extend_from_slice(name.as_bytes());
        self.env.extend_from_slice(b": ");
        self.env.extend_from_slice(value.as_ref());
        self.env.push(b'\n');
        self
    }

    /// Sends exactly `block` as the environment: include the final empty
    /// line, or leave it out to test a block that never ends.
    pub fn env_block(mut self, block: impl AsRef<[u8]>) -> Self {
        self.env = block.as_ref().to_vec();
        self.env_exact = true;
        self
    }

    /// The program must send `command` next (compared after tokenizing);
    /// Asterisk answers `reply` (an LF is added if missing; several lines,
    /// `HANGUP` lines included, may be given; empty sends nothing yet).
    pub fn expect(mut self, command: impl AsRef<[u8]>, reply: impl AsRef<[u8]>) -> Self {
        self.steps.push(Step::Expect {
            command: command
                .as_ref()
                .strip_suffix(b"\n")
                .unwrap_or(command.as_ref())
                .to_vec(),
            reply: line(reply.as_ref()),
        });
        self
    }

    /// Asterisk sends a `HANGUP` line here, as FastAGI does when the caller
    /// hangs up.
    pub fn hangup(self) -> Self {
        self.send("HANGUP")
    }

    /// Asterisk sends `bytes` unprompted.
    pub fn send(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.steps.push(Step::Send(line(bytes.as_ref())));
        self
    }

    /// Asterisk sends exactly `bytes` (no LF added), e.g. half a reply.
    pub fn send_raw(mut self, bytes: impl AsRef<[u8]>) -> Self {
        self.steps.push(Step::Send(bytes.as_ref().to_vec()));
        self
    }

    /// Asterisk closes the session (EOF; later writes fail).
    pub fn close(mut self) -> Self {
        self.steps.push(Step::Close);
        self
    }

    /// Asterisk stops sending without closing, to test timeouts.
    pub fn stall(mut self) -> Self {
        self.steps.push(Step::Stall);
        self
    }

    /// The fake, with the environment block queued.
    pub fn build(self) -> FakeAsterisk {
        let mut state = State::default();
        let mut env = self.env;
        if !self.env_exact {
            env.push(b'\n');
        }
        state.queue(&env);
        state.steps = self.steps.into();
        state.advance();
        FakeAsterisk {
            state: Arc::new(Mutex::new(state)),
        }
    }
}

impl FakeAsterisk {
    /// A new script.
    pub fn builder() -> Builder {
        Builder::default()
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic elsewhere in the test must not hide the script's report.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The command lines received so far, without their LF.
    pub fn received(&self) -> Vec<Vec<u8>> {
        self.state().received.clone()
    }

    /// Takes the bytes Asterisk has queued for the program, without waiting:
    /// for relaying the fake to a child process or a socket.
    pub fn take_output(&self) -> Vec<u8> {
        self.state().outbox.drain(..).collect()
    }

    /// The dialogue so far in the fixtures' transcript format: what
    /// Asterisk sent (environment included) and what the program sent.
    pub fn transcript(&self) -> Transcript {
        Transcript {
            records: self.state().log.clone(),
        }
    }

    /// Panics unless the program sent exactly the scripted commands, each
    /// ended by its line feed (Asterisk would run a last line without one
    /// at the end of the stream).
    #[track_caller]
    pub fn finish(&self) {
        let state = self.state();
        if let Some(failure) = &state.failure {
            panic!("{failure}");
        }
        assert!(
            state.partial.is_empty(),
            "fake Asterisk: the program left a line without its line feed: {}",
            state.partial.escape_ascii()
        );
        let missing: Vec<String> = state
            .steps
            .iter()
            .filter_map(|s| match s {
                Step::Expect { command, .. } => Some(command.escape_ascii().to_string()),
                _ => None,
            })
            .collect();
        assert!(
            missing.is_empty(),
            "fake Asterisk: the program did not send {missing:?}"
        );
    }

    fn read_into(&self, buf: &mut [u8]) -> Option<io::Result<usize>> {
        let mut state = self.state();
        if !state.outbox.is_empty() {
            let n = buf.len().min(state.outbox.len());
            for (dst, src) in buf.iter_mut().zip(state.outbox.drain(..n)) {
                *dst = src;
            }
            return Some(Ok(n));
        }
        if state.closed || (state.steps.is_empty() && !state.stalled) {
            return Some(Ok(0));
        }
        if state.stalled {
            return None;
        }
        let msg = match state.steps.front() {
            Some(Step::Expect { command, .. }) => format!(
                "fake Asterisk: the program waits for a reply, and the script expects it to send {} first",
                command.escape_ascii()
            ),
            _ => "fake Asterisk: the program waits for a reply the script does not give".to_owned(),
        };
        Some(Err(state.fail(msg)))
    }
}

impl Read for FakeAsterisk {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.read_into(buf).unwrap_or_else(|| {
            Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "fake Asterisk stalled",
            ))
        })
    }
}

impl Write for FakeAsterisk {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.state().receive(buf)?;
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(feature = "tokio")]
mod aio {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

    use super::FakeAsterisk;

    impl AsyncRead for FakeAsterisk {
        fn poll_read(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<std::io::Result<()>> {
            // A stalled fake never wakes the reader: a timeout must end it.
            match self.read_into(buf.initialize_unfilled()) {
                Some(Ok(n)) => {
                    buf.advance(n);
                    Poll::Ready(Ok(()))
                }
                Some(Err(e)) => Poll::Ready(Err(e)),
                None => Poll::Pending,
            }
        }
    }

    impl AsyncWrite for FakeAsterisk {
        fn poll_write(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<std::io::Result<usize>> {
            Poll::Ready(self.state().receive(buf).map(|()| buf.len()))
        }
        fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
        fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
            Poll::Ready(Ok(()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mismatch_names_both_commands() {
        let mut fake = FakeAsterisk::builder()
            .expect("EXEC VoiceMail \"101@sales,u\"", "200 result=0")
            .build();
        let mut env = [0u8; 8];
        assert_eq!(
            fake.read(&mut env).unwrap(),
            1,
            "the empty environment block"
        );
        let err = fake.write(b"EXEC VoiceMail 101@sales,b\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("expected: EXEC VoiceMail \\\"101@sales,u\\\""),
            "{msg}"
        );
        assert!(
            msg.contains("received: EXEC VoiceMail 101@sales,b"),
            "{msg}"
        );
        assert!(
            msg.contains("\"101@sales,u\"") && msg.contains("\"101@sales,b\""),
            "{msg}"
        );
        let finish = std::panic::catch_unwind(|| fake.finish());
        assert!(finish.is_err(), "finish reports the mismatch");
    }

    #[test]
    fn quoting_style_does_not_matter_and_missing_commands_are_reported() {
        let mut fake = FakeAsterisk::builder()
            .expect("EXEC Dial \"SIP/bob,5\"", "200 result=0")
            .expect("HANGUP", "200 result=1")
            .build();
        fake.write_all(b"EXEC \"Dial\" SIP/bob\\,5\n").unwrap();
        let mut buf = [0u8; 64];
        let n = fake.read(&mut buf).unwrap();
        assert_eq!(
            &buf[..n],
            b"\n200 result=0\n",
            "the empty environment, then the reply"
        );
        let finish = std::panic::catch_unwind(|| fake.finish());
        assert!(finish.is_err(), "HANGUP was never sent");
    }

    #[test]
    fn command_words_match_in_any_case_and_arguments_do_not() {
        let mut fake = FakeAsterisk::builder()
            .expect("SPEECH LOAD GRAMMAR g /x", "200 result=1")
            .expect("GET VARIABLE X", "200 result=0")
            .build();
        fake.write_all(b"speech Load grammar g /x\n").unwrap();
        assert!(fake.write_all(b"get variable x\n").is_err(), "x is not X");
        let finish = std::panic::catch_unwind(|| fake.finish());
        assert!(finish.is_err());
    }

    #[test]
    fn a_last_line_without_its_line_feed_fails_the_script() {
        let mut fake = FakeAsterisk::builder()
            .expect("NOOP", "200 result=0")
            .build();
        fake.write_all(b"NOOP\nEXEC System rm").unwrap();
        let finish = std::panic::catch_unwind(|| fake.finish());
        assert!(finish.is_err(), "Asterisk would run it at the end");
    }

    #[test]
    fn waiting_for_a_reply_names_the_command_the_script_expects() {
        let mut fake = FakeAsterisk::builder()
            .expect("NOOP", "200 result=0")
            .build();
        let mut buf = [0u8; 8];
        assert_eq!(
            fake.read(&mut buf).unwrap(),
            1,
            "the empty environment block"
        );
        let err = fake.read(&mut buf).unwrap_err().to_string();
        assert!(err.contains("expects it to send NOOP first"), "{err}");
    }
}
