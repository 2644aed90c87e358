//! The two workloads, as Asterisk sees them: the commands a server must send
//! and the replies Asterisk gives; and a check of each command after
//! Asterisk's tokenizing that allocates nothing.

/// One expected command (as tokens) and Asterisk's reply.
pub struct Step {
    pub tokens: Vec<Vec<u8>>,
    pub reply: Vec<u8>,
}

/// A workload: the FastAGI script path and its dialogue.
pub struct Workload {
    pub script: &'static str,
    pub steps: Vec<Step>,
}

fn step(command: &str, reply: &str) -> Step {
    Step {
        tokens: agi_proto::tokenize(command.as_bytes()),
        reply: reply.as_bytes().to_vec(),
    }
}

impl Workload {
    /// The voicemail router's four round trips for 101, unanswered.
    pub fn router() -> Workload {
        Workload {
            script: "voicemail-router",
            steps: vec![
                step(r#"EXEC Dial "PJSIP/bob,5""#, "200 result=0\n"),
                step("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)\n"),
                step(r#"EXEC VoiceMail "101@sales,u""#, "200 result=0\n"),
                // As Asterisk does: the reply, then the hangup notice.
                step("HANGUP", "200 result=1\nHANGUP\n"),
            ],
        }
    }

    /// 20 × (SET VARIABLE + GET VARIABLE), then HANGUP: 41 round trips.
    pub fn chatty() -> Workload {
        let mut steps = Vec::new();
        for i in 0..20 {
            steps.push(step(
                &format!("SET VARIABLE V{i} \"value {i}\""),
                "200 result=1\n",
            ));
            steps.push(step(
                &format!("GET VARIABLE V{i}"),
                &format!("200 result=1 (value {i})\n"),
            ));
        }
        steps.push(step("HANGUP", "200 result=1\nHANGUP\n"));
        Workload {
            script: "chatty",
            steps,
        }
    }

    pub fn by_name(name: &str) -> Option<Workload> {
        match name {
            "router" => Some(Workload::router()),
            "chatty" => Some(Workload::chatty()),
            _ => None,
        }
    }

    /// The environment block for one session.
    pub fn env(&self, fastagi: bool) -> Vec<u8> {
        let mut env = String::new();
        if fastagi {
            env.push_str(&format!(
                "agi_network: yes\nagi_network_script: {}\nagi_request: agi://127.0.0.1/{}\n",
                self.script, self.script
            ));
        } else {
            env.push_str(&format!("agi_request: {}\n", self.script));
        }
        for (k, v) in [
            ("agi_channel", "SIP/peter-0000002a"),
            ("agi_language", "en"),
            ("agi_type", "SIP"),
            ("agi_uniqueid", "1795816248.42"),
            ("agi_version", "22.6.0"),
            ("agi_callerid", "102"),
            ("agi_calleridname", "Peter"),
            ("agi_callingpres", "0"),
            ("agi_callingani2", "0"),
            ("agi_callington", "0"),
            ("agi_callingtns", "0"),
            ("agi_dnid", "101"),
            ("agi_rdnis", "unknown"),
            ("agi_context", "from-internal"),
            ("agi_extension", "101"),
            ("agi_priority", "2"),
            ("agi_enhanced", "0.0"),
            ("agi_accountcode", ""),
            ("agi_threadid", "140187254355648"),
            ("agi_arg_1", "101"),
        ] {
            env.push_str(&format!("{k}: {v}\n"));
        }
        env.push('\n');
        env.into_bytes()
    }
}

/// `true` when `line` (without LF) tokenizes to `expected`, as Asterisk's
/// `parse_args` would split it; `scratch` is reused, nothing is allocated
/// once it has grown.
pub fn same_tokens(line: &[u8], expected: &[Vec<u8>], scratch: &mut Vec<u8>) -> bool {
    let mut k = 0;
    let (mut quoted, mut escaped, mut in_token) = (false, false, false);
    scratch.clear();
    let end_token = |scratch: &mut Vec<u8>, k: &mut usize| -> bool {
        let ok = expected.get(*k).is_some_and(|t| t == scratch);
        *k += 1;
        scratch.clear();
        ok
    };
    for &b in line {
        if b == b'"' && !escaped {
            quoted = !quoted;
            in_token = true;
            escaped = false;
        } else if (b == b' ' || b == b'\t') && !quoted && !escaped {
            if in_token && !end_token(scratch, &mut k) {
                return false;
            }
            in_token = false;
        } else if b == b'\\' && !escaped {
            escaped = true;
        } else {
            scratch.push(b);
            in_token = true;
            escaped = false;
        }
    }
    if in_token && !end_token(scratch, &mut k) {
        return false;
    }
    k == expected.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_check_agrees_with_the_tokenizer() {
        let mut scratch = Vec::new();
        for line in [
            &b"EXEC Dial \"PJSIP/bob,5\""[..],
            b"EXEC Dial PJSIP/bob,5",
            b"  EXEC \"Dial\"  PJSIP/bob\\,5 ",
        ] {
            assert!(same_tokens(
                line,
                &agi_proto::tokenize(b"EXEC Dial PJSIP/bob,5"),
                &mut scratch
            ));
        }
        assert!(!same_tokens(
            b"EXEC Dial PJSIP/bob,6",
            &agi_proto::tokenize(b"EXEC Dial PJSIP/bob,5"),
            &mut scratch
        ));
        assert!(!same_tokens(
            b"EXEC Dial",
            &agi_proto::tokenize(b"EXEC Dial PJSIP/bob,5"),
            &mut scratch
        ));
        assert!(same_tokens(
            b"STREAM FILE x \"\"",
            &agi_proto::tokenize(b"STREAM FILE x \"\""),
            &mut scratch
        ));
    }
}
