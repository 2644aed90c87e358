//! Asterisk's command tokenizer (`parse_args` in `res_agi.c`), for code that
//! plays Asterisk: test doubles, load generators, and property tests of the
//! encoder.

/// Splits one command line (without its LF) into tokens as Asterisk does:
/// space and TAB separate, `"` toggles quoting and is dropped, `\` makes the
/// next byte literal and is dropped; nothing else is special. Asterisk reads
/// the line as a C string, so it ends at a NUL, and keeps at most
/// [`Limits::MAX_TOKENS`](crate::Limits::MAX_TOKENS) tokens (beyond them,
/// quoted ones would overrun its array: here they are dropped too).
///
/// ```
/// use agi_proto::tokenize;
///
/// let tokens = tokenize(br#"SET VARIABLE X "say \"hi\"" a\ b """#);
/// assert_eq!(tokens, [&b"SET"[..], b"VARIABLE", b"X", b"say \"hi\"", b"a b", b""]);
/// assert_eq!(tokenize(br#"abc"def ghi"jkl"#), [&b"abcdef ghijkl"[..]]);
/// ```
pub fn tokenize(line: &[u8]) -> Vec<Vec<u8>> {
    let line = line.split(|&b| b == 0).next().unwrap_or_default();
    let mut tokens: Vec<Vec<u8>> = Vec::new();
    let (mut quoted, mut escaped, mut whitespace) = (false, false, true);
    for &b in line {
        if b == b'"' && !escaped {
            quoted = !quoted;
            if quoted && whitespace {
                // An opening quote after whitespace starts a token, so `""`
                // is an empty token.
                tokens.push(Vec::new());
                whitespace = false;
            }
            escaped = false;
        } else if (b == b' ' || b == b'\t') && !quoted && !escaped {
            whitespace = true;
        } else if b == b'\\' && !escaped {
            escaped = true;
        } else {
            if whitespace {
                tokens.push(Vec::new());
                whitespace = false;
            }
            if let Some(token) = tokens.last_mut() {
                token.push(b);
            }
            escaped = false;
        }
    }
    tokens.truncate(crate::Limits::MAX_TOKENS);
    tokens
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    fn t(line: &str) -> Vec<String> {
        tokenize(line.as_bytes())
            .into_iter()
            .map(|t| String::from_utf8(t).unwrap())
            .collect()
    }

    /// Asterisk reads a C string and keeps 127 tokens.
    #[test]
    fn stops_at_nul_and_keeps_127_tokens() {
        assert_eq!(tokenize(b"NOOP\0x y"), [b"NOOP".to_vec()]);
        let line = "a ".repeat(130);
        assert_eq!(tokenize(line.as_bytes()).len(), 127);
    }

    /// The examples of the protocol reference §3.2.
    #[test]
    fn matches_the_reference_examples() {
        assert_eq!(
            t(r#"STREAM FILE hello """#),
            ["STREAM", "FILE", "hello", ""]
        );
        assert_eq!(
            t(r#"SET VARIABLE X "a b  c""#),
            ["SET", "VARIABLE", "X", "a b  c"]
        );
        assert_eq!(t(r"a\ b"), ["a b"]);
        assert_eq!(t(r#""say \"hi\"""#), [r#"say "hi""#]);
        assert_eq!(t(r"C:\\dir"), [r"C:\dir"]);
        assert_eq!(t(r"\n"), ["n"]);
        assert_eq!(t(r#""a""b""#), ["ab"]);
        assert_eq!(t("\"unterminated quote"), ["unterminated quote"]);
        assert_eq!(t("trailing\\"), ["trailing"]);
        assert_eq!(t("  lead\t\ttrail  "), ["lead", "trail"]);
        assert_eq!(t("'single'"), ["'single'"]);
        assert_eq!(t("ANSWER\r"), ["ANSWER\r"]);
        assert!(t("   ").is_empty());
    }
}
