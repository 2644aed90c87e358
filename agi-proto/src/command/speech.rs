//! Speech recognition through a `res_speech` engine: the SPEECH commands.
//!
//! One speech object exists per session. Without an engine every command
//! answers `result=0`, which these types report as [`Failure::Rejected`].
//!
//! ```
//! use std::time::Duration;
//! use agi_proto::command::{Command, SpeechOutcome, SpeechRecognize};
//! use agi_proto::{parse_frame, Frame};
//!
//! let wire = b"200 result=1 (speech) endpos=0 results=1 score0=870 text0=\"call bob\" grammar0=dial\n";
//! let (Frame::Reply(reply), _) = parse_frame(wire)?.complete().unwrap() else { unreachable!() };
//! let SpeechOutcome::Speech { results, .. } = SpeechRecognize::new("prompt", Duration::from_secs(5)).parse_reply(&reply)? else {
//!     unreachable!()
//! };
//! assert_eq!(results[0].text, "call bob");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::time::Duration;

use super::types::Digit;
use super::{Command, bare_command, expect_result, int_field, rejected, result_of, unexpected};
use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;
use crate::value::Value;

macro_rules! speech_command {
    ($(#[$doc:meta])* $name:ident, $words:literal, dead: $dead:literal, $($field:ident: $doc_field:literal),*) => {
        $(#[$doc])*
        ///
        /// # Errors
        /// [`Failure::Rejected`] (`result=0`) when there is no speech object
        /// or the engine refused.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            $(#[doc = $doc_field] pub $field: &'a str,)*
        }

        impl<'a> $name<'a> {
            #[doc = concat!("Builds `", $words, "`.")]
            pub fn new($($field: &'a str),*) -> Self {
                $name { $($field),* }
            }
        }

        impl Command for $name<'_> {
            type Output = ();
            const NAME: &'static str = $words;
            const DEAD_OK: bool = $dead;
            fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
                w.words(Self::NAME);
                $(w.arg(self.$field)?;)*
                Ok(())
            }
            fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
                expect_result(Self::NAME, reply, 1)
            }
        }
    };
}

speech_command!(
    /// `SPEECH SET <name> <value>`: sets an engine setting.
    SpeechSet, "SPEECH SET", dead: false, name: "Setting name.", value: "Setting value."
);
speech_command!(
    /// `SPEECH LOAD GRAMMAR <grammar> <path>`: loads a grammar.
    SpeechLoadGrammar, "SPEECH LOAD GRAMMAR", dead: false, grammar: "Grammar name.", path: "Grammar file."
);
speech_command!(
    /// `SPEECH UNLOAD GRAMMAR <grammar>`: unloads a grammar.
    SpeechUnloadGrammar, "SPEECH UNLOAD GRAMMAR", dead: true, grammar: "Grammar name."
);
speech_command!(
    /// `SPEECH ACTIVATE GRAMMAR <grammar>`: activates a loaded grammar.
    SpeechActivateGrammar, "SPEECH ACTIVATE GRAMMAR", dead: false, grammar: "Grammar name."
);
speech_command!(
    /// `SPEECH DEACTIVATE GRAMMAR <grammar>`: deactivates a grammar.
    SpeechDeactivateGrammar, "SPEECH DEACTIVATE GRAMMAR", dead: false, grammar: "Grammar name."
);

/// `SPEECH CREATE [engine]`: creates the session's speech object.
///
/// # Errors
/// [`Failure::Rejected`] (`result=0`) when no engine is available or one
/// object already exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpeechCreate<'a> {
    /// Engine name; `None` for the default engine.
    pub engine: Option<&'a str>,
}

impl Command for SpeechCreate<'_> {
    type Output = ();
    const NAME: &'static str = "SPEECH CREATE";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        self.engine.map_or(Ok(()), |e| w.arg(e))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 1)
    }
}

bare_command!(
    /// `SPEECH DESTROY`: destroys the speech object.
    ///
    /// # Errors
    /// [`Failure::Rejected`] (`result=0`) when there is none.
    SpeechDestroy, "SPEECH DESTROY", dead: true, ok: 1
);

/// One recognition hypothesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpeechResult {
    /// Engine confidence score.
    pub score: i64,
    /// Recognised text, as the engine produced it.
    pub text: Value<'static>,
    /// The grammar that matched.
    pub grammar: Value<'static>,
}

/// How SPEECH RECOGNIZE ended. `endpos` is the prompt position in samples
/// when the engine stopped it (barge-in), else 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpeechOutcome {
    /// Speech was recognised.
    Speech {
        /// Prompt position at barge-in.
        endpos: u64,
        /// Hypotheses, best first as the engine ordered them. Asterisk
        /// caps their part of the line at 4,095 bytes: those it cut off
        /// are left out (the last one kept may have lost the end of its
        /// grammar's name).
        results: Vec<SpeechResult>,
    },
    /// The caller pressed a key.
    Digit {
        /// The key.
        digit: Digit,
        /// Prompt position.
        endpos: u64,
    },
    /// Nothing was recognised in time.
    Timeout {
        /// Prompt position.
        endpos: u64,
    },
    /// The caller hung up (Asterisk reports this with `result=1`).
    Hangup {
        /// Prompt position.
        endpos: u64,
    },
}

/// `SPEECH RECOGNIZE <prompt> <timeout_s> [offset]`: plays `prompt` and
/// listens.
///
/// # Errors
/// [`Failure::Rejected`] (`result=0`) when there is no speech object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpeechRecognize<'a> {
    /// Prompt file.
    pub prompt: &'a str,
    /// Time to wait after the prompt, sent in whole **seconds** (a
    /// fraction rounds up); zero for no limit.
    pub timeout: Duration,
    /// Start the prompt this many samples in.
    pub offset: Option<u64>,
}

impl<'a> SpeechRecognize<'a> {
    /// Plays `prompt`, then listens up to `timeout`.
    pub fn new(prompt: &'a str, timeout: Duration) -> Self {
        SpeechRecognize {
            prompt,
            timeout,
            offset: None,
        }
    }
}

impl Command for SpeechRecognize<'_> {
    type Output = SpeechOutcome;
    const NAME: &'static str = "SPEECH RECOGNIZE";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.prompt)?;
        // Rounded up: a timeout under a second must not become 0 (no limit).
        w.int(super::secs(self.timeout));
        if let Some(offset) = self.offset {
            w.int(offset);
        }
        Ok(())
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<SpeechOutcome, Failure> {
        let result = result_of(Self::NAME, reply)?;
        if result != 1 {
            return Err(rejected(Self::NAME, result, reply));
        }
        let endpos = int_field(reply, "endpos").unwrap_or(0).max(0) as u64;
        match reply.keyword() {
            Some(b"speech") => {
                let count = int_field(reply, "results").unwrap_or(0).clamp(0, 1024) as usize;
                let mut results = Vec::with_capacity(count);
                let mut key = String::new();
                let mut field = |name: &str, i: usize| {
                    key.clear();
                    key.push_str(name);
                    key.push_str(itoa::Buffer::new().format(i));
                    reply.field(&key)
                };
                // Asterisk caps this part of the line at 4,095 bytes: a
                // result it cut off (a field missing) ends the list.
                for i in 0..count {
                    let Some(score) = field("score", i).and_then(crate::value::parse_int) else {
                        break;
                    };
                    let Some(text) = field("text", i).map(Value::copied) else {
                        break;
                    };
                    let Some(grammar) = field("grammar", i).map(Value::copied) else {
                        break;
                    };
                    results.push(SpeechResult {
                        score,
                        text,
                        grammar,
                    });
                }
                Ok(SpeechOutcome::Speech { endpos, results })
            }
            Some(b"digit") => {
                let digit = reply
                    .field("digit")
                    .and_then(|d| match d {
                        [c] => Digit::from_ascii(*c),
                        _ => None,
                    })
                    .ok_or_else(|| unexpected(Self::NAME, reply))?;
                Ok(SpeechOutcome::Digit { digit, endpos })
            }
            Some(b"timeout") => Ok(SpeechOutcome::Timeout { endpos }),
            Some(b"hangup") => Ok(SpeechOutcome::Hangup { endpos }),
            _ => Err(unexpected(Self::NAME, reply)),
        }
    }
}
