//! The rules of one command in flight, written once for every driver.
//!
//! After writing a command line, a driver feeds each frame it reads to
//! [`Exchange::step`] until it gets [`Step::Done`]:
//! - `HANGUP` lines are out-of-band: they can come before the reply, and
//!   mark the channel dead ([`Step::Hangup`]);
//! - GOSUB's `100 result=0 Trying...` is interim ([`Step::Interim`]);
//! - `510`, `511` and `520` become a [`Failure`];
//! - EXEC whose application returned 1 is followed by a `520` block that
//!   belongs to it, which is consumed before `Done`.

use crate::command::Command;
use crate::error::Failure;
use crate::reply::{Frame, Reply};

/// What the driver does next.
#[derive(Debug, PartialEq, Eq)]
pub enum Step<T> {
    /// A `HANGUP` notification: record that the channel is dead, keep
    /// reading for the reply.
    Hangup,
    /// An interim line; keep reading.
    Interim,
    /// The command's outcome: stop reading.
    Done(Result<T, Failure>),
}

/// One command's exchange: the command and what has been read so far.
///
/// ```
/// use agi_proto::command::Gosub;
/// use agi_proto::{parse_frame, Exchange, Step};
///
/// let gosub = Gosub::new("sub", "s", "1");
/// let mut exchange = Exchange::new(&gosub);
/// let mut wire: &[u8] = b"100 result=0 Trying...\nHANGUP\n200 result=0 Gosub complete\n";
/// let mut steps = Vec::new();
/// loop {
///     let (frame, used) = parse_frame(wire)?.complete().unwrap();
///     wire = &wire[used..];
///     match exchange.step(frame) {
///         Step::Done(outcome) => { assert!(outcome.is_ok()); break; }
///         step => steps.push(step),
///     }
/// }
/// assert_eq!(steps, [Step::Interim, Step::Hangup]);
/// # Ok::<(), agi_proto::ParseError>(())
/// ```
#[derive(Debug)]
pub struct Exchange<'c, C: Command> {
    command: &'c C,
    /// The outcome already decided while a trailing usage block is read.
    pending: Option<Result<C::Output, Failure>>,
}

impl<'c, C: Command> Exchange<'c, C> {
    /// Starts the exchange for `command`, already written to the peer.
    pub fn new(command: &'c C) -> Self {
        Exchange {
            command,
            pending: None,
        }
    }

    /// Takes the next frame read from the peer.
    #[inline]
    pub fn step(&mut self, frame: Frame<'_>) -> Step<C::Output> {
        // The usual frame first, inline; the rest out of line, so that the
        // code each command type runs per reply stays small.
        if let (Frame::Reply(reply), None) = (&frame, &self.pending) {
            if reply.code() != 100 {
                return self.reply(reply);
            }
        }
        self.step_rare(frame)
    }

    #[cold]
    #[inline(never)]
    fn step_rare(&mut self, frame: Frame<'_>) -> Step<C::Output> {
        if let Some(outcome) = self.pending.take() {
            return match frame {
                Frame::Hangup => {
                    self.pending = Some(outcome);
                    Step::Hangup
                }
                Frame::Usage(_) => Step::Done(outcome),
                // Not the expected block: the reply stands, and the frame is
                // reported so the stream's state is not silently guessed.
                other => Step::Done(Err(unexpected_frame(C::NAME, &other))),
            };
        }
        match frame {
            Frame::Hangup => Step::Hangup,
            // `step` took every other reply; only an interim `100` gets here.
            Frame::Reply(_) => Step::Interim,
            Frame::InvalidCommand => Step::Done(Err(Failure::InvalidCommand)),
            Frame::DeadChannel => Step::Done(Err(Failure::DeadChannel)),
            Frame::Usage(usage) => Step::Done(Err(Failure::Usage(
                String::from_utf8_lossy(usage.text).into_owned(),
            ))),
            other @ Frame::Other { .. } => Step::Done(Err(unexpected_frame(C::NAME, &other))),
        }
    }

    #[inline]
    fn reply(&mut self, reply: &Reply<'_>) -> Step<C::Output> {
        let outcome = self.command.parse_reply(reply);
        if self.command.usage_follows(reply) {
            self.pending = Some(outcome);
            Step::Interim
        } else {
            Step::Done(outcome)
        }
    }
}

fn unexpected_frame(command: &'static str, frame: &Frame<'_>) -> Failure {
    let line = match frame {
        Frame::Reply(r) => String::from_utf8_lossy(r.line()).into_owned(),
        Frame::Other { code, text } => format!("{code} {}", String::from_utf8_lossy(text)),
        other => format!("{other:?}"),
    };
    Failure::Unexpected { command, line }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{Exec, Noop};
    use crate::reply::parse_frame;

    fn run<C: Command>(
        cmd: &C,
        mut wire: &[u8],
    ) -> (Vec<&'static str>, Result<C::Output, Failure>, usize) {
        let mut ex = Exchange::new(cmd);
        let mut events = Vec::new();
        let total = wire.len();
        loop {
            let (frame, used) = parse_frame(wire).unwrap().complete().unwrap();
            wire = &wire[used..];
            match ex.step(frame) {
                Step::Hangup => events.push("hangup"),
                Step::Interim => events.push("interim"),
                Step::Done(r) => return (events, r, total - wire.len()),
            }
        }
    }

    #[test]
    fn hangup_before_reply_is_an_event() {
        let (events, r, used) = run(&Noop, b"HANGUP\n200 result=0\nHANGUP\n");
        assert_eq!(events, ["hangup"]);
        assert_eq!(r, Ok(()));
        assert_eq!(used, 20, "the trailing HANGUP belongs to the next read");
    }

    #[test]
    fn error_codes_become_failures() {
        assert_eq!(
            run(&Noop, b"510 Invalid or unknown command\n").1,
            Err(Failure::InvalidCommand)
        );
        assert_eq!(
            run(
                &Noop,
                b"511 Command Not Permitted on a dead channel or intercept routine\n"
            )
            .1,
            Err(Failure::DeadChannel)
        );
        let usage = b"520-Invalid command syntax.  Proper usage follows:\nUse it well.\n520 End of proper usage.\n";
        assert_eq!(
            run(&Noop, usage).1,
            Err(Failure::Usage("Use it well.".into()))
        );
        assert!(matches!(
            run(&Noop, b"999 what\n").1,
            Err(Failure::Unexpected { .. })
        ));
    }

    #[test]
    fn exec_returning_one_consumes_its_usage_block() {
        let exec = Exec::new("Something", "x");
        let wire = b"200 result=1\nHANGUP\n520-Invalid command syntax.  Proper usage follows:\nx\n520 End of proper usage.\n200 result=0\n";
        let (events, r, used) = run(&exec, wire);
        assert_eq!(r, Ok(1));
        assert_eq!(events, ["interim", "hangup"]);
        assert_eq!(&wire[used..], b"200 result=0\n");
        // Any other return value ends the exchange at once.
        let (_, r, used) = run(&exec, b"200 result=0\n200 result=0\n");
        assert_eq!((r, used), (Ok(0), 13));
    }
}
