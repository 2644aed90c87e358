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
#[derive(Clone, Default)]
pub struct Value<'a>(Repr<'a>);

/// How a value holds its bytes. Comparisons, hashing and ordering go by the
/// bytes alone, whatever the form.
#[derive(Clone)]
enum Repr<'a> {
    Borrowed(&'a [u8]),
    /// A short copy kept in the value itself: most variables a script reads
    /// (a dial status, a caller number, a flag) fit, and cost no allocation.
    Inline {
        len: u8,
        bytes: [u8; INLINE],
    },
    Owned(Box<[u8]>),
}

/// Bytes a value holds without allocating: what fits beside the length and
/// the form's tag in the 24 bytes the value takes anyway.
const INLINE: usize = 22;

impl Default for Repr<'_> {
    fn default() -> Self {
        Repr::Borrowed(&[])
    }
}

impl<'a> Value<'a> {
    /// A value borrowing `bytes`.
    pub const fn borrowed(bytes: &'a [u8]) -> Self {
        Value(Repr::Borrowed(bytes))
    }

    /// A value holding a copy of `bytes`: inline when short, on the heap
    /// otherwise.
    ///
    /// ```
    /// use agi_proto::Value;
    ///
    /// let buf = b"NOANSWER".to_vec();
    /// let status = Value::copied(&buf);
    /// drop(buf);
    /// assert_eq!(status, "NOANSWER");
    /// ```
    pub fn copied(bytes: &[u8]) -> Value<'static> {
        if bytes.len() > INLINE {
            return Value(Repr::Owned(bytes.into()));
        }
        let mut inline = [0; INLINE];
        inline[..bytes.len()].copy_from_slice(bytes);
        Value(Repr::Inline {
            // At most INLINE, so it fits.
            len: bytes.len() as u8,
            bytes: inline,
        })
    }

    /// The raw bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            Repr::Borrowed(bytes) => bytes,
            Repr::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Repr::Owned(bytes) => bytes,
        }
    }

    /// The value as UTF-8 text, or the decoding error.
    pub fn to_str(&self) -> Result<&str, Utf8Error> {
        std::str::from_utf8(self.as_bytes())
    }

    /// The value as text, with invalid UTF-8 replaced by U+FFFD.
    pub fn to_string_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.as_bytes())
    }

    /// `true` when the value has no bytes.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// Copies a borrowed value so that it outlives its buffer.
    pub fn into_owned(self) -> Value<'static> {
        match self.0 {
            Repr::Borrowed(bytes) => Value::copied(bytes),
            Repr::Inline { len, bytes } => Value(Repr::Inline { len, bytes }),
            Repr::Owned(bytes) => Value(Repr::Owned(bytes)),
        }
    }

    /// The bytes as a `Cow`: borrowed when borrowed from the input, owned
    /// otherwise (a short copy kept inline is copied to the heap here).
    pub fn into_cow(self) -> Cow<'a, [u8]> {
        match self.0 {
            Repr::Borrowed(bytes) => Cow::Borrowed(bytes),
            Repr::Inline { len, bytes } => Cow::Owned(bytes[..usize::from(len)].to_vec()),
            Repr::Owned(bytes) => Cow::Owned(bytes.into_vec()),
        }
    }

    /// The bytes, copied if borrowed.
    pub fn into_bytes(self) -> Vec<u8> {
        self.into_cow().into_owned()
    }

    /// Parses a decimal integer (optional `-`), as in `agi_priority`.
    pub fn parse_int(&self) -> Option<i64> {
        parse_int(self.as_bytes())
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

/// Short bytes are copied inline (the vector is freed); longer ones are
/// kept, shrunk to their length.
impl From<Vec<u8>> for Value<'static> {
    fn from(bytes: Vec<u8>) -> Self {
        if bytes.len() <= INLINE {
            return Value::copied(&bytes);
        }
        Value(Repr::Owned(bytes.into_boxed_slice()))
    }
}

impl From<String> for Value<'static> {
    fn from(s: String) -> Self {
        Value::from(s.into_bytes())
    }
}

impl AsRef<[u8]> for Value<'_> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::ops::Deref for Value<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl PartialEq for Value<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Value<'_> {}

impl std::hash::Hash for Value<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialOrd for Value<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Value<'_> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_bytes().cmp(other.as_bytes())
    }
}

impl PartialEq<[u8]> for Value<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_bytes() == other
    }
}

impl PartialEq<&[u8]> for Value<'_> {
    fn eq(&self, other: &&[u8]) -> bool {
        self.as_bytes() == *other
    }
}

impl PartialEq<str> for Value<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for Value<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

/// Shows the text when it is UTF-8, escaped bytes otherwise.
impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.to_str() {
            Ok(s) => fmt::Debug::fmt(s, f),
            Err(_) => write!(f, "b\"{}\"", self.as_bytes().escape_ascii()),
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

    /// Every form holds the same bytes and compares, hashes and orders by
    /// them alone; short copies stay inline, longer ones go to the heap.
    #[test]
    fn forms_agree_on_bytes() {
        use std::collections::hash_map::DefaultHasher;
        use std::hash::{Hash, Hasher};
        let hash = |v: &Value<'_>| {
            let mut h = DefaultHasher::new();
            v.hash(&mut h);
            h.finish()
        };
        for len in [0, 1, INLINE - 1, INLINE, INLINE + 1, 300] {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let borrowed = Value::borrowed(&bytes);
            let copied = Value::copied(&bytes);
            let owned = Value::from(bytes.clone());
            assert_eq!(
                matches!(copied.0, Repr::Inline { .. }),
                len <= INLINE,
                "{len}"
            );
            assert_eq!(matches!(owned.0, Repr::Inline { .. }), len <= INLINE);
            for v in [&copied, &owned, &borrowed.clone().into_owned()] {
                assert_eq!(v.as_bytes(), &bytes[..]);
                assert_eq!(v, &borrowed);
                assert_eq!(hash(v), hash(&borrowed));
                assert_eq!(v.cmp(&borrowed), std::cmp::Ordering::Equal);
                assert_eq!(v.clone().into_bytes(), bytes);
                assert_eq!(&*v.clone().into_cow(), &bytes[..]);
            }
        }
        assert!(Value::copied(b"ab") < Value::from(b"abc".to_vec()));
        assert_eq!(std::mem::size_of::<Value<'_>>(), 24);
    }

    #[test]
    fn debug_shows_text_or_bytes() {
        assert_eq!(format!("{:?}", Value::from("a b")), "\"a b\"");
        assert_eq!(format!("{:?}", Value::from(&b"\xff"[..])), "b\"\\xff\"");
    }
}
