//! The voicemail router as Asterisk runs it: the built example as a child
//! process (environment on stdin, extension on the command line), and as a
//! FastAGI service on loopback, against the library's scripted stand-in.

use std::io::{BufRead, BufReader, Write};

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use agi_client::testing::FakeAsterisk;

use crate::child::{
    agi_child, example, poll_until, service, signal_process, spawn_agi, stop_mid_call, wait,
};

/// A call: the extension, then what Asterisk expects and answers. A reply
/// starting with `SIGHUP ` is the caller hanging up during that command:
/// standard AGI gets the reply, then the signal, as from Asterisk; FastAGI
/// gets a `HANGUP` line after the reply.
struct Call {
    exten: &'static str,
    steps: Vec<(&'static str, &'static str)>,
}

/// A call to 555, which no route serves: the router says so into
/// Asterisk's log, then `steps`.
fn unknown_number(mut steps: Vec<(&'static str, &'static str)>) -> Call {
    steps.insert(
        0,
        (
            r#"VERBOSE "voicemail-router: no route for \"555\"""#,
            "200 result=1",
        ),
    );
    Call {
        exten: "555",
        steps,
    }
}

fn seed_calls() -> Vec<Call> {
    vec![
        Call {
            exten: "101",
            steps: vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)"),
                (r#"EXEC VoiceMail "101@sales,u""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        },
        Call {
            exten: "101",
            steps: vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (BUSY)"),
                (r#"EXEC VoiceMail "101@sales,b""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        },
        // Bob answers; Dial returns -1 when the call ends (no `g` option).
        Call {
            exten: "101",
            steps: vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "SIGHUP 200 result=-1"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (ANSWER)"),
            ],
        },
        Call {
            exten: "102",
            steps: vec![
                (r#"EXEC Dial "PJSIP/peter,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (CHANUNAVAIL)"),
                (r#"EXEC VoiceMail "102@sales,u""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        },
        Call {
            exten: "*101",
            steps: vec![
                (r#"EXEC VoiceMailMain "101@sales""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        },
        Call {
            exten: "*102",
            steps: vec![
                (r#"EXEC VoiceMailMain "102@sales""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        },
        unknown_number(vec![
            ("ANSWER", "200 result=0"),
            (r#"STREAM FILE pbx-invalid """#, "200 result=0 endpos=11520"),
            ("HANGUP", "200 result=1"),
        ]),
        // The caller hangs up while Bob's phone rings: the status read on
        // the dead channel, nothing more.
        Call {
            exten: "101",
            steps: vec![
                (r#"EXEC Dial "PJSIP/bob,5""#, "SIGHUP 200 result=-1"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (CANCEL)"),
            ],
        },
        // ... or while leaving the message: a normal end.
        Call {
            exten: "102",
            steps: vec![
                (r#"EXEC Dial "PJSIP/peter,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)"),
                (r#"EXEC VoiceMail "102@sales,u""#, "SIGHUP 200 result=-1"),
            ],
        },
        // Peter hangs up in his mailbox.
        Call {
            exten: "*102",
            steps: vec![(r#"EXEC VoiceMailMain "102@sales""#, "SIGHUP 200 result=-1")],
        },
        // Congestion goes to voicemail too.
        Call {
            exten: "102",
            steps: vec![
                (r#"EXEC Dial "PJSIP/peter,5""#, "200 result=0"),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (CONGESTION)"),
                (r#"EXEC VoiceMail "102@sales,u""#, "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        },
    ]
}

fn fake(call: &Call, fastagi: bool) -> FakeAsterisk {
    let mut b = FakeAsterisk::builder();
    if fastagi {
        b = b
            .env("agi_network", "yes")
            .env("agi_network_script", "voicemail-router");
    }
    b = b
        .env("agi_request", "voicemail-router")
        .env("agi_channel", "SIP/peter-00000001")
        .env("agi_version", "22.5.2");
    b = b
        .env("agi_extension", call.exten)
        .env("agi_arg_1", call.exten);
    for (command, reply) in &call.steps {
        let reply = match reply.strip_prefix("SIGHUP ") {
            Some(r) if fastagi => format!("{r}\nHANGUP"),
            Some(r) => r.to_owned(),
            None => reply.to_string(),
        };
        b = b.expect(command, reply);
    }
    b.close().build()
}

/// Moves bytes between the fake and the program until the program stops
/// sending; `before_reply(n)` and `after_reply(n)` run around the reply to
/// command `n`.
pub fn pump(
    fake: &mut FakeAsterisk,
    to_program: &mut dyn Write,
    from_program: &mut dyn BufRead,
    mut before_reply: impl FnMut(usize),
    mut after_reply: impl FnMut(usize),
) {
    let forward = |fake: &mut FakeAsterisk, to: &mut dyn Write| {
        // The program may have exited already (a broken pipe is its business).
        let _ = to.write_all(&fake.take_output()).and_then(|()| to.flush());
    };
    forward(fake, to_program);
    let mut n = 0;
    loop {
        let mut line = Vec::new();
        if from_program.read_until(b'\n', &mut line).unwrap_or(0) == 0 {
            return;
        }
        fake.write_all(&line)
            .expect("the command the script expects");
        before_reply(n);
        forward(fake, to_program);
        after_reply(n);
        n += 1;
    }
}

/// Plays `fake` as the Asterisk of one FastAGI connection to `addr`.
pub fn pump_tcp(fake: FakeAsterisk, addr: std::net::SocketAddr) {
    pump_tcp_with(fake, addr, |_| {});
}

/// As `pump_tcp`; `before_reply(n)` runs before the reply to command `n`.
pub fn pump_tcp_with(
    mut fake: FakeAsterisk,
    addr: std::net::SocketAddr,
    before_reply: impl FnMut(usize),
) {
    let stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    pump(&mut fake, &mut writer, &mut reader, before_reply, |_| {});
    fake.finish();
}

fn sighup(pid: u32) {
    signal_process(pid, "HUP");
    std::thread::sleep(Duration::from_millis(30));
}

/// Runs the router once as standard AGI; returns its exit code and stderr.
fn standard(call: &Call, args: &[&str]) -> (Option<i32>, String) {
    let mut fake = fake(call, false);
    let (child, mut stdin, mut stdout) = spawn_agi(
        Command::new(example("voicemail-router"))
            .args(args)
            .arg(call.exten),
    );
    let pid = child.id();
    let signals: Vec<bool> = call
        .steps
        .iter()
        .map(|(_, r)| r.starts_with("SIGHUP "))
        .collect();
    pump(
        &mut fake,
        &mut stdin,
        &mut stdout,
        |_| {},
        |n| {
            if signals.get(n) == Some(&true) {
                sighup(pid);
            }
        },
    );
    drop(stdin);
    let (code, stderr) = finish(child);
    fake.finish();
    (code, stderr)
}

fn finish(child: Child) -> (Option<i32>, String) {
    let (status, stderr) = wait(child);
    (status.code(), stderr)
}

#[test]
fn standard_agi_seed_scenarios() {
    for call in seed_calls() {
        let (code, stderr) = standard(&call, &[]);
        assert_eq!(code, Some(0), "{}: {stderr}", call.exten);
    }
}

fn write_config(name: &str, text: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("vmr-{}-{name}.toml", std::process::id()));
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn config_files_change_the_dial_string() {
    for (tech, peer, dial) in [
        ("PJSIP", "bob", "PJSIP/bob,20"),
        ("Local", "bob@phones", "Local/bob@phones,20"),
    ] {
        let path = write_config(
            tech,
            &format!(
                "[route.101]\nchan = \"{tech}\"\npeer = \"{peer}\"\nmaxwait = 20\nvm_context = \"support\"\n\n[mailbox.\"*9\"]\nvm_box = \"101\"\nvm_context = \"support\"\n"
            ),
        );
        let call = Call {
            exten: "101",
            steps: vec![
                (
                    Box::leak(format!("EXEC Dial {dial}").into_boxed_str()),
                    "200 result=0",
                ),
                ("GET VARIABLE DIALSTATUS", "200 result=1 (NOANSWER)"),
                ("EXEC VoiceMail 101@support,u", "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        };
        let (code, stderr) = standard(&call, &["--config", path.to_str().unwrap()]);
        assert_eq!(code, Some(0), "{stderr}");
        let mailbox = Call {
            exten: "*9",
            steps: vec![
                ("EXEC VoiceMailMain 101@support", "200 result=0"),
                ("HANGUP", "200 result=1"),
            ],
        };
        assert_eq!(
            standard(&mailbox, &["--config", path.to_str().unwrap()]).0,
            Some(0)
        );
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn broken_config_files_are_refused_with_the_line() {
    let cases = [
        (
            "unknown-key",
            "[route.101]\nchan = \"SIP\"\npeer = \"bob\"\nmaxwait = 5\nvm_context = \"sales\"\ncolour = \"red\"\n",
            "line 6",
        ),
        (
            "wrong-type",
            "[route.101]\nchan = \"SIP\"\npeer = \"bob\"\nmaxwait = \"five\"\nvm_context = \"sales\"\n",
            "line 4",
        ),
        (
            "missing",
            "[route.101]\nchan = \"SIP\"\nmaxwait = 5\nvm_context = \"sales\"\n",
            "peer",
        ),
        (
            "zero",
            "[route.101]\nchan = \"SIP\"\npeer = \"bob\"\n\nmaxwait = 0\nvm_context = \"sales\"\n",
            "line 5: route 101: maxwait must be at least 1 second",
        ),
        (
            "comma",
            "[route.101]\nchan = \"SIP\"\npeer = \"bob,tT\"\nmaxwait = 5\nvm_context = \"sales\"\n",
            "peer must hold only letters, digits and \"-_.@\", not ','",
        ),
        (
            // An unbalanced `(` would swallow Dial's timeout.
            "paren",
            "[route.101]\nchan = \"PJSIP\"\npeer = \"bob(\"\nmaxwait = 5\nvm_context = \"sales\"\n",
            "not '('",
        ),
        (
            "mailbox-code",
            "[mailbox.101]\nvm_box = \"101\"\nvm_context = \"sales\"\n",
            "the code must start with '*'",
        ),
    ];
    for (name, text, needle) in cases {
        let path = write_config(name, text);
        let child = Command::new(example("voicemail-router"))
            .args(["--config", path.to_str().unwrap(), "101"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (code, stderr) = finish(child);
        assert_eq!(code, Some(2), "{name}: {stderr}");
        assert!(
            stderr.contains(needle),
            "{name}: {stderr:?} lacks {needle:?}"
        );
        std::fs::remove_file(path).unwrap();
    }
}

#[test]
fn simulate_mode_runs_every_scenario() {
    let out = Command::new(example("voicemail-router"))
        .arg("--simulate")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("AGI Tx >> EXEC VoiceMail 101@sales,u"),
        "{text}"
    );
    assert!(
        text.contains("AGI Tx >> EXEC VoiceMailMain 102@sales"),
        "{text}"
    );
    assert_eq!(text.matches("== ").count(), 10, "{text}");
}

#[test]
fn fastagi_service_seed_scenarios() {
    let service = service("voicemail-router", &["--listen"]);
    // A caller who hangs up during the unknown-number prompt: the fake
    // sends the HANGUP line with the reply, so no HANGUP command follows
    // (were it sent first, its 511 would end the call as quietly).
    let prompt_cut = unknown_number(vec![
        ("ANSWER", "200 result=0"),
        (
            r#"STREAM FILE pbx-invalid """#,
            "SIGHUP 200 result=-1 endpos=0",
        ),
    ]);
    // ... or before the answer: Asterisk refuses it with -1.
    let answer_refused = unknown_number(vec![("ANSWER", "SIGHUP 200 result=-1")]);
    let seed = seed_calls();
    let calls: Vec<&Call> = seed.iter().chain([&prompt_cut, &answer_refused]).collect();
    for call in &calls {
        pump_tcp(fake(call, true), service.addr);
    }
    // Every call logged its end (INFO), and nothing worse.
    let log = service.log();
    let done = poll_until(Duration::from_secs(5), || {
        log.lock().unwrap().matches("call done").count() == calls.len()
    });
    let log = log.lock().unwrap();
    assert!(done, "{log}");
    assert!(!log.contains("ERROR") && !log.contains("WARN"), "{log}");
}

/// In FastAGI mode SIGTERM stops the router gracefully: the call in flight
/// (here waiting on its Dial) finishes, and the exit reports it.
#[test]
fn fastagi_service_stops_gracefully_on_sigterm() {
    let service = service("voicemail-router", &["--listen"]);
    let call = Call {
        exten: "101",
        steps: vec![
            (r#"EXEC Dial "PJSIP/bob,5""#, "SIGHUP 200 result=-1"),
            ("GET VARIABLE DIALSTATUS", "200 result=1 (ANSWER)"),
        ],
    };
    let err = stop_mid_call(service, "TERM", fake(&call, true));
    assert!(err.contains("finished=1 cut=0"), "{err}");
}

/// Run by Asterisk with a bad file, the router says why in Asterisk's log
/// (`Log(ERROR,…)`), where an admin looks, before exiting with status 2.
#[test]
fn a_bad_config_is_reported_through_asterisk() {
    let path = write_config("verbose", "[route.101]\nchan = \"PJSIP\"\n");
    let (child, mut stdin, mut stdout) = agi_child(
        Command::new(example("voicemail-router")).args(["--config", path.to_str().unwrap(), "101"]),
        "standard-env.txt",
    );
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert!(
        line.starts_with("EXEC Log \"ERROR,voicemail-router: bad config, not starting:")
            && line.contains("peer"),
        "{line:?}"
    );
    stdin.write_all(b"200 result=0\n").unwrap();
    drop(stdin);
    let (code, stderr) = finish(child);
    assert_eq!(code, Some(2), "{stderr}");
    std::fs::remove_file(path).unwrap();
}

/// A prompt that fails on a channel that outlives it (HANGUP succeeds) is
/// a missing file: warned about, once the HANGUP has told.
#[test]
fn a_missing_prompt_is_warned_about() {
    let call = unknown_number(vec![
        ("ANSWER", "200 result=0"),
        (r#"STREAM FILE pbx-invalid """#, "200 result=-1 endpos=0"),
        ("HANGUP", "200 result=1"),
    ]);
    let (code, stderr) = standard(&call, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("prompt pbx-invalid is missing"), "{stderr}");
}
