//! The Asterisk version from `agi_version`, and the command-line limit it implies.

/// Command bytes before the LF accepted by Asterisk releases before the
/// 2025 buffer increase (`AGI_BUF_LEN` 2048).
pub(crate) const LEGACY_COMMAND_LIMIT: usize = 2046;
/// Command bytes before the LF accepted from 20.16.0, 21.11.0, 22.6.0 and
/// 23.0.0 on (`AGI_BUF_LEN` 8192).
pub(crate) const COMMAND_LIMIT: usize = 8190;

/// An Asterisk version string as sent in `agi_version`: `22.5.2`,
/// `GIT-master-f0c1c1a7b7`, `certified-20.7-cert5`…
///
/// Its one job is to say how long a command line may be: Asterisk cuts a
/// longer line and runs the tail as a second command, so the limit must be
/// known before sending.
///
/// ```
/// use agi_proto::AsteriskVersion;
///
/// assert_eq!(AsteriskVersion::parse(b"22.5.2").command_limit(), 2046);
/// assert_eq!(AsteriskVersion::parse(b"22.6.0").command_limit(), 8190);
/// assert_eq!(AsteriskVersion::parse(b"GIT-master-f0c1c1a7b7").command_limit(), 8190);
/// assert_eq!(AsteriskVersion::parse(b"certified-20.7-cert5").command_limit(), 2046);
/// assert_eq!(AsteriskVersion::parse(b"who knows").command_limit(), 2046);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AsteriskVersion {
    /// A numbered release (the `certified-` prefix stripped).
    Release {
        /// Major version.
        major: u32,
        /// Minor version.
        minor: u32,
    },
    /// A build from the development branch (`GIT-master-…`), newer than
    /// every release.
    Master,
    /// Anything else; treated as old.
    Unknown,
}

impl AsteriskVersion {
    /// Reads an `agi_version` value.
    pub fn parse(value: &[u8]) -> Self {
        if value.starts_with(b"GIT-master") {
            return AsteriskVersion::Master;
        }
        let value = value.strip_prefix(b"certified-").unwrap_or(value);
        let mut parts = value.split(|&b| b == b'.' || b == b'-');
        let major = parts.next().and_then(parse_u32);
        let minor = parts.next().and_then(parse_u32);
        match (major, minor) {
            (Some(major), Some(minor)) => AsteriskVersion::Release { major, minor },
            _ => AsteriskVersion::Unknown,
        }
    }

    /// Longest command line (bytes before the LF) this version reads whole.
    pub fn command_limit(self) -> usize {
        let large = match self {
            AsteriskVersion::Master => true,
            AsteriskVersion::Release { major, minor } => match major {
                0..=19 => false,
                20 => minor >= 16,
                21 => minor >= 11,
                22 => minor >= 6,
                _ => true,
            },
            AsteriskVersion::Unknown => false,
        };
        if large {
            COMMAND_LIMIT
        } else {
            LEGACY_COMMAND_LIMIT
        }
    }
}

fn parse_u32(digits: &[u8]) -> Option<u32> {
    if digits.is_empty() || digits.len() > 9 || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(digits.iter().fold(0, |n, &d| n * 10 + u32::from(d - b'0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_follow_the_release_table() {
        for (v, limit) in [
            ("16.30.0", 2046),
            ("20.15.2", 2046),
            ("20.16.0", 8190),
            ("21.10.0", 2046),
            ("21.11.0", 8190),
            ("22.5.2", 2046),
            ("22.6.0", 8190),
            ("23.0.0", 8190),
            ("24.1.0", 8190),
            ("certified-22.8-cert1", 8190),
            ("certified-18.9-cert3", 2046),
            ("", 2046),
            ("22", 2046),
        ] {
            assert_eq!(
                AsteriskVersion::parse(v.as_bytes()).command_limit(),
                limit,
                "{v}"
            );
        }
    }
}
