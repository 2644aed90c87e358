//! `--simulate`: plays Asterisk against the router in memory, with the
//! library's scripted stand-in, and prints each call's AGI dialogue.

use agi_client::sync::Channel;
use agi_client::testing::{FakeAsterisk, Record};

use crate::call::run_sync;
use crate::config::Tables;

/// A scenario: title, dialed extension, what Asterisk expects and answers.
type Scenario = (
    &'static str,
    &'static str,
    Vec<(&'static str, &'static str)>,
);

fn scenarios() -> Vec<Scenario> {
    vec![
        (
            "Peter calls Bob (101), who does not answer within 5 s",
            "101",
            vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)"),
                (r#"EXEC VoiceMail "101@sales,u""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        ),
        (
            "Peter calls Bob (101), who is busy",
            "101",
            vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (BUSY)"),
                (r#"EXEC VoiceMail "101@sales,b""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        ),
        (
            "Peter calls Bob (101), who answers; Dial returns when they hang up",
            "101",
            vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "200 result=-1\nHANGUP"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (ANSWER)"),
            ],
        ),
        (
            "Bob calls Peter (102), who does not answer",
            "102",
            vec![
                (r#"EXEC Dial "PJSIP/peter,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)"),
                (r#"EXEC VoiceMail "102@sales,u""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        ),
        (
            "Bob checks his mailbox (*101)",
            "*101",
            vec![
                (r#"EXEC VoiceMailMain "101@sales""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        ),
        (
            "Peter checks his mailbox (*102)",
            "*102",
            vec![
                (r#"EXEC VoiceMailMain "102@sales""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        ),
        (
            "Someone dials 999, which is not routed",
            "999",
            vec![
                (
                    r#"VERBOSE "voicemail-router: no route for \"999\"""#,
                    "200 result=1",
                ),
                ("ANSWER", "200 result=0"),
                (r#"STREAM FILE pbx-invalid """#, "200 result=0 endpos=11520"),
                ("HANGUP", "200 result=1"),
            ],
        ),
        (
            "Peter hangs up while Bob's phone rings",
            "101",
            vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "200 result=-1\nHANGUP"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (CANCEL)"),
            ],
        ),
        (
            "Peter hangs up during the voicemail greeting",
            "101",
            vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)"),
                (r#"EXEC VoiceMail "101@sales,u""#, "200 result=-1\nHANGUP"),
            ],
        ),
        (
            "Bob hangs up in his mailbox",
            "*101",
            vec![(r#"EXEC VoiceMailMain "101@sales""#, "200 result=-1\nHANGUP")],
        ),
    ]
}

/// Runs every scenario; `Err` names the first whose dialogue differs.
pub fn run(tables: &Tables) -> Result<(), String> {
    for (title, exten, script) in scenarios() {
        let mut builder = FakeAsterisk::builder()
            .env("agi_request", "voicemail-router")
            .env("agi_channel", "SIP/peter-00000001")
            .env("agi_callerid", "102")
            .env("agi_extension", exten)
            .env("agi_version", "22.5.2")
            .env("agi_arg_1", exten);
        for (command, reply) in script {
            builder = builder.expect(command, reply);
        }
        let asterisk = builder.close().build();
        println!("== {title}");
        let mut chan =
            Channel::new(asterisk.clone(), asterisk.clone()).map_err(|e| e.to_string())?;
        let end = run_sync(&mut chan, exten, tables).map_err(|e| format!("{title}: {e}"))?;
        for record in asterisk.transcript().records {
            match record {
                Record::Script(line) => println!("  AGI Tx >> {}", String::from_utf8_lossy(&line)),
                Record::Asterisk(line) if !line.starts_with(b"agi_") && !line.is_empty() => {
                    println!("  AGI Rx << {}", String::from_utf8_lossy(&line))
                }
                _ => {}
            }
        }
        println!("  -> {end:?}\n");
        std::panic::catch_unwind(|| asterisk.finish())
            .map_err(|_| format!("{title}: the router sent something else"))?;
    }
    Ok(())
}
