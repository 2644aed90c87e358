//! Replays every captured transcript through the protocol core: the raw
//! bytes parse frame by frame, each command the script sent is produced by
//! the typed API (equal after Asterisk's tokenizing), and each reply maps to
//! the typed outcome it means.

use std::time::Duration;

use agi_proto::command::*;
use agi_proto::{
    ChannelState, Digit, EscapeDigits, Frame, Status, Value, parse_env, parse_frame, tokenize,
};

use crate::fixtures::{self, Record};
use crate::script::{Case, Fail, fail, ok, raw};

fn v(s: &str) -> Value<'static> {
    Value::from(s.to_owned())
}

fn d(c: char) -> Digit {
    Digit::try_from(c).unwrap()
}

const NONE: EscapeDigits = EscapeDigits::NONE;
const USAGE: Result<(), Fail> = Err(Fail::Usage);
const INVALID: Result<(), Fail> = Err(Fail::Invalid);

fn ms(n: u64) -> Option<Duration> {
    Some(Duration::from_millis(n))
}

/// Lines with missing arguments: each gets a `520` usage block.
const USAGE_LINES: [&str; 9] = [
    "STREAM FILE",
    "DATABASE GET onlyfamily",
    "WAIT FOR DIGIT",
    "SET VARIABLE onlyname",
    "GET DATA",
    "SAY NUMBER",
    "RECORD FILE x wav",
    "GOSUB",
    "VERBOSE",
];

/// Odd-case command words, then an empty line: the same in two captures.
fn case_and_empty_lines() -> [Box<dyn Case>; 3] {
    [
        raw("noop lower case", Ok(())),
        raw("NoOp Mixed Case", Ok(())),
        raw("", INVALID),
    ]
}

/// The 150 commands of `commands-live*.txt`; only the channel name differs
/// between the standard and FastAGI captures.
fn commands_live(channel: &'static str) -> Vec<Box<dyn Case>> {
    let nosuch = "Local/nosuchchannel@nowhere-00000000;1";
    let mut s: Vec<Box<dyn Case>> = vec![
        ok(Noop, ()),
        ok(ChannelStatus::default(), Some(ChannelState::Ring)),
        ok(Answer, ()),
        ok(Answer, ()),
        ok(ChannelStatus::default(), Some(ChannelState::Up)),
        ok(
            ChannelStatus {
                channel: Some(nosuch),
            },
            None,
        ),
        ok(DatabasePut::new("tapfam", "tapkey", "some value"), ()),
        ok(DatabaseGet::new("tapfam", "tapkey"), Some(v("some value"))),
        ok(DatabaseGet::new("tapfam", "nosuchkey"), None),
        ok(DatabaseDel::new("tapfam", "tapkey"), ()),
        ok(DatabaseDel::new("tapfam", "tapkey"), ()),
        ok(DatabasePut::new("tapfam/sub", "a", "1"), ()),
        ok(DatabasePut::new("tapfam/sub", "b", "2"), ()),
        ok(
            DatabaseDelTree {
                family: "tapfam/sub",
                keytree: Some("a"),
            },
            true,
        ),
        ok(DatabaseDelTree::new("tapfam"), true),
        ok(DatabaseDelTree::new("tapfam"), false),
        ok(Exec::new("Wait", "0.1"), 0),
        ok(Exec::new("Verbose", "0,hello from EXEC, with a comma"), 0),
        ok(Exec::new("Set", "TAPEXEC=a,b"), 0),
        ok(GetVariable::new("TAPEXEC"), Some(v("a,b"))),
        fail(Exec::new("NoSuchApplication", "foo"), Fail::AppNotFound),
        ok(SetVariable::new("TAPVAR", "hello world"), ()),
        ok(GetVariable::new("TAPVAR"), Some(v("hello world"))),
        ok(SetVariable::new("TAPQ", "he said \"hi\" (ok) )("), ()),
        ok(GetVariable::new("TAPQ"), Some(v("he said \"hi\" (ok) )("))),
        ok(SetVariable::new("TAPEMPTY", ""), ()),
        ok(GetVariable::new("TAPEMPTY"), Some(v(""))),
        ok(GetVariable::new("NO_SUCH_VARIABLE_XYZ"), None),
        ok(GetVariable::new("CHANNEL"), Some(v(channel))),
        ok(GetVariable::new("CALLERID(num)"), Some(v(""))),
        ok(
            GetFullVariable::new("${TAPVAR}-${CHANNEL(state)}"),
            v("hello world-Up"),
        ),
        ok(GetFullVariable::new("${NO_SUCH_VARIABLE_XYZ}"), v("")),
        fail(
            GetFullVariable {
                expression: "${CHANNEL}",
                channel: Some(nosuch),
            },
            Fail::Rejected,
        ),
        ok(
            GetOption::new(
                "beep",
                EscapeDigits::new("#").unwrap(),
                Duration::from_millis(500),
            ),
            Playback {
                digit: None,
                endpos: 3520,
            },
        ),
        ok(
            GetData {
                timeout: ms(1000),
                max_digits: Some(2),
                ..GetData::new("beep")
            },
            Input {
                digits: String::new(),
                timed_out: true,
            },
        ),
        ok(
            GetData::new("beep"),
            Input {
                digits: String::new(),
                timed_out: true,
            },
        ),
        ok(WaitForDigit::new(Duration::from_millis(500)), None),
        ok(SayDigits::new("123", NONE), None),
        ok(SayNumber::new(42, NONE), None),
        ok(
            SayNumber {
                gender: Some("f"),
                ..SayNumber::new(1, NONE)
            },
            None,
        ),
        ok(SayAlpha::new("ab1", NONE), None),
        ok(SayPhonetic::new("ab", NONE), None),
        ok(SayDate::new(0, NONE), None),
        ok(SayTime::new(0, NONE), None),
        ok(SayDateTime::new(0, NONE), None),
        ok(
            SayDateTime {
                format: Some("HM"),
                timezone: Some("UTC"),
                ..SayDateTime::new(0, NONE)
            },
            None,
        ),
        ok(
            StreamFile::new("beep", NONE),
            Playback {
                digit: None,
                endpos: 3520,
            },
        ),
        ok(
            StreamFile {
                offset: Some(2000),
                ..StreamFile::new("beep", NONE)
            },
            Playback {
                digit: None,
                endpos: 3520,
            },
        ),
        fail(StreamFile::new("no-such-sound-file", NONE), Fail::Rejected),
        raw("STREAM FILE beep", USAGE),
        ok(
            ControlStreamFile::new("beep", NONE),
            ControlPlayback {
                digit: None,
                endpos_ms: None,
            },
        ),
        fail(
            ControlStreamFile::new("no-such-sound-file", NONE),
            Fail::Rejected,
        ),
        ok(
            ControlStreamFile {
                skip: Some(Duration::ZERO),
                forward: Some(EscapeDigits::new("#").unwrap()),
                rewind: Some(EscapeDigits::new("*").unwrap()),
                pause: Some(EscapeDigits::new("0").unwrap()),
                offset_ms: Some(5000),
                ..ControlStreamFile::new("beep", NONE)
            },
            ControlPlayback {
                digit: None,
                endpos_ms: None,
            },
        ),
        ok(SetCallerId::new("\"Tap Tester\" <5551234>"), ()),
        ok(
            GetVariable::new("CALLERID(all)"),
            Some(v("\"Tap Tester\" <5551234>")),
        ),
        ok(SetCallerId::new("5559876"), ()),
        ok(GetVariable::new("CALLERID(all)"), Some(v("\"\" <5559876>"))),
        ok(SetContext::new("tap-sub"), ()),
        ok(SetExtension::new("s"), ()),
        ok(SetPriority::new("1"), ()),
        fail(SetPriority::new("nosuchlabel"), Fail::Usage),
        ok(
            SetMusic {
                on: true,
                class: Some("default"),
            },
            (),
        ),
        ok(Exec::new("Wait", "0.5"), 0),
        ok(
            SetMusic {
                on: false,
                class: None,
            },
            (),
        ),
        ok(
            SetMusic {
                on: true,
                class: Some("nosuchclass"),
            },
            (),
        ),
        ok(
            SetMusic {
                on: false,
                class: None,
            },
            (),
        ),
        ok(
            SetAutoHangup {
                after: Some(Duration::from_secs(3600)),
            },
            (),
        ),
        ok(SetAutoHangup { after: None }, ()),
        ok(
            RecordFile::new(
                "/var/spool/asterisk/tmp/tap-rec-1",
                "wav",
                EscapeDigits::new("#").unwrap(),
                ms(1000),
            ),
            Recording {
                end: RecordEnd::Timeout,
                endpos: 0,
            },
        ),
        ok(
            RecordFile {
                offset: Some(0),
                beep: true,
                silence: Some(1),
                ..RecordFile::new(
                    "/var/spool/asterisk/tmp/tap-rec-2",
                    "wav",
                    EscapeDigits::new("#").unwrap(),
                    ms(2000),
                )
            },
            Recording {
                end: RecordEnd::Timeout,
                endpos: 0,
            },
        ),
        fail(
            RecordFile::new(
                "/var/spool/asterisk/tmp/tap-rec-3",
                "nosuchformat",
                EscapeDigits::new("#").unwrap(),
                ms(500),
            ),
            Fail::Rejected,
        ),
        ok(ReceiveChar { timeout: ms(500) }, None),
        ok(ReceiveText { timeout: ms(500) }, None),
        ok(SendText::new("hello text"), ()),
        ok(SendImage::new("asterisk-logo"), ()),
        ok(TddMode { mode: Tdd::On }, false),
        ok(TddMode { mode: Tdd::Off }, false),
        ok(
            Verbose {
                message: b"tap verbose message",
                level: Some(1),
            },
            (),
        ),
        ok(Verbose::new("quoted \"inner\" text"), ()),
        ok(
            Gosub {
                args: Some(b"first-arg,second arg"),
                ..Gosub::new("tap-sub", "s", "1")
            },
            GosubEnd::Complete,
        ),
        ok(Gosub::new("tap-sub", "s", "1"), GosubEnd::Complete),
        raw("GOSUB tap-sub s 1 first-arg,second arg", USAGE),
        ok(GetVariable::new("TAP_SUB_RAN"), Some(v("yes"))),
        ok(GetVariable::new("GOSUB_RETVAL"), Some(v("sub-returned-"))),
        fail(Gosub::new("tap-sub", "nosuchexten", "1"), Fail::Rejected),
        fail(
            SpeechCreate {
                engine: Some("nosuchengine"),
            },
            Fail::Rejected,
        ),
        fail(SpeechSet::new("confidence", "50"), Fail::Rejected),
        fail(
            SpeechLoadGrammar::new("g1", "/nonexistent/grammar"),
            Fail::Rejected,
        ),
        fail(SpeechActivateGrammar::new("g1"), Fail::Rejected),
        fail(
            SpeechRecognize::new("beep", Duration::from_secs(1000)),
            Fail::Rejected,
        ),
        fail(SpeechDeactivateGrammar::new("g1"), Fail::Rejected),
        fail(SpeechUnloadGrammar::new("g1"), Fail::Rejected),
        fail(SpeechDestroy, Fail::Rejected),
        ok(AsyncAgiBreak, ()),
        raw("FOO BAR", INVALID),
    ];
    s.extend(USAGE_LINES.into_iter().map(|c| raw(c, USAGE)));
    s.extend(case_and_empty_lines());
    s.extend([
        ok(Hangup::default(), ()),
        ok(Noop, ()),
        fail(Answer, Fail::Dead),
        fail(ChannelStatus::default(), Fail::Dead),
        fail(StreamFile::new("beep", NONE), Fail::Dead),
        ok(GetVariable::new("CHANNEL"), Some(v(channel))),
        ok(GetFullVariable::new("${HANGUPCAUSE}"), v("0")),
        ok(SetVariable::new("AFTERHANGUP", "yes"), ()),
        ok(DatabaseGet::new("tapfam", "nosuchkey"), None),
        ok(
            Verbose {
                message: b"after hangup",
                level: Some(1),
            },
            (),
        ),
        ok(Exec::new("Verbose", "0,exec after hangup"), 0),
        fail(Hangup::default(), Fail::Dead),
        raw("FOO BAR", INVALID),
        raw("STREAM FILE", Err(Fail::Dead)),
    ]);
    s
}

pub fn script(name: &str) -> Vec<Box<dyn Case>> {
    let hash = || EscapeDigits::new("#").unwrap();
    match name {
        "commands-live.txt" => commands_live("Local/commands@tap-00000000;2"),
        "commands-live-fastagi.txt" => commands_live("Local/fastcommands@tap-fast-00000001;2"),
        "interactive-dtmf-text.txt" => vec![
            ok(Answer, ()),
            ok(WaitForDigit::default(), Some(d('1'))),
            ok(
                GetData {
                    timeout: ms(5000),
                    max_digits: Some(5),
                    ..GetData::new("beep")
                },
                Input {
                    digits: "42".into(),
                    timed_out: false,
                },
            ),
            ok(ReceiveText { timeout: ms(5000) }, Some(v("hello feeder"))),
            ok(
                StreamFile::new("demo-congrats", EscapeDigits::new("0123456789*#").unwrap()),
                Playback {
                    digit: Some(d('5')),
                    endpos: 10560,
                },
            ),
            ok(
                ControlStreamFile::new("demo-congrats", EscapeDigits::new("9").unwrap()),
                ControlPlayback {
                    digit: Some(d('9')),
                    endpos_ms: Some(1280),
                },
            ),
            ok(GetVariable::new("CPLAYBACKSTATUS"), Some(v("USERSTOPPED"))),
            ok(GetVariable::new("CPLAYBACKSTOPKEY"), Some(v("9"))),
            ok(
                RecordFile::new(
                    "/var/spool/asterisk/tmp/tap-rec-dtmf",
                    "wav",
                    hash(),
                    ms(8000),
                ),
                Recording {
                    end: RecordEnd::Digit(d('#')),
                    endpos: 0,
                },
            ),
            ok(ReceiveChar { timeout: ms(5000) }, Some(b'x')),
            ok(Hangup::default(), ()),
        ],
        "dead-channel.txt" => vec![
            ok(Noop, ()),
            fail(Answer, Fail::Dead),
            fail(ChannelStatus::default(), Fail::Dead),
            ok(
                GetVariable::new("CHANNEL"),
                Some(v("Local/dead@tap-dead-00000003;2")),
            ),
            ok(GetVariable::new("HANGUPCAUSE"), Some(v("16"))),
            ok(GetFullVariable::new("${EXTEN}/${HANGUPCAUSE}"), v("h/16")),
            ok(SetVariable::new("DEADVAR", "dead value"), ()),
            ok(GetVariable::new("DEADVAR"), Some(v("dead value"))),
            ok(DatabasePut::new("tapdead", "k", "v"), ()),
            ok(DatabaseGet::new("tapdead", "k"), Some(v("v"))),
            ok(DatabaseDelTree::new("tapdead"), true),
            ok(
                Verbose {
                    message: b"dead agi verbose",
                    level: Some(1),
                },
                (),
            ),
            ok(Exec::new("Verbose", "0,exec in dead agi"), 0),
            fail(StreamFile::new("beep", NONE), Fail::Dead),
            fail(WaitForDigit::new(Duration::from_millis(100)), Fail::Dead),
            fail(Hangup::default(), Fail::Dead),
            fail(SetContext::new("tap-sub"), Fail::Dead),
            fail(
                Gosub {
                    args: Some(b"from-dead"),
                    ..Gosub::new("tap-sub", "s", "1")
                },
                Fail::Dead,
            ),
            fail(SpeechDestroy, Fail::Rejected),
            raw("FOO BAR", INVALID),
            raw("STREAM FILE", Err(Fail::Dead)),
            raw("GET VARIABLE", USAGE),
        ],
        "eagi-audio.txt" => vec![
            ok(Answer, ()),
            ok(
                GetVariable::new("CHANNEL(audioreadformat)"),
                Some(v("slin")),
            ),
            ok(
                StreamFile::new("tt-weasels", NONE),
                Playback {
                    digit: None,
                    endpos: 23680,
                },
            ),
            ok(Hangup::default(), ()),
        ],
        "fastagi-basic.txt" => vec![
            ok(Answer, ()),
            ok(
                GetVariable::new("CHANNEL"),
                Some(v("Local/basic@tap-fast-00000008;2")),
            ),
            ok(SetVariable::new("TAPVAR", "hello world"), ()),
            ok(GetVariable::new("TAPVAR"), Some(v("hello world"))),
            ok(
                StreamFile::new("beep", NONE),
                Playback {
                    digit: None,
                    endpos: 3520,
                },
            ),
            fail(Exec::new("NoSuchApplication", "foo"), Fail::AppNotFound),
            ok(
                Gosub {
                    args: Some(b"fast-arg"),
                    ..Gosub::new("tap-sub", "s", "1")
                },
                GosubEnd::Complete,
            ),
            raw("FOO BAR", INVALID),
            raw("SET VARIABLE onlyname", USAGE),
            ok(Hangup::default(), ()),
            ok(Noop, ()),
            fail(ChannelStatus::default(), Fail::Dead),
            ok(
                GetVariable::new("CHANNEL"),
                Some(v("Local/basic@tap-fast-00000008;2")),
            ),
        ],
        "fastagi-hangup.txt"
        | "fastagi-hangup-nosighup.txt"
        | "sighup-default.txt"
        | "sighup-disabled.txt" => {
            let last = match name {
                "sighup-default.txt" => ok(
                    GetVariable::new("CHANNEL"),
                    Some(v("Local/sighup-default@tap-sighup-00000005;2")),
                ),
                "fastagi-hangup.txt" => ok(
                    GetVariable::new("CHANNEL"),
                    Some(v("Local/hangup-default@tap-fast-00000009;2")),
                ),
                _ => ok(GetVariable::new("AGISIGHUP"), Some(v("no"))),
            };
            let mut s = vec![
                ok(Answer, ()),
                ok(Noop, ()),
                fail(ChannelStatus::default(), Fail::Dead),
                last,
            ];
            if name == "fastagi-hangup.txt" {
                s.push(fail(StreamFile::new("beep", NONE), Fail::Dead));
            }
            s
        }
        "fastagi-hangup-during-command.txt" => vec![
            ok(Answer, ()),
            // The caller hung up mid-prompt: -1 with the samples played.
            fail(StreamFile::new("demo-congrats", NONE), Fail::Rejected),
            ok(Noop, ()),
        ],
        // The NOOP after Asterisk closed got no reply: only ANSWER replays.
        "fastagi-hangup-exitonhangup.txt" | "sighup-exitonhangup.txt" => vec![ok(Answer, ())],
        "fastagi-noscript.txt" => vec![ok(Noop, ()), ok(Hangup::default(), ())],
        "usage-520.txt" => {
            let mut s = vec![ok(Answer, ()), raw("FOO BAR", INVALID)];
            s.extend(USAGE_LINES.into_iter().map(|c| raw(c, USAGE)));
            s.extend(case_and_empty_lines());
            s.push(ok(Hangup::default(), ()));
            s
        }
        other => panic!("no typed script for {other}: add one"),
    }
}

/// Groups the `< ` records after the environment into expected frames: a
/// `520-` line opens a block that ends at the `520 ` line.
fn expected_frames(records: &[Record]) -> Vec<Vec<u8>> {
    let inbound: Vec<&[u8]> = fixtures::asterisk_lines(records);
    let body_start = inbound
        .iter()
        .position(|l| l.is_empty())
        .expect("env block")
        + 1;
    let mut frames = Vec::new();
    let mut block: Option<Vec<u8>> = None;
    for line in &inbound[body_start..] {
        match block.as_mut() {
            Some(b) => {
                b.extend_from_slice(line);
                b.push(b'\n');
                if line.starts_with(b"520 ") {
                    frames.push(block.take().unwrap());
                }
            }
            None if line.starts_with(b"520-") => block = Some([*line, b"\n"].concat()),
            None => frames.push([*line, b"\n"].concat()),
        }
    }
    assert!(block.is_none(), "unterminated usage block");
    frames
}

#[test]
fn raw_files_are_the_joined_records() {
    for name in fixtures::transcript_names() {
        let records = fixtures::records(&name);
        let stem = name.trim_end_matches(".txt");
        for (dir, inbound) in [("in", true), ("out", false)] {
            let raw = fixtures::read(&format!("raw/{stem}.{dir}.raw"));
            let mut joined = fixtures::joined(&records, inbound);
            if raw.last() != Some(&b'\n') {
                joined.pop();
            }
            assert_eq!(joined, raw, "{name} {dir}");
        }
    }
}

#[test]
fn every_transcript_parses_frame_by_frame() {
    let names = fixtures::transcript_names();
    assert_eq!(names.len(), 15, "{names:?}");
    for name in names {
        let records = fixtures::records(&name);
        let stream = fixtures::joined(&records, true);
        let (env, mut at) = parse_env(&stream).unwrap().complete().unwrap();
        assert!(env.request().is_some(), "{name}");
        let mut frames = Vec::new();
        while at < stream.len() {
            let Status::Complete { value, consumed } =
                parse_frame(&stream[at..]).unwrap_or_else(|e| panic!("{name}: {e}"))
            else {
                panic!("{name}: partial frame at {at}")
            };
            let bytes = &stream[at..at + consumed];
            match value {
                Frame::Reply(r) => assert_eq!([r.line(), b"\n"].concat(), bytes, "{name}"),
                Frame::Hangup => assert_eq!(bytes, b"HANGUP\n"),
                Frame::InvalidCommand => assert!(bytes.starts_with(b"510 ")),
                Frame::DeadChannel => assert!(bytes.starts_with(b"511 ")),
                Frame::Usage(u) => {
                    assert!(
                        bytes.starts_with(b"520-")
                            && bytes.ends_with(b"520 End of proper usage.\n"),
                        "{name}"
                    );
                    assert!(bytes.windows(u.text.len()).any(|w| w == u.text));
                }
                Frame::Other { .. } => panic!("{name}: unexpected frame {value:?}"),
            }
            frames.push(bytes.to_vec());
            at += consumed;
        }
        assert_eq!(frames, expected_frames(&records), "{name}");
    }
}

#[test]
fn typed_scripts_send_the_same_commands_and_read_the_same_outcomes() {
    for name in fixtures::transcript_names() {
        let records = fixtures::records(&name);
        let transcript = agi_client::testing::Transcript {
            records: records.clone(),
        };
        let sent: Vec<&[u8]> = transcript.script_lines().collect();
        let stream = fixtures::joined(&records, true);
        let (_, mut at) = parse_env(&stream).unwrap().complete().unwrap();
        let script = script(&name);
        let replies = script.len();
        assert!(
            replies <= sent.len() && sent.len() - replies <= 1,
            "{name}: {replies} steps for {} lines",
            sent.len()
        );
        let mut hangups = 0;
        for (i, (case, line)) in script.iter().zip(&sent).enumerate() {
            let encoded = case.encode();
            assert_eq!(
                tokenize(&encoded[..encoded.len() - 1]),
                tokenize(line),
                "{name} step {i}: {:?} vs {:?}",
                String::from_utf8_lossy(&encoded),
                String::from_utf8_lossy(line)
            );
            let (used, seen) = case
                .replay(&stream[at..])
                .unwrap_or_else(|e| panic!("{name} step {i}: {e}"));
            at += used;
            hangups += seen;
        }
        // What is left is only end-of-session HANGUP lines.
        let mut rest = &stream[at..];
        while !rest.is_empty() {
            let (frame, used) = parse_frame(rest).unwrap().complete().unwrap();
            assert_eq!(frame, Frame::Hangup, "{name}: leftover {frame:?}");
            rest = &rest[used..];
            hangups += 1;
        }
        let expected_hangups = records
            .iter()
            .filter(|r| matches!(r, Record::Asterisk(l) if l == b"HANGUP"))
            .count();
        assert_eq!(hangups, expected_hangups, "{name}");
    }
}
