//! Sending to the caller: SEND TEXT, SEND IMAGE, TDD MODE, SET CALLERID.
//!
//! ```
//! use agi_proto::command::SetCallerId;
//! use agi_proto::{encode_command, tokenize, Limits};
//!
//! let mut line = Vec::new();
//! encode_command(&SetCallerId::new("\"Bob\" <101>"), &Limits::default(), &mut line)?;
//! // Asterisk's tokenizer gets the inner quotes back.
//! assert_eq!(tokenize(&line[..line.len() - 1])[2], b"\"Bob\" <101>");
//! # Ok::<(), agi_proto::EncodeError>(())
//! ```

use super::{Command, expect_result, result_of, unexpected};
use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;

/// `SEND TEXT <text>`: sends a text message to the channel.
///
/// # Errors
/// [`Failure::Rejected`] (`result=-1`) on hangup **or** when the channel
/// cannot carry text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendText<'a> {
    /// The message.
    pub text: &'a [u8],
}

impl<'a> SendText<'a> {
    /// Sends `text`.
    pub fn new(text: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        SendText {
            text: text.as_ref(),
        }
    }
}

impl Command for SendText<'_> {
    type Output = ();
    const NAME: &'static str = "SEND TEXT";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.text)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 0)
    }
}

/// `SEND IMAGE <image>`: sends an image to channels that support it.
///
/// # Errors
/// [`Failure::Rejected`] (`result=-1`) when the channel is hung up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendImage<'a> {
    /// Image name.
    pub image: &'a str,
}

impl<'a> SendImage<'a> {
    /// Sends `image`.
    pub fn new(image: &'a str) -> Self {
        SendImage { image }
    }
}

impl Command for SendImage<'_> {
    type Output = ();
    const NAME: &'static str = "SEND IMAGE";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.image)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 0)
    }
}

/// A TDD (telecommunications device for the deaf) mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tdd {
    /// TDD on.
    On,
    /// TDD off.
    Off,
    /// Mate mode.
    Mate,
}

/// `TDD MODE <on|off|mate>`: switches TDD mode; `false` when the channel is
/// not TDD-capable (`result=0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TddMode {
    /// The mode.
    pub mode: Tdd,
}

impl Command for TddMode {
    type Output = bool;
    const NAME: &'static str = "TDD MODE";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(match self.mode {
            Tdd::On => "on",
            Tdd::Off => "off",
            Tdd::Mate => "mate",
        })
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<bool, Failure> {
        match result_of(Self::NAME, reply)? {
            1 => Ok(true),
            0 => Ok(false),
            _ => Err(unexpected(Self::NAME, reply)),
        }
    }
}

/// `SET CALLERID <callerid>`: sets the caller id, in the usual
/// `"Name" <number>` form (or just a number). The inner quotes are escaped
/// by the encoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetCallerId<'a> {
    /// The caller id string.
    pub callerid: &'a [u8],
}

impl<'a> SetCallerId<'a> {
    /// Sets the caller id to `callerid`.
    pub fn new(callerid: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        SetCallerId {
            callerid: callerid.as_ref(),
        }
    }
}

impl Command for SetCallerId<'_> {
    type Output = ();
    const NAME: &'static str = "SET CALLERID";
    const DEAD_OK: bool = false;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.callerid)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 1)
    }
}
