//! Byte values as Asterisk sends them, with cheap text views.

use std::borrow::Cow;
use std::fmt;
use std::str::Utf8Error;

/// A value from Asterisk: the bytes exactly as sent, borrowed from the input
/// buffer or owned.
///
/// Asterisk neither validates nor converts text, so a caller name can be
/// Latin-1 and a variable can hold anything but NUL. Keep the bytes, and
/// decode at the edge: [`Value::to_str`] fails cleanly on invalid UTF-8,
/// [`Value::to_string_lossy`] replaces bad sequences.
///
/// ```
/// use agi_proto::Value;
///
/// let name = Value::from(&b"Jos\xe9"[..]); // Latin-1 "José"
/// assert!(name.to_str().is_err());
/// assert_eq!(name.to_string_lossy(), "Jos\u{fffd}");
/// assert_eq!(name.as_bytes(), b"Jos\xe9");
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Value<'a>(Cow<'a, [u8]>);

impl<'a> Value<'a> {
    /// A value borrowing `bytes`.
    pub const fn borrowed(bytes: &'a [u8]) -> Self {
        Value(Cow::Borrowed(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The value as UTF-8 text, or the decoding error.
    pub fn to_str(&self) -> Result<&str, Utf8Error> {
        std::str::from_utf8(&self.0)
    }

    /// The value as text, with invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(&self.0)
    }

    /// `true` when the value has no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Copies a borrowed value so that it outlives its buffer.
    pub fn into_owned(self) -> Value<'static> {
        Value(Cow::Owned(self.0.into_owned()))
    }

    /// The bytes as they are held: borrowed from the input, or owned.
    pub fn into_cow(self) -> Cow<'a, [u8]> {
        self.0
    }

    /// The bytes, copied if borrowed.
    pub fn into_bytes(self) -> Vec<u8> {
        self.0.into_owned()
    }

    /// Parses a decimal integer (optional `-`), as in `agi_priority`.
    pub fn parse_int(&self) -> Option<i64> {
        parse_int(&self.0)
    }
}

/// Parses an optionally negative decimal integer made of ASCII digits only.
#[inline]
pub(crate) fn parse_int(bytes: &[u8]) -> Option<i64> {
    let (neg, digits) = match bytes.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, bytes),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut n = 0i64;
    for &d in digits {
        if !d.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(d - b'0');
    }
    Some(if neg { -n } else { n })
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(bytes: &'a [u8]) -> Self {
        Value::borrowed(bytes)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(s: &'a str) -> Self {
        Value::borrowed(s.as_bytes())
    }
}

impl From<Vec<u8>> for Value<'static> {
    fn from(bytes: Vec<u8>) -> Self {
        Value(Cow::Owned(bytes))
    }
}

impl From<String> for Value<'static> {
    fn from(s: String) -> Self {
        Value(Cow::Owned(s.into_bytes()))
    }
}

impl AsRef<[u8]> for Value<'_> {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl std::ops::Deref for Value<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq<[u8]> for Value<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&[u8]> for Value<'_> {
    fn eq(&self, other: &&[u8]) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<str> for Value<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other.as_bytes()
    }
}

impl PartialEq<&str> for Value<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == *other.as_bytes()
    }
}

/// Shows the text when it is UTF-8, escaped bytes otherwise.
impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_str() {
            Ok(s) => fmt::Debug::fmt(s, f),
            Err(_) => write!(f, "b\"{}\"", self.0.escape_ascii()),
        }
    }
}

/// Writes the text, lossily decoded.
impl fmt::Display for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_string_lossy())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_integers_strictly() {
        assert_eq!(parse_int(b"42"), Some(42));
        assert_eq!(parse_int(b"-1"), Some(-1));
        assert_eq!(parse_int(b"007"), Some(7));
        for bad in [&b""[..], b"-", b"1a", b" 1", b"+1", b"9999999999999999999"] {
            assert_eq!(parse_int(bad), None, "{:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn debug_shows_text_or_bytes() {
        assert_eq!(format!("{:?}", Value::from("a b")), "\"a b\"");
        assert_eq!(format!("{:?}", Value::from(&b"\xff"[..])), "b\"\\xff\"");
    }
}
