//! Each command's wire form and reply mapping, one case per behaviour the
//! protocol reference documents.

use std::fmt::Debug;
use std::time::Duration;

use super::types::{ChannelState, Digit, EscapeDigits};
use super::*;
use crate::encode::encode_command;
use crate::line::Limits;
use crate::reply::{Frame, parse_frame};
use crate::value::Value;

fn encoded<C: Command>(cmd: &C) -> String {
    let mut buf = Vec::new();
    encode_command(cmd, &Limits::default(), &mut buf).unwrap();
    String::from_utf8(buf).unwrap()
}

fn outcome<C: Command>(cmd: &C, line: &str) -> Result<C::Output, Failure> {
    let (Frame::Reply(reply), _) = parse_frame(line.as_bytes()).unwrap().complete().unwrap() else {
        panic!("{line} is not a reply")
    };
    cmd.parse_reply(&reply)
}

#[track_caller]
fn ok<C: Command>(cmd: &C, line: &str, expected: C::Output)
where
    C::Output: PartialEq + Debug,
{
    assert_eq!(outcome(cmd, line).unwrap(), expected, "{line}");
}

#[track_caller]
fn rejected<C: Command>(cmd: &C, line: &str) {
    assert!(
        matches!(outcome(cmd, line), Err(Failure::Rejected { .. })),
        "{line} should be rejected"
    );
}

#[track_caller]
fn unexpected<C: Command>(cmd: &C, line: &str) {
    assert!(
        matches!(outcome(cmd, line), Err(Failure::Unexpected { .. })),
        "{line} should be unexpected"
    );
}

fn digit(c: char) -> Digit {
    Digit::try_from(c).unwrap()
}

fn value(s: &str) -> Value<'static> {
    Value::from(s.to_owned())
}

#[test]
fn the_table_has_all_47_commands_with_their_dead_flags() {
    assert_eq!(ALL.len(), 47);
    let dead: Vec<&str> = ALL.iter().filter(|c| c.dead_ok).map(|c| c.name).collect();
    let mut expected = vec![
        "ASYNCAGI BREAK",
        "DATABASE DEL",
        "DATABASE DELTREE",
        "DATABASE GET",
        "DATABASE PUT",
        "EXEC",
        "GET FULL VARIABLE",
        "GET VARIABLE",
        "NOOP",
        "SET VARIABLE",
        "SPEECH DESTROY",
        "SPEECH UNLOAD GRAMMAR",
        "VERBOSE",
    ];
    let mut dead_sorted = dead.clone();
    dead_sorted.sort_unstable();
    expected.sort_unstable();
    assert_eq!(dead_sorted, expected);
    let mut names: Vec<&str> = ALL.iter().map(|c| c.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), 47, "names are unique");
}

#[test]
fn call_control() {
    assert_eq!(encoded(&Answer), "ANSWER\n");
    ok(&Answer, "200 result=0\n", ());
    rejected(&Answer, "200 result=-1\n");

    assert_eq!(encoded(&Hangup::default()), "HANGUP\n");
    assert_eq!(
        encoded(&Hangup {
            channel: Some("SIP/x-1")
        }),
        "HANGUP SIP/x-1\n"
    );
    ok(&Hangup::default(), "200 result=1\n", ());
    rejected(&Hangup::default(), "200 result=-1\n");

    let status = ChannelStatus::default();
    assert_eq!(encoded(&status), "CHANNEL STATUS\n");
    ok(&status, "200 result=4\n", Some(ChannelState::Ring));
    ok(&status, "200 result=6\n", Some(ChannelState::Up));
    ok(&status, "200 result=9\n", Some(ChannelState::PreRing));
    ok(&status, "200 result=12\n", Some(ChannelState::Other(12)));
    ok(&status, "200 result=-1\n", None);

    assert_eq!(
        encoded(&SetAutoHangup {
            after: Some(Duration::from_secs(3600))
        }),
        "SET AUTOHANGUP 3600\n"
    );
    assert_eq!(
        encoded(&SetAutoHangup {
            after: Some(Duration::from_millis(1500))
        }),
        "SET AUTOHANGUP 1.500\n"
    );
    assert_eq!(
        encoded(&SetAutoHangup { after: None }),
        "SET AUTOHANGUP 0\n"
    );
    ok(&SetAutoHangup::default(), "200 result=0\n", ());

    assert_eq!(encoded(&AsyncAgiBreak), "ASYNCAGI BREAK\n");
    assert_eq!(encoded(&Noop), "NOOP\n");
    ok(&Noop, "200 result=0\n", ());

    assert_eq!(
        encoded(&Verbose {
            message: b"tap verbose message",
            level: Some(1)
        }),
        "VERBOSE \"tap verbose message\" 1\n"
    );
    ok(&Verbose::new("x"), "200 result=1\n", ());

    let dial = Exec::new("Dial", "SIP/bob,5");
    assert_eq!(encoded(&dial), "EXEC Dial SIP/bob,5\n");
    assert_eq!(
        encoded(&Exec {
            application: "Answer",
            options: None
        }),
        "EXEC Answer\n"
    );
    ok(&dial, "200 result=0\n", 0);
    ok(&dial, "200 result=-1\n", -1);
    assert_eq!(
        outcome(&dial, "200 result=-2\n"),
        Err(Failure::ApplicationNotFound("Dial".into()))
    );

    let gosub = Gosub {
        args: Some(b"first-arg,second arg"),
        ..Gosub::new("tap-sub", "s", "1")
    };
    assert_eq!(
        encoded(&gosub),
        "GOSUB tap-sub s 1 \"first-arg,second arg\"\n"
    );
    ok(&gosub, "200 result=0 Gosub complete\n", GosubEnd::Complete);
    ok(
        &gosub,
        "200 result=0 Gosub complete (abnormal exit)\n",
        GosubEnd::AbnormalExit,
    );
    rejected(&gosub, "200 result=-1 Gosub label not found\n");
    rejected(&gosub, "503 result=-2 Memory allocation failure\n");
}

#[test]
fn dialplan_and_variables() {
    assert_eq!(
        encoded(&SetContext::new("tap-sub")),
        "SET CONTEXT tap-sub\n"
    );
    assert_eq!(encoded(&SetExtension::new("s")), "SET EXTENSION s\n");
    assert_eq!(encoded(&SetPriority::new("1")), "SET PRIORITY 1\n");
    ok(&SetPriority::new("1"), "200 result=0\n", ());

    assert_eq!(
        encoded(&SetVariable::new("TAPVAR", "hello world")),
        "SET VARIABLE TAPVAR \"hello world\"\n"
    );
    assert_eq!(
        encoded(&SetVariable::new("TAPEMPTY", "")),
        "SET VARIABLE TAPEMPTY \"\"\n"
    );
    ok(&SetVariable::new("X", "y"), "200 result=1\n", ());

    let get = GetVariable::new("TAPQ");
    ok(
        &get,
        "200 result=1 (he said \"hi\" (ok) )()\n",
        Some(value("he said \"hi\" (ok) )(")),
    );
    ok(&get, "200 result=1 ()\n", Some(value("")));
    ok(&get, "200 result=0\n", None);
    unexpected(&get, "200 result=1\n");

    let full = GetFullVariable {
        channel: Some("Local/x;1"),
        ..GetFullVariable::new("${CHANNEL}")
    };
    assert_eq!(encoded(&full), "GET FULL VARIABLE ${CHANNEL} Local/x;1\n");
    ok(
        &full,
        "200 result=1 (hello world-Up)\n",
        value("hello world-Up"),
    );
    rejected(&full, "200 result=0\n");
}

#[test]
fn database() {
    assert_eq!(
        encoded(&DatabasePut::new("tapfam", "tapkey", "some value")),
        "DATABASE PUT tapfam tapkey \"some value\"\n"
    );
    ok(&DatabasePut::new("f", "k", "v"), "200 result=1\n", ());
    rejected(&DatabasePut::new("f", "k", "v"), "200 result=0\n");
    let get = DatabaseGet::new("tapfam", "tapkey");
    assert_eq!(encoded(&get), "DATABASE GET tapfam tapkey\n");
    ok(
        &get,
        "200 result=1 (some value)\n",
        Some(value("some value")),
    );
    ok(&get, "200 result=0\n", None);
    ok(&DatabaseDel::new("f", "k"), "200 result=1\n", ());
    let tree = DatabaseDelTree {
        keytree: Some("a"),
        ..DatabaseDelTree::new("tapfam/sub")
    };
    assert_eq!(encoded(&tree), "DATABASE DELTREE tapfam/sub a\n");
    // Inverted on the wire: 0 = something was deleted.
    ok(&tree, "200 result=0\n", true);
    ok(&tree, "200 result=1\n", false);
}

#[test]
fn playback() {
    let beep = StreamFile::new("beep", EscapeDigits::NONE);
    assert_eq!(encoded(&beep), "STREAM FILE beep \"\"\n");
    assert_eq!(
        encoded(&StreamFile {
            offset: Some(2000),
            ..beep
        }),
        "STREAM FILE beep \"\" 2000\n"
    );
    ok(
        &beep,
        "200 result=0 endpos=3520\n",
        Playback {
            digit: None,
            endpos: 3520,
        },
    );
    ok(
        &beep,
        "200 result=53 endpos=10560\n",
        Playback {
            digit: Some(digit('5')),
            endpos: 10560,
        },
    );
    rejected(&beep, "200 result=-1 endpos=0\n");

    let control = ControlStreamFile::new("beep", EscapeDigits::new("9").unwrap());
    assert_eq!(encoded(&control), "CONTROL STREAM FILE beep 9\n");
    assert_eq!(
        encoded(&ControlStreamFile {
            skip: Some(Duration::ZERO),
            pause: Some(EscapeDigits::new("0").unwrap()),
            offset_ms: Some(5000),
            ..control
        }),
        "CONTROL STREAM FILE beep 9 0 \"\" \"\" 0 5000\n"
    );
    assert_eq!(
        encoded(&ControlStreamFile {
            rewind: Some(EscapeDigits::new("*").unwrap()),
            ..control
        }),
        "CONTROL STREAM FILE beep 9 3000 \"\" *\n"
    );
    ok(
        &control,
        "200 result=0 endpos=-1\n",
        ControlPlayback {
            digit: None,
            endpos_ms: None,
        },
    );
    ok(
        &control,
        "200 result=57 endpos=1280\n",
        ControlPlayback {
            digit: Some(digit('9')),
            endpos_ms: Some(1280),
        },
    );
    rejected(&control, "200 result=-1 endpos=-1\n");

    let option = GetOption::new(
        "beep",
        EscapeDigits::new("#").unwrap(),
        Duration::from_millis(500),
    );
    assert_eq!(encoded(&option), "GET OPTION beep # 500\n");
    ok(
        &option,
        "200 result=0 endpos=3520\n",
        Playback {
            digit: None,
            endpos: 3520,
        },
    );

    assert_eq!(
        encoded(&SayDigits::new("123", EscapeDigits::NONE)),
        "SAY DIGITS 123 \"\"\n"
    );
    assert_eq!(
        encoded(&SayNumber {
            gender: Some("f"),
            ..SayNumber::new(1, EscapeDigits::NONE)
        }),
        "SAY NUMBER 1 \"\" f\n"
    );
    assert_eq!(
        encoded(&SayAlpha {
            case: Some(SayCase::Upper),
            ..SayAlpha::new("ab1", EscapeDigits::ANY)
        }),
        "SAY ALPHA ab1 0123456789*#ABCD u\n"
    );
    assert_eq!(
        encoded(&SayPhonetic::new("ab", EscapeDigits::NONE)),
        "SAY PHONETIC ab \"\"\n"
    );
    assert_eq!(
        encoded(&SayDate::new(0, EscapeDigits::NONE)),
        "SAY DATE 0 \"\"\n"
    );
    assert_eq!(
        encoded(&SayTime::new(0, EscapeDigits::NONE)),
        "SAY TIME 0 \"\"\n"
    );
    let dt = SayDateTime {
        format: Some("HM"),
        timezone: Some("UTC"),
        ..SayDateTime::new(0, EscapeDigits::NONE)
    };
    assert_eq!(encoded(&dt), "SAY DATETIME 0 \"\" HM UTC\n");
    let mut buf = Vec::new();
    let tz_only = SayDateTime {
        timezone: Some("UTC"),
        ..SayDateTime::new(0, EscapeDigits::NONE)
    };
    assert!(encode_command(&tz_only, &Limits::default(), &mut buf).is_err());
    ok(&dt, "200 result=0\n", None);
    ok(&dt, "200 result=35\n", Some(digit('#')));
    rejected(&dt, "200 result=-1\n");
    unexpected(&dt, "200 result=7\n");

    assert_eq!(
        encoded(&SetMusic {
            on: true,
            class: Some("default")
        }),
        "SET MUSIC on default\n"
    );
    assert_eq!(
        encoded(&SetMusic {
            on: false,
            class: None
        }),
        "SET MUSIC off\n"
    );
}

#[test]
fn input() {
    assert_eq!(encoded(&GetData::new("beep")), "GET DATA beep\n");
    let get = GetData {
        timeout: Some(Duration::from_secs(1)),
        max_digits: Some(2),
        ..GetData::new("beep")
    };
    assert_eq!(encoded(&get), "GET DATA beep 1000 2\n");
    assert_eq!(
        encoded(&GetData {
            max_digits: Some(4),
            ..GetData::new("")
        }),
        "GET DATA \"\" 0 4\n"
    );
    ok(
        &get,
        "200 result=42\n",
        Input {
            digits: "42".into(),
            timed_out: false,
        },
    );
    ok(
        &get,
        "200 result= (timeout)\n",
        Input {
            digits: String::new(),
            timed_out: true,
        },
    );
    ok(
        &get,
        "200 result=007* (timeout)\n",
        Input {
            digits: "007*".into(),
            timed_out: true,
        },
    );
    ok(
        &get,
        "200 result=\n",
        Input {
            digits: String::new(),
            timed_out: false,
        },
    );
    rejected(&get, "200 result=-1\n");

    assert_eq!(
        encoded(&WaitForDigit::new(Duration::from_millis(500))),
        "WAIT FOR DIGIT 500\n"
    );
    assert_eq!(encoded(&WaitForDigit::default()), "WAIT FOR DIGIT -1\n");
    ok(
        &WaitForDigit::default(),
        "200 result=49\n",
        Some(digit('1')),
    );
    ok(&WaitForDigit::default(), "200 result=0\n", None);
    rejected(&WaitForDigit::default(), "200 result=-1\n");
    // Input on the command channel, and the five stream-control frames:
    // documented replies, so rejected with their result, not unexpected.
    for n in [1, 1000, 1001, 1002, 1003, 1004] {
        let line = format!("200 result={n}\n");
        assert!(
            matches!(
                outcome(&WaitForDigit::default(), &line),
                Err(Failure::Rejected { result, .. }) if result == n
            ),
            "{line}"
        );
    }
    unexpected(&WaitForDigit::default(), "200 result=1005\n");
    unexpected(&WaitForDigit::default(), "200 result=2\n");

    let rec = RecordFile::new(
        "/tmp/r",
        "wav",
        EscapeDigits::new("#").unwrap(),
        Some(Duration::from_secs(2)),
    );
    assert_eq!(encoded(&rec), "RECORD FILE /tmp/r wav # 2000\n");
    assert_eq!(
        encoded(&RecordFile {
            offset: Some(0),
            beep: true,
            silence: Some(1),
            ..rec
        }),
        "RECORD FILE /tmp/r wav # 2000 0 BEEP s=1\n"
    );
    assert_eq!(
        encoded(&RecordFile {
            timeout: None,
            silence: Some(3),
            ..rec
        }),
        "RECORD FILE /tmp/r wav # -1 s=3\n"
    );
    ok(
        &rec,
        "200 result=35 (dtmf) endpos=0\n",
        Recording {
            end: RecordEnd::Digit(digit('#')),
            endpos: 0,
        },
    );
    ok(
        &rec,
        "200 result=0 (timeout) endpos=8000\n",
        Recording {
            end: RecordEnd::Timeout,
            endpos: 8000,
        },
    );
    ok(
        &rec,
        "200 result=17 (timeout) endpos=1\n",
        Recording {
            end: RecordEnd::Timeout,
            endpos: 1,
        },
    );
    ok(
        &rec,
        "200 result=-1 (hangup) endpos=400\n",
        Recording {
            end: RecordEnd::Hangup,
            endpos: 400,
        },
    );
    ok(
        &rec,
        "200 result=35 (randomerror) endpos=0\n",
        Recording {
            end: RecordEnd::BeepInterrupted(digit('#')),
            endpos: 0,
        },
    );
    rejected(&rec, "200 result=-1 (randomerror) endpos=0\n");
    rejected(&rec, "200 result=-1 (writefile)\n");
    rejected(&rec, "200 result=-1\n");

    let ch = ReceiveChar {
        timeout: Some(Duration::from_millis(500)),
    };
    assert_eq!(encoded(&ch), "RECEIVE CHAR 500\n");
    ok(&ch, "200 result=120\n", Some(b'x'));
    ok(&ch, "200 result=-1 (hangup)\n", None);
    ok(&ch, "200 result=0 (timeout)\n", None);

    let text = ReceiveText {
        timeout: Some(Duration::from_millis(500)),
    };
    assert_eq!(encoded(&text), "RECEIVE TEXT 500\n");
    ok(
        &text,
        "200 result=1 (hello feeder)\n",
        Some(value("hello feeder")),
    );
    ok(&text, "200 result=-1\n", None);
}

#[test]
fn text_and_caller_id() {
    assert_eq!(
        encoded(&SendText::new("hello text")),
        "SEND TEXT \"hello text\"\n"
    );
    ok(&SendText::new("x"), "200 result=0\n", ());
    rejected(&SendText::new("x"), "200 result=-1\n");
    assert_eq!(
        encoded(&SendImage::new("asterisk-logo")),
        "SEND IMAGE asterisk-logo\n"
    );
    assert_eq!(encoded(&TddMode { mode: Tdd::Mate }), "TDD MODE mate\n");
    ok(&TddMode { mode: Tdd::On }, "200 result=0\n", false);
    ok(&TddMode { mode: Tdd::On }, "200 result=1\n", true);
    assert_eq!(
        encoded(&SetCallerId::new("\"Tap Tester\" <5551234>")),
        "SET CALLERID \"\\\"Tap Tester\\\" <5551234>\"\n"
    );
    ok(&SetCallerId::new("1"), "200 result=1\n", ());
}

#[test]
fn speech() {
    assert_eq!(
        encoded(&SpeechCreate {
            engine: Some("nosuchengine")
        }),
        "SPEECH CREATE nosuchengine\n"
    );
    rejected(&SpeechCreate::default(), "200 result=0\n");
    ok(&SpeechCreate::default(), "200 result=1\n", ());
    assert_eq!(
        encoded(&SpeechSet::new("confidence", "50")),
        "SPEECH SET confidence 50\n"
    );
    assert_eq!(
        encoded(&SpeechLoadGrammar::new("g1", "/nonexistent/grammar")),
        "SPEECH LOAD GRAMMAR g1 /nonexistent/grammar\n"
    );
    assert_eq!(
        encoded(&SpeechActivateGrammar::new("g1")),
        "SPEECH ACTIVATE GRAMMAR g1\n"
    );
    assert_eq!(
        encoded(&SpeechDeactivateGrammar::new("g1")),
        "SPEECH DEACTIVATE GRAMMAR g1\n"
    );
    assert_eq!(
        encoded(&SpeechUnloadGrammar::new("g1")),
        "SPEECH UNLOAD GRAMMAR g1\n"
    );
    assert_eq!(encoded(&SpeechDestroy), "SPEECH DESTROY\n");

    let rec = SpeechRecognize::new("beep", Duration::from_secs(1000));
    assert_eq!(encoded(&rec), "SPEECH RECOGNIZE beep 1000\n");
    rejected(&rec, "200 result=0\n");
    ok(
        &rec,
        "200 result=1 (speech) endpos=0 results=0 \n",
        SpeechOutcome::Speech {
            endpos: 0,
            results: vec![],
        },
    );
    ok(
        &rec,
        "200 result=1 (speech) endpos=160 results=2 score0=900 text0=\"call bob (now)\" grammar0=dial score1=100 text1=\"col bob\" grammar1=dial\n",
        SpeechOutcome::Speech {
            endpos: 160,
            results: vec![
                SpeechResult {
                    score: 900,
                    text: value("call bob (now)"),
                    grammar: value("dial"),
                },
                SpeechResult {
                    score: 100,
                    text: value("col bob"),
                    grammar: value("dial"),
                },
            ],
        },
    );
    // The text is not escaped: quotes inside it, and ` x=` never closing it.
    ok(
        &rec,
        "200 result=1 (speech) endpos=0 results=1 score0=9 text0=\"say \"hi\" now\" grammar0=g\n",
        SpeechOutcome::Speech {
            endpos: 0,
            results: vec![SpeechResult {
                score: 9,
                text: value("say \"hi\" now"),
                grammar: value("g"),
            }],
        },
    );
    // Cut short by Asterisk's cap: only whole results.
    for cut in [
        "200 result=1 (speech) endpos=0 results=2 score0=5 text0=\"a\" grammar0=g\n",
        "200 result=1 (speech) endpos=0 results=2 score0=5 text0=\"a\" grammar0=g score1=4 text1=\"b c\n",
    ] {
        ok(
            &rec,
            cut,
            SpeechOutcome::Speech {
                endpos: 0,
                results: vec![SpeechResult {
                    score: 5,
                    text: value("a"),
                    grammar: value("g"),
                }],
            },
        );
    }
    ok(
        &rec,
        "200 result=1 (digit) digit=5 endpos=0\n",
        SpeechOutcome::Digit {
            digit: digit('5'),
            endpos: 0,
        },
    );
    ok(
        &rec,
        "200 result=1 (timeout) endpos=0\n",
        SpeechOutcome::Timeout { endpos: 0 },
    );
    ok(
        &rec,
        "200 result=1 (hangup) endpos=0\n",
        SpeechOutcome::Hangup { endpos: 0 },
    );
}

#[test]
fn non_200_replies_are_unexpected() {
    unexpected(&Answer, "100 result=0 Trying...\n");
    unexpected(&GetData::new("x"), "503 result=-2 x\n");
    unexpected(&ChannelStatus::default(), "200 result=\n");
}

/// The reason `cmd` is refused; fails the test when it is sent.
fn refusal<C: Command>(cmd: &C) -> EncodeError {
    let mut buf = Vec::new();
    match encode_command(cmd, &Limits::default(), &mut buf) {
        Ok(()) => panic!("sent, not refused: {}", String::from_utf8_lossy(&buf)),
        Err(e) => {
            assert!(buf.is_empty(), "a refused command writes nothing");
            e
        }
    }
}

#[test]
fn get_data_asks_for_at_most_what_asterisks_buffer_holds() {
    let get = |n| GetData {
        max_digits: Some(n),
        ..GetData::new("beep")
    };
    assert_eq!(encoded(&get(1023)), "GET DATA beep 0 1023\n");
    for n in [0, 1024, u16::MAX] {
        assert!(
            matches!(refusal(&get(n)), EncodeError::InvalidArgument(_)),
            "max_digits {n}"
        );
    }
}

#[test]
fn a_wait_that_is_not_zero_is_never_sent_as_zero() {
    let ms = Duration::from_micros(500);
    // 0 would cancel the autohangup.
    assert_eq!(
        encoded(&SetAutoHangup { after: Some(ms) }),
        "SET AUTOHANGUP 0.001\n"
    );
    assert_eq!(
        encoded(&SetAutoHangup {
            after: Some(Duration::from_micros(1_500_001))
        }),
        "SET AUTOHANGUP 1.501\n"
    );
    // 0 would mean no limit.
    assert_eq!(
        encoded(&SpeechRecognize::new("p", Duration::from_millis(500))),
        "SPEECH RECOGNIZE p 1\n"
    );
    assert_eq!(
        encoded(&SpeechRecognize::new("p", Duration::from_millis(2001))),
        "SPEECH RECOGNIZE p 3\n"
    );
    assert_eq!(
        encoded(&SpeechRecognize::new("p", Duration::ZERO)),
        "SPEECH RECOGNIZE p 0\n"
    );
    // 0 would return at once, record nothing, or take the default.
    assert_eq!(encoded(&WaitForDigit::new(ms)), "WAIT FOR DIGIT 1\n");
    let rec = RecordFile::new("f", "wav", EscapeDigits::NONE, Some(ms));
    assert!(
        encoded(&rec).starts_with("RECORD FILE f wav \"\" 1"),
        "{}",
        encoded(&rec)
    );
    let get = GetData {
        timeout: Some(ms),
        ..GetData::new("beep")
    };
    assert_eq!(encoded(&get), "GET DATA beep 1\n");
    // Asterisk reads these into a C int: capped there, not wrapped.
    assert_eq!(
        encoded(&WaitForDigit::new(Duration::MAX)),
        format!("WAIT FOR DIGIT {}\n", i32::MAX)
    );
    assert_eq!(
        encoded(&SpeechRecognize::new("p", Duration::MAX)),
        format!("SPEECH RECOGNIZE p {}\n", i32::MAX)
    );
}

#[test]
fn control_stream_file_refuses_keys_asterisk_would_not_honour() {
    let keys = |k: &str| EscapeDigits::new(k).unwrap();
    let refused =
        |cmd: &ControlStreamFile<'_>| matches!(refusal(cmd), EncodeError::InvalidArgument(_));
    // Stop keys that Asterisk takes as fast-forward or rewind first.
    assert!(refused(&ControlStreamFile::new("x", keys("#"))));
    assert!(refused(&ControlStreamFile::new("x", keys("1*"))));
    assert!(refused(&ControlStreamFile {
        forward: Some(keys("3")),
        ..ControlStreamFile::new("x", keys("3"))
    }));
    assert!(refused(&ControlStreamFile {
        pause: Some(keys("5")),
        ..ControlStreamFile::new("x", keys("15"))
    }));
    // No keys reads as the default there: the control cannot be turned off.
    assert!(refused(&ControlStreamFile {
        forward: Some(EscapeDigits::NONE),
        ..ControlStreamFile::new("x", keys("1"))
    }));
    assert!(refused(&ControlStreamFile {
        rewind: Some(EscapeDigits::NONE),
        ..ControlStreamFile::new("x", keys("1"))
    }));
    // Moved out of the way, `#` stops.
    assert_eq!(
        encoded(&ControlStreamFile {
            forward: Some(keys("3")),
            ..ControlStreamFile::new("x", keys("#"))
        }),
        "CONTROL STREAM FILE x # 3000 3\n"
    );
    assert_eq!(EscapeDigits::HASH, keys("#"));
    assert_eq!(EscapeDigits::STAR, keys("*"));
    assert_eq!(keys("12#").intersection(keys("2#3")), keys("2#"));
    assert_eq!(keys("12#").without(keys("2#3")), keys("1"));
    let any_but_controls = EscapeDigits::ANY
        .without(EscapeDigits::HASH)
        .without(EscapeDigits::STAR);
    assert_eq!(
        encoded(&ControlStreamFile::new("x", any_but_controls)),
        "CONTROL STREAM FILE x 0123456789ABCD\n"
    );
}
