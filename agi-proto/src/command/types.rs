//! Small typed values shared by the commands: DTMF digits, escape-digit
//! sets, channel states.
//!
//! ```
//! use agi_proto::{ChannelState, Digit, EscapeDigits};
//!
//! assert_eq!(Digit::from_code(35).unwrap().as_char(), '#');
//! assert_eq!(EscapeDigits::new("#9")?.to_string(), "9#");
//! assert_eq!(ChannelState::from_code(6), ChannelState::Up);
//! # Ok::<(), agi_proto::InvalidDigit>(())
//! ```

use std::fmt;

/// The sixteen DTMF keys, in the order [`EscapeDigits`] writes them.
const KEYS: &[u8; 16] = b"0123456789*#ABCD";

/// One DTMF key: `0`–`9`, `*`, `#` or `A`–`D`.
///
/// Asterisk reports most digits as ASCII codes (`result=53` for `5`);
/// commands turn those into a `Digit`.
///
/// ```
/// use agi_proto::Digit;
///
/// let d = Digit::from_ascii(53).unwrap();
/// assert_eq!(d.as_char(), '5');
/// assert_eq!(Digit::from_ascii(b'x'), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digit(u8);

impl Digit {
    /// The digit whose ASCII code is `code`, if it is a DTMF key.
    pub fn from_ascii(code: u8) -> Option<Digit> {
        KEYS.contains(&code).then_some(Digit(code))
    }

    /// The digit for a `result=` code, if it is a DTMF key's ASCII code.
    pub fn from_code(code: i64) -> Option<Digit> {
        u8::try_from(code).ok().and_then(Digit::from_ascii)
    }

    /// The key as a character.
    pub fn as_char(self) -> char {
        char::from(self.0)
    }

    /// The key's ASCII code.
    pub fn as_byte(self) -> u8 {
        self.0
    }
}

impl fmt::Debug for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digit({:?})", self.as_char())
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

impl TryFrom<char> for Digit {
    type Error = InvalidDigit;
    fn try_from(c: char) -> Result<Self, InvalidDigit> {
        u8::try_from(c)
            .ok()
            .and_then(Digit::from_ascii)
            .ok_or(InvalidDigit(c))
    }
}

/// A character that is not a DTMF key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a DTMF key (0-9, *, #, A-D)")]
pub struct InvalidDigit(pub char);

/// The set of keys that may interrupt a prompt. Empty (sent as `""`) means
/// the prompt cannot be interrupted.
///
/// ```
/// use agi_proto::EscapeDigits;
///
/// let keys = EscapeDigits::new("#*1")?;
/// assert_eq!(keys.to_string(), "1*#");
/// assert!(keys.contains('#'.try_into()?));
/// assert_eq!(EscapeDigits::NONE.to_string(), "");
/// # Ok::<(), agi_proto::InvalidDigit>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EscapeDigits(u16);

impl EscapeDigits {
    /// No key interrupts.
    pub const NONE: EscapeDigits = EscapeDigits(0);
    /// Any of the sixteen keys interrupts.
    pub const ANY: EscapeDigits = EscapeDigits(u16::MAX);
    /// `0`–`9` interrupt.
    pub const DIGITS: EscapeDigits = EscapeDigits(0x03ff);
    /// `*` alone.
    pub const STAR: EscapeDigits = EscapeDigits(1 << 10);
    /// `#` alone.
    pub const HASH: EscapeDigits = EscapeDigits(1 << 11);

    /// The keys listed in `keys`, in any order.
    ///
    /// # Errors
    /// The first character that is not a DTMF key.
    pub fn new(keys: &str) -> Result<EscapeDigits, InvalidDigit> {
        keys.chars().try_fold(EscapeDigits::NONE, |set, c| {
            Ok(set.with(Digit::try_from(c)?))
        })
    }

    /// This set plus `digit`.
    pub fn with(self, digit: Digit) -> EscapeDigits {
        EscapeDigits(self.0 | 1 << bit(digit))
    }

    /// `true` if `digit` is in the set.
    pub fn contains(self, digit: Digit) -> bool {
        self.0 & (1 << bit(digit)) != 0
    }

    /// `true` when no key is in the set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The keys in both sets.
    pub fn intersection(self, other: EscapeDigits) -> EscapeDigits {
        EscapeDigits(self.0 & other.0)
    }

    /// This set less the keys of `other`: for CONTROL STREAM FILE, any key
    /// but its controls is `EscapeDigits::ANY.without(EscapeDigits::HASH)
    /// .without(EscapeDigits::STAR)`.
    pub fn without(self, other: EscapeDigits) -> EscapeDigits {
        EscapeDigits(self.0 & !other.0)
    }

    /// Writes the keys as ASCII into `out` and returns the used part.
    pub(crate) fn write(self, out: &mut [u8; 16]) -> &[u8] {
        let mut n = 0;
        for (i, &k) in KEYS.iter().enumerate() {
            if self.0 & (1 << i) != 0 {
                out[n] = k;
                n += 1;
            }
        }
        &out[..n]
    }
}

fn bit(digit: Digit) -> u32 {
    KEYS.iter().position(|&k| k == digit.0).unwrap_or(0) as u32
}

impl fmt::Display for EscapeDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = [0; 16];
        // Only ASCII keys are ever written.
        f.write_str(std::str::from_utf8(self.write(&mut out)).unwrap_or_default())
    }
}

impl fmt::Debug for EscapeDigits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EscapeDigits({:?})", self.to_string())
    }
}

/// A channel's state, as CHANNEL STATUS reports it (`enum ast_channel_state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ChannelState {
    /// 0: down and available.
    Down,
    /// 1: down, but reserved.
    Reserved,
    /// 2: off hook.
    OffHook,
    /// 3: digits have been dialed.
    Dialing,
    /// 4: ringing (the state of a new inbound channel before ANSWER).
    Ring,
    /// 5: the remote end is ringing.
    Ringing,
    /// 6: the line is up.
    Up,
    /// 7: the line is busy.
    Busy,
    /// 8: digits dialed while off hook.
    DialingOffhook,
    /// 9: incoming call detected, waiting for ring.
    PreRing,
    /// A code a newer Asterisk may add.
    Other(i64),
}

impl ChannelState {
    /// The state for a `result=` code.
    pub fn from_code(code: i64) -> ChannelState {
        match code {
            0 => ChannelState::Down,
            1 => ChannelState::Reserved,
            2 => ChannelState::OffHook,
            3 => ChannelState::Dialing,
            4 => ChannelState::Ring,
            5 => ChannelState::Ringing,
            6 => ChannelState::Up,
            7 => ChannelState::Busy,
            8 => ChannelState::DialingOffhook,
            9 => ChannelState::PreRing,
            n => ChannelState::Other(n),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_digits_round_trip_every_key() {
        let all = EscapeDigits::new("0123456789*#ABCD").unwrap();
        assert_eq!(all, EscapeDigits::ANY);
        assert_eq!(
            EscapeDigits::new("9876543210").unwrap(),
            EscapeDigits::DIGITS
        );
        assert!(EscapeDigits::new("12x").is_err());
        assert!(
            EscapeDigits::new("a").is_err(),
            "lower-case letters are not keys"
        );
    }

    #[test]
    fn digits_from_codes() {
        assert_eq!(Digit::from_code(35).map(Digit::as_char), Some('#'));
        assert_eq!(Digit::from_code(65).map(Digit::as_char), Some('A'));
        assert_eq!(Digit::from_code(0), None);
        assert_eq!(Digit::from_code(-1), None);
        assert_eq!(Digit::from_code(1049), None);
    }
}
