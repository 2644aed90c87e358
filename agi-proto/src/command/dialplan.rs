//! Dialplan location and channel variables: SET CONTEXT / EXTENSION /
//! PRIORITY / VARIABLE, GET VARIABLE, GET FULL VARIABLE.
//!
//! ```
//! use agi_proto::command::{Command, GetVariable};
//! use agi_proto::{parse_frame, Frame};
//!
//! let get = GetVariable::new("UNSET_OR_EMPTY");
//! let reply = |wire: &'static [u8]| match parse_frame(wire).unwrap().complete().unwrap().0 {
//!     Frame::Reply(r) => r,
//!     _ => unreachable!(),
//! };
//! assert_eq!(get.parse_reply(&reply(b"200 result=0\n"))?, None, "not set");
//! assert_eq!(get.parse_reply(&reply(b"200 result=1 ()\n"))?.unwrap(), "", "set but empty");
//! # Ok::<(), agi_proto::Failure>(())
//! ```

use super::{Command, expect_result, rejected, result_of, unexpected};
use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;
use crate::value::Value;

macro_rules! location_command {
    ($(#[$doc:meta])* $name:ident, $words:literal, $field:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name<'a> {
            #[doc = concat!("The new ", stringify!($field), ".")]
            pub $field: &'a str,
        }

        impl<'a> $name<'a> {
            #[doc = concat!("Sets the ", stringify!($field), " to `", stringify!($field), "`.")]
            pub fn new($field: &'a str) -> Self {
                $name { $field }
            }
        }

        impl Command for $name<'_> {
            type Output = ();
            const NAME: &'static str = $words;
            const DEAD_OK: bool = false;
            fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
                w.words(Self::NAME);
                w.arg(self.$field)
            }
            fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
                expect_result(Self::NAME, reply, 0)
            }
        }
    };
}

location_command!(
    /// `SET CONTEXT <context>`: where the dialplan continues after the AGI
    /// (at the current priority + 1). Send context, extension, priority in
    /// that order.
    SetContext, "SET CONTEXT", context
);
location_command!(
    /// `SET EXTENSION <extension>`: the extension the dialplan continues at.
    SetExtension, "SET EXTENSION", extension
);
location_command!(
    /// `SET PRIORITY <number|label>`: the exact priority to continue at. An
    /// unknown label gets a `520` ([`Failure::Usage`]).
    SetPriority, "SET PRIORITY", priority
);

/// `SET VARIABLE <name> <value>`: sets a channel variable, or writes a
/// dialplan function when `name` is `FUNC(args)`. A leading `_` or `__`
/// makes it inherited.
///
/// # Errors
/// [`EncodeError::InvalidArgument`] for an empty name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetVariable<'a> {
    /// Variable name.
    pub name: &'a str,
    /// The value; empty stores an empty string.
    pub value: &'a [u8],
}

impl<'a> SetVariable<'a> {
    /// Sets `name` to `value`.
    pub fn new(name: &'a str, value: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        SetVariable {
            name,
            value: value.as_ref(),
        }
    }
}

impl Command for SetVariable<'_> {
    type Output = ();
    const NAME: &'static str = "SET VARIABLE";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        if self.name.is_empty() {
            return Err(EncodeError::InvalidArgument("empty variable name"));
        }
        w.words(Self::NAME);
        w.arg(self.name)?;
        w.arg(self.value)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 1)
    }
}

/// `GET VARIABLE <name>`: a channel variable, or a function's value when
/// `name` ends in `)` (`CALLERID(num)`). `None` when unset, `Some("")` when
/// set but empty.
///
/// Asterisk cuts the value at 1023 bytes; read long values whole with
/// [`GetFullVariable`] and `${NAME}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetVariable<'a> {
    /// Variable name or function call.
    pub name: &'a str,
}

impl<'a> GetVariable<'a> {
    /// Reads `name`.
    pub fn new(name: &'a str) -> Self {
        GetVariable { name }
    }
}

impl Command for GetVariable<'_> {
    type Output = Option<Value<'static>>;
    const NAME: &'static str = "GET VARIABLE";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.name)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Self::Output, Failure> {
        optional_data(Self::NAME, reply)
    }
}

/// `result=1 (data)` → `Some(data)`, `result=0` → `None`.
pub(crate) fn optional_data(
    name: &'static str,
    reply: &Reply<'_>,
) -> Result<Option<Value<'static>>, Failure> {
    match result_of(name, reply)? {
        1 => reply
            .data()
            .map(|d| Some(Value::copied(d)))
            .ok_or_else(|| unexpected(name, reply)),
        0 => Ok(None),
        n => Err(rejected(name, n, reply)),
    }
}

/// `GET FULL VARIABLE <expression> [channel]`: evaluates `expression` with
/// full dialplan substitution (`${VAR}`, `${FUNC(…)}`, `$[…]`), with no
/// length cap. Unset variables expand to empty.
///
/// # Errors
/// [`Failure::Rejected`] (`result=0`) when `channel` does not exist.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GetFullVariable<'a> {
    /// The expression, e.g. `${CALLERID(name)}`.
    pub expression: &'a str,
    /// Evaluate on another channel.
    pub channel: Option<&'a str>,
}

impl<'a> GetFullVariable<'a> {
    /// Evaluates `expression` on this channel.
    pub fn new(expression: &'a str) -> Self {
        GetFullVariable {
            expression,
            channel: None,
        }
    }
}

impl Command for GetFullVariable<'_> {
    type Output = Value<'static>;
    const NAME: &'static str = "GET FULL VARIABLE";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.expression)?;
        self.channel.map_or(Ok(()), |c| w.arg(c))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Value<'static>, Failure> {
        match optional_data(Self::NAME, reply)? {
            Some(v) => Ok(v),
            None => Err(rejected(Self::NAME, 0, reply)),
        }
    }
}
