//! The Asterisk database (AstDB): DATABASE GET / PUT / DEL / DELTREE.
//!
//! ```
//! use agi_proto::command::{Command, DatabaseDelTree};
//! use agi_proto::{parse_frame, Frame};
//!
//! // DELTREE's result is inverted on the wire: 0 means entries were deleted.
//! let (Frame::Reply(reply), _) = parse_frame(b"200 result=0\n")?.complete().unwrap() else { unreachable!() };
//! assert!(DatabaseDelTree::new("callers").parse_reply(&reply)?);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use super::dialplan::optional_data;
use super::{Command, expect_result, result_of, unexpected};
use crate::encode::ArgWriter;
use crate::error::{EncodeError, Failure};
use crate::reply::Reply;
use crate::value::Value;

/// `DATABASE GET <family> <key>`: the stored value, `None` when absent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseGet<'a> {
    /// Family (may contain `/`).
    pub family: &'a str,
    /// Key.
    pub key: &'a str,
}

impl<'a> DatabaseGet<'a> {
    /// Reads `family/key`.
    pub fn new(family: &'a str, key: &'a str) -> Self {
        DatabaseGet { family, key }
    }
}

impl Command for DatabaseGet<'_> {
    type Output = Option<Value<'static>>;
    const NAME: &'static str = "DATABASE GET";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.family)?;
        w.arg(self.key)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<Self::Output, Failure> {
        optional_data(Self::NAME, reply)
    }
}

/// `DATABASE PUT <family> <key> <value>`: stores a value.
///
/// # Errors
/// [`Failure::Rejected`] (`result=0`) on a database error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabasePut<'a> {
    /// Family.
    pub family: &'a str,
    /// Key.
    pub key: &'a str,
    /// Value.
    pub value: &'a [u8],
}

impl<'a> DatabasePut<'a> {
    /// Stores `value` at `family/key`.
    pub fn new(family: &'a str, key: &'a str, value: &'a (impl AsRef<[u8]> + ?Sized)) -> Self {
        DatabasePut {
            family,
            key,
            value: value.as_ref(),
        }
    }
}

impl Command for DatabasePut<'_> {
    type Output = ();
    const NAME: &'static str = "DATABASE PUT";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.family)?;
        w.arg(self.key)?;
        w.arg(self.value)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 1)
    }
}

/// `DATABASE DEL <family> <key>`: deletes a key. Asterisk reports success
/// also when the key did not exist.
///
/// # Errors
/// [`Failure::Rejected`] (`result=0`) on a database error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseDel<'a> {
    /// Family.
    pub family: &'a str,
    /// Key.
    pub key: &'a str,
}

impl<'a> DatabaseDel<'a> {
    /// Deletes `family/key`.
    pub fn new(family: &'a str, key: &'a str) -> Self {
        DatabaseDel { family, key }
    }
}

impl Command for DatabaseDel<'_> {
    type Output = ();
    const NAME: &'static str = "DATABASE DEL";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.family)?;
        w.arg(self.key)
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<(), Failure> {
        expect_result(Self::NAME, reply, 1)
    }
}

/// `DATABASE DELTREE <family> [keytree]`: deletes a family or a subtree.
/// Returns `true` when something was deleted.
///
/// Asterisk's result is **inverted** against its own documentation:
/// `result=0` means entries were deleted, `result=1` that nothing was (or a
/// database error); this mapping follows the code, not the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DatabaseDelTree<'a> {
    /// Family.
    pub family: &'a str,
    /// Key prefix inside the family.
    pub keytree: Option<&'a str>,
}

impl<'a> DatabaseDelTree<'a> {
    /// Deletes the whole `family`.
    pub fn new(family: &'a str) -> Self {
        DatabaseDelTree {
            family,
            keytree: None,
        }
    }
}

impl Command for DatabaseDelTree<'_> {
    type Output = bool;
    const NAME: &'static str = "DATABASE DELTREE";
    const DEAD_OK: bool = true;
    fn encode(&self, w: &mut ArgWriter<'_>) -> Result<(), EncodeError> {
        w.words(Self::NAME);
        w.arg(self.family)?;
        self.keytree.map_or(Ok(()), |k| w.arg(k))
    }
    fn parse_reply(&self, reply: &Reply<'_>) -> Result<bool, Failure> {
        match result_of(Self::NAME, reply)? {
            0 => Ok(true),
            1 => Ok(false),
            _ => Err(unexpected(Self::NAME, reply)),
        }
    }
}
