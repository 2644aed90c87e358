//! What the router does with one call, decided one command at a time from
//! the previous reply. The logic is here once; `run_sync` and `run_async`
//! only send what it asks for.

use agi_client::Error;
use agi_proto::EscapeDigits;

use crate::config::Tables;

/// The next AGI command the router wants sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ask {
    /// `EXEC <app> <args>`
    Exec(&'static str, String),
    /// `GET VARIABLE <name>`
    GetVariable(&'static str),
    /// `VERBOSE <message>`
    Verbose(String),
    /// `ANSWER`
    Answer,
    /// `STREAM FILE <file> ""`
    Play(&'static str),
    /// `HANGUP`
    Hangup,
}

/// What the last command gave back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Got {
    /// Nothing sent yet, or a command without a useful result.
    Nothing,
    /// An application's return code.
    Code(i64),
    /// A variable's value.
    Value(Option<String>),
    /// The prompt failed: missing, or the caller hung up while it played.
    PromptFailed,
}

/// How the call ended, for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// The callee answered (the call then ended when either side hung up).
    Answered,
    /// The caller reached voicemail (`b` busy or `u` unavailable).
    Voicemail(char),
    /// The caller used a mailbox.
    MailboxOpened,
    /// Nothing is routed there; `prompt_played` is false when the channel
    /// outlived a failed prompt (the file is missing: worth a warning).
    Invalid {
        /// Whether `pbx-invalid` played.
        prompt_played: bool,
    },
    /// The caller hung up first.
    CallerHungUp,
}

#[derive(Debug)]
enum Stage {
    Start,
    Dialed {
        mailbox: String,
    },
    Status {
        mailbox: String,
    },
    /// Dial returned -1: the channel is gone, after a call or before one.
    Ended,
    Recording(char),
    InMailbox,
    Unknown(u8),
    Done(End),
}

/// One call through the router.
#[derive(Debug)]
pub struct Call<'t> {
    exten: String,
    tables: &'t Tables,
    stage: Stage,
}

impl<'t> Call<'t> {
    /// A call to `exten`.
    pub fn new(exten: &str, tables: &'t Tables) -> Self {
        Call {
            exten: exten.to_owned(),
            tables,
            stage: Stage::Start,
        }
    }

    /// The next command, given what the previous one returned; `None` when
    /// the call is over.
    pub fn next(&mut self, got: Got) -> Option<Ask> {
        let (stage, ask) = match (
            std::mem::replace(&mut self.stage, Stage::Done(End::CallerHungUp)),
            got,
        ) {
            (Stage::Start, _) => self.start(),
            // Dial returns -1 when the channel hangs up: the caller while it
            // rang, or either side after an answered call (without Dial's
            // `g` option). DIALSTATUS, readable on a dead channel, tells.
            (Stage::Dialed { .. }, Got::Code(-1)) => {
                (Stage::Ended, Some(Ask::GetVariable("DIALSTATUS")))
            }
            (Stage::Ended, Got::Value(status)) => match status.as_deref() {
                Some("ANSWER") => (Stage::Done(End::Answered), None),
                _ => (Stage::Done(End::CallerHungUp), None),
            },
            (Stage::Dialed { mailbox }, _) => (
                Stage::Status { mailbox },
                Some(Ask::GetVariable("DIALSTATUS")),
            ),
            (Stage::Status { mailbox }, Got::Value(status)) => {
                match voicemail_option(status.as_deref()) {
                    None => (Stage::Done(End::Answered), Some(Ask::Hangup)),
                    Some(option) => (
                        Stage::Recording(option),
                        Some(Ask::Exec("VoiceMail", format!("{mailbox},{option}"))),
                    ),
                }
            }
            // VoiceMail returns -1 when the caller hangs up while recording:
            // a normal end, and nothing is left to hang up.
            (Stage::Recording(o), Got::Code(-1)) => (Stage::Done(End::Voicemail(o)), None),
            (Stage::Recording(o), _) => (Stage::Done(End::Voicemail(o)), Some(Ask::Hangup)),
            (Stage::InMailbox, Got::Code(-1)) => (Stage::Done(End::MailboxOpened), None),
            (Stage::InMailbox, _) => (Stage::Done(End::MailboxOpened), Some(Ask::Hangup)),
            (Stage::Unknown(0), _) => (Stage::Unknown(1), Some(Ask::Answer)),
            (Stage::Unknown(1), _) => (Stage::Unknown(2), Some(Ask::Play("pbx-invalid"))),
            // A failed prompt and a caller still there after it (HANGUP is
            // refused with 511 on a dead channel) mean a missing file.
            (Stage::Unknown(2), Got::PromptFailed) => (Stage::Unknown(3), Some(Ask::Hangup)),
            (Stage::Unknown(3), _) => (
                Stage::Done(End::Invalid {
                    prompt_played: false,
                }),
                None,
            ),
            (Stage::Unknown(_), _) => (
                Stage::Done(End::Invalid {
                    prompt_played: true,
                }),
                Some(Ask::Hangup),
            ),
            (stage @ (Stage::Status { .. } | Stage::Ended | Stage::Done(_)), _) => (stage, None),
        };
        self.stage = stage;
        ask
    }

    fn start(&self) -> (Stage, Option<Ask>) {
        if let Some(r) = self.tables.routes.get(&self.exten) {
            let dial = format!("{}/{},{}", r.chan, r.peer, r.maxwait);
            let mailbox = format!("{}@{}", self.exten, r.vm_context);
            (Stage::Dialed { mailbox }, Some(Ask::Exec("Dial", dial)))
        } else if let Some(m) = self
            .tables
            .mailboxes
            .get(&self.exten)
            .filter(|_| self.exten.starts_with('*'))
        {
            (
                Stage::InMailbox,
                Some(Ask::Exec(
                    "VoiceMailMain",
                    format!("{}@{}", m.vm_box, m.vm_context),
                )),
            )
        } else {
            let msg = format!("voicemail-router: no route for {:?}", self.exten);
            (Stage::Unknown(0), Some(Ask::Verbose(msg)))
        }
    }

    /// How the call ended (once `next` returned `None`, or the caller hung up).
    pub fn end(&self) -> End {
        match self.stage {
            Stage::Done(end) => end,
            _ => End::CallerHungUp,
        }
    }
}

/// `VoiceMail`'s option for a `DIALSTATUS`: `None` when answered, `b` for
/// busy, `u` for anything else (NOANSWER, CHANUNAVAIL, CONGESTION…).
pub fn voicemail_option(dialstatus: Option<&str>) -> Option<char> {
    match dialstatus {
        Some("ANSWER") => None,
        Some("BUSY") => Some('b'),
        _ => Some('u'),
    }
}

/// A hangup ends the call normally, and so does an ANSWER refused (the
/// caller hung up before it); a prompt that fails is not worth failing the
/// call: it is missing, or the caller hung up while it played, which the
/// next command tells.
fn tolerate(result: Result<Got, Error>) -> Result<Option<Got>, Error> {
    use agi_proto::Failure::Rejected;
    match result {
        Ok(got) => Ok(Some(got)),
        Err(e) if e.is_hangup() => Ok(None),
        Err(Error::Failure(Rejected {
            command: "ANSWER", ..
        })) => Ok(None),
        Err(Error::Failure(Rejected {
            command: "STREAM FILE",
            ..
        })) => Ok(Some(Got::PromptFailed)),
        Err(e) => Err(e),
    }
}

/// The call loop, once for both clients: `$($aw)?` is `await` for the
/// async channel and nothing for the blocking one.
macro_rules! drive {
    ($chan:ident, $exten:ident, $tables:ident $(, $aw:tt)?) => {{
        let mut call = Call::new($exten, $tables);
        let mut got = Got::Nothing;
        while let Some(ask) = call.next(got) {
            // Nothing more to do on a channel that is gone, but reading a
            // variable (allowed there: it says how the call ended).
            if $chan.is_hung_up() && !matches!(ask, Ask::GetVariable(_)) {
                return Ok(call.end());
            }
            let result = match ask {
                Ask::Exec(app, args) => $chan.exec(app, &args)$(.$aw)?.map(Got::Code),
                Ask::GetVariable(name) => $chan
                    .get_variable(name)$(.$aw)?
                    .map(|v| Got::Value(v.map(|v| v.to_string()))),
                Ask::Verbose(msg) => $chan.verbose(&msg)$(.$aw)?.map(|()| Got::Nothing),
                Ask::Answer => $chan.answer()$(.$aw)?.map(|()| Got::Nothing),
                Ask::Play(file) => $chan
                    .stream_file(file, EscapeDigits::NONE)$(.$aw)?
                    .map(|_| Got::Nothing),
                Ask::Hangup => $chan.hangup()$(.$aw)?.map(|()| Got::Nothing),
            };
            got = match tolerate(result)? {
                Some(got) => got,
                None => return Ok(End::CallerHungUp),
            };
        }
        Ok(call.end())
    }};
}

/// Runs the call on a blocking channel (standard AGI).
pub fn run_sync<R: std::io::Read, W: std::io::Write>(
    chan: &mut agi_client::sync::Channel<R, W>,
    exten: &str,
    tables: &Tables,
) -> Result<End, Error> {
    drive!(chan, exten, tables)
}

/// Runs the call on an async channel (FastAGI).
pub async fn run_async<S>(
    chan: &mut agi_client::aio::Channel<S>,
    exten: &str,
    tables: &Tables,
) -> Result<End, Error>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    drive!(chan, exten, tables, await)
}
