//! Typed scripts: what each transcript's script did, written with the typed
//! command API, and the typed outcome each reply must produce.

use std::fmt::Debug;

use std::future::Future;
use std::pin::Pin;

use agi_client::testing::FakeAsterisk;
use agi_proto::command::Command;
use agi_proto::{
    ArgWriter, EncodeError, Exchange, Failure, Limits, Reply, Status, Step, encode_command,
    parse_frame,
};

/// The kind of failure a step must end in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fail {
    Invalid,
    Dead,
    Usage,
    Rejected,
    AppNotFound,
}

impl Fail {
    fn matches(self, f: &Failure) -> bool {
        matches!(
            (self, f),
            (Fail::Invalid, Failure::InvalidCommand)
                | (Fail::Dead, Failure::DeadChannel)
                | (Fail::Usage, Failure::Usage(_))
                | (Fail::Rejected, Failure::Rejected { .. })
                | (Fail::AppNotFound, Failure::ApplicationNotFound(_))
        )
    }
}

/// One command of a script and its expected outcome.
pub trait Case {
    /// The command line, LF included.
    fn encode(&self) -> Vec<u8>;
    /// Runs the exchange over the frames at the start of `input`: bytes
    /// consumed and `HANGUP` lines seen, or what did not match.
    fn replay(&self, input: &[u8]) -> Result<(usize, usize), String>;
    /// Sends the command through the blocking client.
    fn run_sync(&self, chan: &mut SyncChannel) -> Result<(), String>;
    /// Sends the command through the async client.
    fn run_async<'a>(
        &'a self,
        chan: &'a mut AsyncChannel,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>>;
}

pub type SyncChannel = agi_client::sync::Channel<FakeAsterisk, FakeAsterisk>;
pub type AsyncChannel = agi_client::aio::Channel<FakeAsterisk>;

impl<C: Command> Typed<C>
where
    C::Output: Debug + PartialEq,
{
    fn check(&self, got: Result<C::Output, agi_client::Error>) -> Result<(), String> {
        let matched = match (&got, &self.expect) {
            (Ok(got), Ok(want)) => got == want,
            (Err(agi_client::Error::Failure(got)), Err(want)) => want.matches(got),
            _ => false,
        };
        if matched {
            Ok(())
        } else {
            Err(format!("{}: got {got:?}, want {:?}", C::NAME, self.expect))
        }
    }
}

struct Typed<C: Command> {
    cmd: C,
    expect: Result<C::Output, Fail>,
}

impl<C: Command + Sync> Case for Typed<C>
where
    C::Output: Debug + PartialEq + Send,
{
    fn run_sync(&self, chan: &mut SyncChannel) -> Result<(), String> {
        self.check(chan.send(&self.cmd))
    }

    fn run_async<'a>(
        &'a self,
        chan: &'a mut AsyncChannel,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + 'a>> {
        Box::pin(async move { self.check(chan.send(&self.cmd).await) })
    }

    fn encode(&self) -> Vec<u8> {
        let mut line = Vec::new();
        encode_command(&self.cmd, &Limits::default(), &mut line).expect("encodable");
        line
    }

    fn replay(&self, input: &[u8]) -> Result<(usize, usize), String> {
        let mut exchange = Exchange::new(&self.cmd);
        let (mut at, mut hangups) = (0, 0);
        loop {
            let Status::Complete { value, consumed } =
                parse_frame(&input[at..]).map_err(|e| e.to_string())?
            else {
                return Err(format!("{}: stream ends before the reply", C::NAME));
            };
            at += consumed;
            match exchange.step(value) {
                Step::Hangup => hangups += 1,
                Step::Interim => {}
                Step::Done(outcome) => {
                    let matched = match (&outcome, &self.expect) {
                        (Ok(got), Ok(want)) => got == want,
                        (Err(got), Err(want)) => want.matches(got),
                        _ => false,
                    };
                    return if matched {
                        Ok((at, hangups))
                    } else {
                        Err(format!(
                            "{}: got {outcome:?}, want {:?}",
                            C::NAME,
                            self.expect
                        ))
                    };
                }
            }
        }
    }
}

pub fn ok<C: Command + Sync + 'static>(cmd: C, out: C::Output) -> Box<dyn Case>
where
    C::Output: Debug + PartialEq + Send,
{
    Box::new(Typed {
        cmd,
        expect: Ok(out),
    })
}

pub fn fail<C: Command + Sync + 'static>(cmd: C, kind: Fail) -> Box<dyn Case>
where
    C::Output: Debug + PartialEq + Send,
{
    Box::new(Typed {
        cmd,
        expect: Err(kind),
    })
}

/// A line the typed API refuses to build (unknown commands, missing
/// arguments, odd case), sent verbatim to see Asterisk's answer.
pub struct Raw(pub &'static str);

impl Command for Raw {
    type Output = ();
    const NAME: &'static str = "raw line";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        if !self.0.is_empty() {
            w.words(self.0);
        }
        Ok(())
    }
    fn parse_reply(&self, _: &Reply<'_>) -> Result<(), Failure> {
        Ok(())
    }
}

pub fn raw(line: &'static str, expect: Result<(), Fail>) -> Box<dyn Case> {
    Box::new(Typed {
        cmd: Raw(line),
        expect,
    })
}
