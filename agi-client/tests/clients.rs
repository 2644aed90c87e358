//! Both clients against the scripted fake Asterisk: every method's wire
//! form and outcome, failures, hangups wherever they arrive, broken streams.
//!
//! Each scenario is written once and expanded for the sync and the async
//! client; `aw!(…)` is a plain call in one and an `.await` in the other.

use std::time::Duration;

use agi_client::Error;
use agi_client::testing::FakeAsterisk;
use agi_proto::command::*;
use agi_proto::{ChannelState, Digit, EncodeError, EscapeDigits, Failure, ParseErrorKind, Value};

/// Client options with a command deadline.
fn command_limit(after: Duration) -> agi_client::Options {
    agi_client::Options {
        command_timeout: Some(after),
        ..Default::default()
    }
}

/// A FastAGI peer on a thread: connects, sends a minimal environment, then
/// runs `play`; returns the server side of the connection.
fn fastagi_peer(
    play: impl FnOnce(std::net::TcpStream) + Send + 'static,
) -> (std::net::TcpStream, std::thread::JoinHandle<()>) {
    use std::io::Write as _;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let peer = std::thread::spawn(move || {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(b"agi_network: yes\nagi_request: agi://x/y\n\n")
            .unwrap();
        play(s);
    });
    (listener.accept().unwrap().0, peer)
}

/// Fails unless `err` is a timeout after `after`.
#[track_caller]
fn assert_timed_out(err: &Error, after: Duration) {
    assert!(
        matches!(err, Error::Timeout { after: a } if *a == after),
        "{err:?}"
    );
}

/// Fails unless `err` refuses an over-long command line at `max` bytes.
#[track_caller]
fn assert_too_long(err: &Error, max: usize) {
    assert!(
        matches!(err, Error::Encode(agi_proto::EncodeError::TooLong { max: m, .. }) if *m == max),
        "{err:?}"
    );
}

fn d(c: char) -> Digit {
    Digit::try_from(c).unwrap()
}

fn v(s: &str) -> Value<'static> {
    Value::from(s.to_owned())
}

macro_rules! both {
    ($name:ident, $fake:expr, |$chan:ident| $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn sync() {
                #[allow(unused_macros)]
                macro_rules! aw {
                    ($e:expr) => {
                        $e
                    };
                }
                let fake: FakeAsterisk = $fake;
                #[allow(unused_mut)]
                let mut $chan = agi_client::sync::Channel::new(fake.clone(), fake.clone()).unwrap();
                $body
                fake.finish();
            }

            #[tokio::test]
            async fn aio() {
                #[allow(unused_macros)]
                macro_rules! aw {
                    ($e:expr) => {
                        $e.await
                    };
                }
                let fake: FakeAsterisk = $fake;
                #[allow(unused_mut)]
                let mut $chan = agi_client::aio::Channel::new(fake.clone()).await.unwrap();
                $body
                fake.finish();
            }
        }
    };
}

fn env() -> agi_client::testing::Builder {
    FakeAsterisk::builder()
        .env("agi_request", "test")
        .env("agi_version", "22.5.2")
        .env("agi_calleridname", b"Ren\xe9e")
}

both!(
    every_method,
    env()
        .expect("ANSWER", "200 result=0")
        .expect("HANGUP", "200 result=1")
        .expect("CHANNEL STATUS", "200 result=6")
        .expect("SET AUTOHANGUP 30", "200 result=0")
        .expect("NOOP", "200 result=0")
        .expect("VERBOSE \"hello there\"", "200 result=1")
        .expect("EXEC Dial SIP/bob,5", "200 result=0")
        .expect(
            "GOSUB sub s 1 a,b",
            "100 result=0 Trying...\n200 result=0 Gosub complete"
        )
        .expect("SET CONTEXT sales", "200 result=0")
        .expect("SET EXTENSION 101", "200 result=0")
        .expect("SET PRIORITY 1", "200 result=0")
        .expect("SET VARIABLE X \"a b\"", "200 result=1")
        .expect("GET VARIABLE X", "200 result=1 (a b)")
        .expect("GET FULL VARIABLE ${LONG}", "200 result=1 (whole)")
        .expect("GET FULL VARIABLE ${CALLERID(name)}", "200 result=1 (Bob)")
        .expect("DATABASE GET fam key", "200 result=0")
        .expect("DATABASE PUT fam key val", "200 result=1")
        .expect("DATABASE DEL fam key", "200 result=1")
        .expect("DATABASE DELTREE fam", "200 result=0")
        .expect("STREAM FILE beep \"\"", "200 result=0 endpos=3520")
        .expect("CONTROL STREAM FILE beep 9", "200 result=57 endpos=1280")
        .expect("GET OPTION menu 12 5000", "200 result=50 endpos=100")
        .expect("GET DATA enter 3000 4", "200 result=1234")
        .expect("SAY DIGITS 123 \"\"", "200 result=0")
        .expect("SAY NUMBER 42 #", "200 result=35")
        .expect("SAY ALPHA abc \"\"", "200 result=0")
        .expect("SAY PHONETIC abc \"\"", "200 result=0")
        .expect("SAY DATE 0 \"\"", "200 result=0")
        .expect("SAY TIME 0 \"\"", "200 result=0")
        .expect("SAY DATETIME 0 \"\"", "200 result=0")
        .expect("SET MUSIC on", "200 result=0")
        .expect("WAIT FOR DIGIT 1000", "200 result=0")
        .expect(
            "RECORD FILE msg wav # 60000",
            "200 result=35 (dtmf) endpos=16000"
        )
        .expect("RECEIVE CHAR 100", "200 result=65")
        .expect("RECEIVE TEXT 100", "200 result=1 (hi)")
        .expect("SEND TEXT hello", "200 result=0")
        .expect("SEND IMAGE logo", "200 result=0")
        .expect("TDD MODE on", "200 result=1")
        .expect("SET CALLERID \"\\\"Bob\\\" <101>\"", "200 result=1")
        .expect("SPEECH CREATE", "200 result=1")
        .expect("SPEECH SET confidence 50", "200 result=1")
        .expect("SPEECH LOAD GRAMMAR g /g.gram", "200 result=1")
        .expect("SPEECH ACTIVATE GRAMMAR g", "200 result=1")
        .expect(
            "SPEECH RECOGNIZE prompt 5",
            "200 result=1 (timeout) endpos=0"
        )
        .expect("SPEECH DEACTIVATE GRAMMAR g", "200 result=1")
        .expect("SPEECH UNLOAD GRAMMAR g", "200 result=1")
        .expect("SPEECH DESTROY", "200 result=1")
        .expect("ASYNCAGI BREAK", "200 result=0")
        .build(),
    |chan| {
        let hash = EscapeDigits::new("#").unwrap();
        assert_eq!(chan.env().callerid_name().unwrap().as_bytes(), b"Ren\xe9e");
        aw!(chan.answer()).unwrap();
        aw!(chan.hangup()).unwrap();
        assert_eq!(aw!(chan.channel_status()).unwrap(), Some(ChannelState::Up));
        aw!(chan.set_autohangup(Duration::from_secs(30))).unwrap();
        aw!(chan.noop()).unwrap();
        aw!(chan.verbose("hello there")).unwrap();
        assert_eq!(aw!(chan.exec("Dial", "SIP/bob,5")).unwrap(), 0);
        assert_eq!(
            aw!(chan.gosub("sub", "s", "1", "a,b")).unwrap(),
            GosubEnd::Complete
        );
        aw!(chan.set_context("sales")).unwrap();
        aw!(chan.set_extension("101")).unwrap();
        aw!(chan.set_priority("1")).unwrap();
        aw!(chan.set_variable("X", "a b")).unwrap();
        assert_eq!(aw!(chan.get_variable("X")).unwrap(), Some(v("a b")));
        assert_eq!(aw!(chan.get_variable_whole("LONG")).unwrap(), v("whole"));
        assert_eq!(
            aw!(chan.get_full_variable("${CALLERID(name)}")).unwrap(),
            v("Bob")
        );
        assert_eq!(aw!(chan.database_get("fam", "key")).unwrap(), None);
        aw!(chan.database_put("fam", "key", "val")).unwrap();
        aw!(chan.database_del("fam", "key")).unwrap();
        assert!(aw!(chan.database_deltree("fam")).unwrap());
        assert_eq!(
            aw!(chan.stream_file("beep", EscapeDigits::NONE)).unwrap(),
            Playback {
                digit: None,
                endpos: 3520
            }
        );
        assert_eq!(
            aw!(chan.control_stream_file("beep", EscapeDigits::new("9").unwrap())).unwrap(),
            ControlPlayback {
                digit: Some(d('9')),
                endpos_ms: Some(1280)
            }
        );
        let menu = aw!(chan.get_option(
            "menu",
            EscapeDigits::new("12").unwrap(),
            Duration::from_secs(5)
        ))
        .unwrap();
        assert_eq!(menu.digit, Some(d('2')));
        assert_eq!(
            aw!(chan.get_data("enter", Duration::from_secs(3), 4)).unwrap(),
            Input {
                digits: "1234".into(),
                timed_out: false
            }
        );
        assert_eq!(
            aw!(chan.say_digits("123", EscapeDigits::NONE)).unwrap(),
            None
        );
        assert_eq!(aw!(chan.say_number(42, hash)).unwrap(), Some(d('#')));
        assert_eq!(
            aw!(chan.say_alpha("abc", EscapeDigits::NONE)).unwrap(),
            None
        );
        assert_eq!(
            aw!(chan.say_phonetic("abc", EscapeDigits::NONE)).unwrap(),
            None
        );
        assert_eq!(aw!(chan.say_date(0, EscapeDigits::NONE)).unwrap(), None);
        assert_eq!(aw!(chan.say_time(0, EscapeDigits::NONE)).unwrap(), None);
        assert_eq!(aw!(chan.say_datetime(0, EscapeDigits::NONE)).unwrap(), None);
        aw!(chan.set_music(true)).unwrap();
        assert_eq!(
            aw!(chan.wait_for_digit(Duration::from_secs(1))).unwrap(),
            None
        );
        let rec = aw!(chan.record_file("msg", "wav", hash, Duration::from_secs(60))).unwrap();
        assert_eq!(
            rec,
            Recording {
                end: RecordEnd::Digit(d('#')),
                endpos: 16000
            }
        );
        assert_eq!(
            aw!(chan.receive_char(Duration::from_millis(100))).unwrap(),
            Some(b'A')
        );
        assert_eq!(
            aw!(chan.receive_text(Duration::from_millis(100))).unwrap(),
            Some(v("hi"))
        );
        aw!(chan.send_text("hello")).unwrap();
        aw!(chan.send_image("logo")).unwrap();
        assert!(aw!(chan.tdd_mode(Tdd::On)).unwrap());
        aw!(chan.set_callerid("\"Bob\" <101>")).unwrap();
        aw!(chan.speech_create()).unwrap();
        aw!(chan.speech_set("confidence", "50")).unwrap();
        aw!(chan.speech_load_grammar("g", "/g.gram")).unwrap();
        aw!(chan.speech_activate_grammar("g")).unwrap();
        assert_eq!(
            aw!(chan.speech_recognize("prompt", Duration::from_secs(5))).unwrap(),
            SpeechOutcome::Timeout { endpos: 0 }
        );
        aw!(chan.speech_deactivate_grammar("g")).unwrap();
        aw!(chan.speech_unload_grammar("g")).unwrap();
        aw!(chan.speech_destroy()).unwrap();
        aw!(chan.asyncagi_break()).unwrap();
        assert!(!chan.is_hung_up());
    }
);

both!(error_codes, env()
    .expect("FOO BAR", "510 Invalid or unknown command")
    .expect("STREAM FILE", "520-Invalid command syntax.  Proper usage follows:\nSend the given file.\n520 End of proper usage.")
    .expect("SET PRIORITY nolabel", "520 Invalid command syntax.  Proper usage not available.")
    .expect("ANSWER", "511 Command Not Permitted on a dead channel or intercept routine")
    .expect("NOOP", "200 result=0")
    .build(), |chan| {
    struct Raw(&'static str);
    impl Command for Raw {
        type Output = ();
        const NAME: &'static str = "raw";
        const DEAD_OK: bool = true;
        fn encode(&self, w: &mut agi_proto::ArgWriter<'_>) -> Result<(), agi_proto::EncodeError> {
            w.words(self.0);
            Ok(())
        }
        fn parse_reply(&self, _: &agi_proto::Reply<'_>) -> Result<(), Failure> {
            Ok(())
        }
    }
    assert!(matches!(aw!(chan.send(&Raw("FOO BAR"))), Err(Error::Failure(Failure::InvalidCommand))));
    let Err(Error::Failure(Failure::Usage(text))) = aw!(chan.send(&Raw("STREAM FILE"))) else { panic!() };
    assert_eq!(text, "Send the given file.");
    assert!(matches!(aw!(chan.set_priority("nolabel")), Err(Error::Failure(Failure::Usage(_)))));
    assert!(!chan.is_hung_up());
    let err = aw!(chan.answer()).unwrap_err();
    assert!(err.is_dead_channel() && err.is_hangup());
    assert!(chan.is_hung_up(), "511 marks the channel dead");
    aw!(chan.noop()).unwrap();
});

both!(
    hangup_lines_wherever_they_arrive,
    env()
        .hangup()
        .expect("NOOP", "200 result=0")
        .expect(
            "STREAM FILE demo-congrats \"\"",
            "200 result=-1 endpos=12000\nHANGUP"
        )
        .expect("NOOP", "HANGUP\n200 result=0")
        .expect(
            "GOSUB sub s 1",
            "100 result=0 Trying...\n200 result=0 Gosub complete (abnormal exit)\nHANGUP"
        )
        .expect(
            "HANGUP",
            "511 Command Not Permitted on a dead channel or intercept routine\nHANGUP"
        )
        .close()
        .build(),
    |chan| {
        aw!(chan.noop()).unwrap();
        assert!(
            chan.is_hung_up(),
            "a HANGUP while idle is seen with the next reply"
        );
        let err = aw!(chan.stream_file("demo-congrats", EscapeDigits::NONE)).unwrap_err();
        assert!(
            matches!(err, Error::Failure(Failure::Rejected { result: -1, .. })),
            "{err:?}"
        );
        aw!(chan.noop()).unwrap();
        assert_eq!(
            aw!(chan.send(&Gosub::new("sub", "s", "1"))).unwrap(),
            GosubEnd::AbnormalExit
        );
        assert!(aw!(chan.hangup()).unwrap_err().is_dead_channel());
        // Asterisk closed after its last HANGUP: a hangup, not an I/O error.
        assert!(matches!(aw!(chan.noop()), Err(Error::HungUp)));
    }
);

both!(
    eof_after_hangup_is_a_hangup,
    env()
        .expect("ANSWER", "200 result=0")
        .hangup()
        .hangup()
        .close()
        .build(),
    |chan| {
        aw!(chan.answer()).unwrap();
        assert!(chan.is_hung_up());
        assert!(matches!(aw!(chan.noop()), Err(Error::HungUp)));
        // The end of the session is reported again, not as a poisoned channel.
        assert!(matches!(aw!(chan.noop()), Err(Error::HungUp)));
    }
);

both!(
    eof_mid_reply,
    env()
        .expect("ANSWER", "")
        .send_raw("200 resu")
        .close()
        .build(),
    |chan| {
        let err = aw!(chan.answer()).unwrap_err();
        assert!(
            matches!(err, Error::Parse(e) if e.kind == ParseErrorKind::UnexpectedEof),
            "{err:?}"
        );
    }
);

both!(
    eof_without_hangup_is_closed,
    env().expect("ANSWER", "").close().build(),
    |chan| {
        assert!(matches!(aw!(chan.answer()), Err(Error::Closed)));
        assert!(matches!(aw!(chan.noop()), Err(Error::Closed)));
    }
);

both!(
    over_long_reply_line,
    env()
        .expect("NOOP", "")
        // A plausible reply that never ends: refused at the 64 KiB limit.
        .send_raw([&b"200 result=1 ("[..], &[b'x'; 70_000]].concat())
        .build(),
    |chan| {
        let err = aw!(chan.noop()).unwrap_err();
        assert!(
            matches!(err, Error::Parse(e) if e.kind == ParseErrorKind::LineTooLong { limit: 64 * 1024 }),
            "{err:?}"
        );
    }
);

both!(over_long_command_is_refused_unsent, env().build(), |chan| {
    // agi_version 22.5.2 allows 2046 bytes before the LF.
    let long = "x".repeat(2040);
    let err = aw!(chan.set_variable("X", long.as_str())).unwrap_err();
    assert_too_long(&err, 2046);
    let err = aw!(chan.verbose("two\nEXEC System reboot")).unwrap_err();
    assert!(
        matches!(
            err,
            Error::Encode(agi_proto::EncodeError::ForbiddenByte { byte: b'\n', .. })
        ),
        "{err:?}"
    );
});

both!(
    long_command_follows_the_peer_version,
    FakeAsterisk::builder()
        .env("agi_request", "test")
        .env("agi_version", "22.6.0")
        .expect(
            format!("SET VARIABLE X {}", "x".repeat(3000)),
            "200 result=1"
        )
        .expect(
            format!("SET VARIABLE Y {}", "y".repeat(3000)),
            "200 result=1"
        )
        .build(),
    |chan| {
        // 22.6.0 takes 8190 bytes: a line past the 2046 every version takes
        // is sent, the next one too, and one past 8190 is refused.
        aw!(chan.set_variable("X", "x".repeat(3000).as_str())).unwrap();
        aw!(chan.set_variable("Y", "y".repeat(3000).as_str())).unwrap();
        let err = aw!(chan.set_variable("Z", "z".repeat(8180).as_str())).unwrap_err();
        assert_too_long(&err, 8190);
    }
);

both!(
    first_command_past_the_peer_limit_is_refused_unsent,
    FakeAsterisk::builder()
        .env("agi_request", "test")
        .env("agi_version", "GIT-master-f0c1c1a7b7")
        .expect("NOOP", "200 result=0")
        .build(),
    |chan| {
        // Refused at the peer's own limit on the first try (no line sent:
        // the fake would see it before NOOP), and the channel goes on.
        let err = aw!(chan.set_variable("Z", "z".repeat(8180).as_str())).unwrap_err();
        assert_too_long(&err, 8190);
        aw!(chan.noop()).unwrap();
    }
);

#[tokio::test]
async fn options_do_not_change_the_command_limit() {
    // The limit is Asterisk's (2046 bytes for 22.5.2): neither a smaller
    // nor a larger one in the options is used.
    for max_command in [10, 100_000] {
        let fake = env()
            .expect("SET VARIABLE NAME value", "200 result=1")
            .build();
        let options = agi_client::Options {
            limits: agi_proto::Limits {
                max_command,
                ..Default::default()
            },
            ..Default::default()
        };
        let mut chan = agi_client::aio::Channel::with_options(fake.clone(), options)
            .await
            .unwrap();
        chan.set_variable("NAME", "value").await.unwrap();
        let err = chan
            .set_variable("X", "x".repeat(3000).as_str())
            .await
            .unwrap_err();
        assert_too_long(&err, 2046);
        fake.finish();
    }
}

both!(
    non_utf8_values,
    env()
        .expect("GET VARIABLE NAME", b"200 result=1 (Jos\xe9)".as_slice())
        .expect(
            b"SET VARIABLE NAME \"Jos\xe9 M\"".as_slice(),
            "200 result=1"
        )
        .build(),
    |chan| {
        let name = aw!(chan.get_variable("NAME")).unwrap().unwrap();
        assert_eq!(name.as_bytes(), b"Jos\xe9");
        assert!(name.to_str().is_err());
        aw!(chan.set_variable("NAME", b"Jos\xe9 M".as_slice())).unwrap();
    }
);

#[test]
fn sync_garbage_instead_of_environment() {
    let fake = FakeAsterisk::builder()
        .env_block("GET / HTTP/1.1\n\n")
        .build();
    let err = agi_client::sync::Channel::new(fake.clone(), fake).unwrap_err();
    assert!(
        matches!(err, Error::Parse(e) if e.kind == ParseErrorKind::NotEnvironment),
        "{err:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn aio_peer_that_stops_sending_times_out_and_poisons() {
    let fake = env().expect("ANSWER", "").stall().build();
    let options = command_limit(Duration::from_secs(5));
    let mut chan = agi_client::aio::Channel::with_options(fake.clone(), options)
        .await
        .unwrap();
    let err = chan.answer().await.unwrap_err();
    assert_timed_out(&err, Duration::from_secs(5));
    assert!(matches!(chan.noop().await, Err(Error::Poisoned)));
}

/// The command deadline restarts with each command: three replies 3 s
/// apart all arrive within a 5 s limit, and a reply 6 s late times out.
#[tokio::test(start_paused = true)]
async fn aio_command_deadline_restarts_with_each_command() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (client, server) = tokio::io::duplex(1024);
    let asterisk = tokio::spawn(async move {
        let (r, mut w) = tokio::io::split(server);
        let mut lines = tokio::io::BufReader::new(r).lines();
        w.write_all(b"agi_request: x\n\n").await.unwrap();
        for delay in [3, 3, 3, 6] {
            assert_eq!(lines.next_line().await.unwrap().unwrap(), "NOOP");
            tokio::time::sleep(Duration::from_secs(delay)).await;
            let _ = w.write_all(b"200 result=0\n").await;
        }
    });
    let options = command_limit(Duration::from_secs(5));
    let mut chan = agi_client::aio::Channel::with_options(client, options)
        .await
        .unwrap();
    for _ in 0..3 {
        chan.noop().await.unwrap();
    }
    let err = chan.noop().await.unwrap_err();
    assert_timed_out(&err, Duration::from_secs(5));
    drop(chan);
    asterisk.await.unwrap();
}

/// A peer that floods the channel with `HANGUP` lines and never replies
/// keeps reads ready; the command deadline must fire anyway. (Whether the
/// task's budget runs out first depends on timing, so this does not prove
/// the deadline is polled outside the budget; it proves it is polled.)
#[tokio::test]
async fn aio_command_deadline_fires_under_a_flood() {
    use std::io::Write as _;
    let (stream, asterisk) = fastagi_peer(|mut s| {
        let flood = b"HANGUP\n".repeat(4096);
        // Until the client closes the connection.
        while s.write_all(&flood).is_ok() {}
    });
    stream.set_nonblocking(true).unwrap();
    let stream = tokio::net::TcpStream::from_std(stream).unwrap();
    let options = command_limit(Duration::from_millis(200));
    let mut chan = agi_client::aio::Channel::tcp(stream, options)
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let err = tokio::time::timeout(Duration::from_secs(5), chan.noop())
        .await
        .expect("the command deadline never fired")
        .unwrap_err();
    assert_timed_out(&err, Duration::from_millis(200));
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert!(chan.is_hung_up());
    drop(chan);
    asterisk.join().unwrap();
}

#[tokio::test(start_paused = true)]
async fn aio_environment_that_never_ends_times_out() {
    let fake = FakeAsterisk::builder()
        .env_block("agi_request: x\nagi_chan")
        .stall()
        .build();
    let options = agi_client::Options {
        env_timeout: Some(Duration::from_secs(2)),
        ..Default::default()
    };
    let err = agi_client::aio::Channel::with_options(fake, options)
        .await
        .unwrap_err();
    assert_timed_out(&err, Duration::from_secs(2));
}

/// Standard AGI over tokio: separate read and write halves joined into the
/// one stream the async channel owns.
#[tokio::test]
async fn aio_channel_over_joined_halves() {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let (ours, theirs) = tokio::io::duplex(4096);
    let (read_half, write_half) = tokio::io::split(ours);
    let asterisk = tokio::spawn(async move {
        let (r, mut w) = tokio::io::split(theirs);
        let mut r = tokio::io::BufReader::new(r);
        w.write_all(b"agi_request: x\nagi_extension: 101\n\n")
            .await
            .unwrap();
        let mut line = String::new();
        r.read_line(&mut line).await.unwrap();
        w.write_all(b"200 result=1 (bob)\n").await.unwrap();
        line
    });
    let mut chan = agi_client::aio::Channel::new(tokio::io::join(read_half, write_half))
        .await
        .unwrap();
    assert_eq!(chan.env().extension().unwrap(), "101");
    let value = chan.get_variable("CALLER").await.unwrap();
    assert_eq!(value.unwrap(), "bob");
    assert_eq!(asterisk.await.unwrap(), "GET VARIABLE CALLER\n");
    assert_eq!(chan.owned_env().env().extension().unwrap(), "101");
}

/// A reply already read (here Asterisk sent two at once) answers the next
/// command without waiting for more bytes, which would never come.
#[tokio::test]
async fn aio_reply_already_buffered_is_parsed_before_reading() {
    let fake = env()
        .expect("NOOP", "200 result=0\n200 result=1 (x)")
        .expect("GET VARIABLE X", "")
        .stall()
        .build();
    let mut chan = agi_client::aio::Channel::new(fake.clone()).await.unwrap();
    chan.noop().await.unwrap();
    let value = tokio::time::timeout(Duration::from_secs(5), chan.get_variable("X"))
        .await
        .expect("answered from the buffer, not by waiting for a read")
        .unwrap();
    assert_eq!(value, Some(v("x")));
    assert_eq!(fake.received().last().unwrap(), b"GET VARIABLE X");
}

#[tokio::test]
async fn aio_dropped_command_poisons_the_channel() {
    let fake = env().expect("ANSWER", "").stall().build();
    let mut chan = agi_client::aio::Channel::new(fake.clone()).await.unwrap();
    tokio::select! {
        biased;
        _ = chan.answer() => panic!("the fake never answers"),
        () = tokio::task::yield_now() => {}
    }
    assert!(matches!(chan.noop().await, Err(Error::Poisoned)));
}

#[test]
fn sync_tcp_timeouts() {
    let (stream, asterisk) = fastagi_peer(|mut s| {
        // Read the command, never answer, then close.
        let mut buf = [0u8; 64];
        let n = std::io::Read::read(&mut s, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"ANSWER\n");
        std::thread::sleep(Duration::from_millis(500));
    });
    let options = command_limit(Duration::from_millis(100));
    let mut chan = agi_client::sync::Channel::tcp(stream, options).unwrap();
    assert!(chan.env().is_fastagi());
    let err = chan.answer().unwrap_err();
    assert_timed_out(&err, Duration::from_millis(100));
    assert!(matches!(chan.noop(), Err(Error::Poisoned)));
    asterisk.join().unwrap();
}

/// A pipe carrying the captured 440 Hz EAGI audio, fed by a thread.
fn tone_pipe() -> (std::fs::File, std::thread::JoinHandle<()>, Vec<u8>) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/fixtures/transcripts/eagi-audio-440hz.sln"
    );
    let tone = std::fs::read(path).unwrap();
    let (reader, mut writer) = std::io::pipe().unwrap();
    let bytes = tone.clone();
    let feeder =
        std::thread::spawn(move || std::io::Write::write_all(&mut writer, &bytes).unwrap());
    (
        std::fs::File::from(std::os::fd::OwnedFd::from(reader)),
        feeder,
        tone,
    )
}

#[test]
fn sync_pipe_timeouts() {
    use std::io::Write as _;
    let options = agi_client::Options {
        env_timeout: Some(Duration::from_millis(100)),
        command_timeout: Some(Duration::from_millis(100)),
        ..Default::default()
    };
    let pipe = || {
        let (reader, writer) = std::io::pipe().unwrap();
        (
            std::fs::File::from(std::os::fd::OwnedFd::from(reader)),
            writer,
        )
    };
    // An environment that never ends.
    let (reader, mut asterisk) = pipe();
    asterisk.write_all(b"agi_request: x\nagi_chan").unwrap();
    let err = agi_client::sync::Channel::with_fd(reader, Vec::new(), options).unwrap_err();
    assert_timed_out(&err, Duration::from_millis(100));
    // A reply that never comes.
    let (reader, mut asterisk) = pipe();
    asterisk.write_all(b"agi_request: x\n\n").unwrap();
    let mut chan = agi_client::sync::Channel::with_fd(reader, Vec::new(), options).unwrap();
    let err = chan.answer().unwrap_err();
    assert_timed_out(&err, Duration::from_millis(100));
    assert!(matches!(chan.noop(), Err(Error::Poisoned)));
    // Without a limit the same read waits until data comes.
    let (reader, mut asterisk) = pipe();
    asterisk.write_all(b"agi_request: x\n\n").unwrap();
    let options = agi_client::Options {
        command_timeout: None,
        ..options
    };
    let mut chan = agi_client::sync::Channel::with_fd(reader, Vec::new(), options).unwrap();
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        asterisk.write_all(b"200 result=0\n").unwrap();
    });
    chan.answer().unwrap();
    late.join().unwrap();
}

#[test]
fn sync_eagi_audio_through_a_pipe() {
    let (pipe, feeder, _) = tone_pipe();
    let mut audio = agi_client::sync::Audio::from_file(pipe);
    let mut samples = Vec::new();
    let mut chunk = [0i16; 160];
    loop {
        let n = audio.read_samples(&mut chunk).unwrap();
        if n == 0 {
            break;
        }
        samples.extend_from_slice(&chunk[..n]);
    }
    feeder.join().unwrap();
    assert_eq!(samples.len(), 1600, "0.2 s at 8 kHz");
    let peak = samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!((7000..7500).contains(&peak), "peak {peak}");
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    // 440 Hz for 0.2 s: about 176 sign changes.
    assert!(
        (160..190).contains(&crossings),
        "{crossings} zero crossings"
    );
}

#[tokio::test]
async fn aio_eagi_audio_through_a_pipe() {
    use tokio::io::AsyncReadExt;
    let (pipe, feeder, tone) = tone_pipe();
    let mut audio = agi_client::aio::Audio::from_file(pipe).unwrap();
    let mut got = Vec::new();
    audio.read_to_end(&mut got).await.unwrap();
    feeder.join().unwrap();
    assert_eq!(got, tone);
}

// Asterisk does not escape a line feed inside reply data: the value runs on
// to the line that ends in `)`, and the session goes on after it.
both!(
    data_with_line_feeds,
    env()
        .expect("GET VARIABLE NOTE", "200 result=1 (first\nsecond\n)")
        .expect("RECEIVE TEXT 1000", "200 result=1 (Hi,\n\nsee you (soon))")
        .expect("NOOP", "200 result=0")
        .build(),
    |chan| {
        let note = aw!(chan.get_variable("NOTE")).unwrap().unwrap();
        assert_eq!(note, "first\nsecond\n");
        let text = aw!(chan.receive_text(Duration::from_secs(1))).unwrap();
        assert_eq!(text.unwrap(), "Hi,\n\nsee you (soon)");
        aw!(chan.noop()).unwrap();
    }
);

// A name from outside must not become an expression: refused, nothing sent.
both!(
    whole_variable_names_cannot_smuggle_expressions,
    env()
        .expect("GET FULL VARIABLE ${CALLER_NOTE}", "200 result=1 (+4420)")
        .build(),
    |chan| {
        for name in ["X}${SHELL(id)", "A$B", "{X", "SHELL(id)", "CALLERID(num)"] {
            let err = aw!(chan.get_variable_whole(name)).unwrap_err();
            assert!(
                matches!(err, Error::Encode(EncodeError::InvalidArgument(_))),
                "{name}: {err:?}"
            );
        }
        let note = aw!(chan.get_variable_whole("CALLER_NOTE")).unwrap();
        assert_eq!(note, "+4420");
    }
);

// A HANGUP line that arrives in pieces, across two replies, is read as one.
both!(
    a_hangup_between_commands_is_expected,
    env()
        .expect("NOOP", "200 result=0")
        .send_raw("HANG")
        .expect("NOOP", "UP\n200 result=0")
        .build(),
    |chan| {
        aw!(chan.noop()).unwrap();
        aw!(chan.noop()).unwrap();
        assert!(chan.is_hung_up());
    }
);

/// A limit too far to represent ("practically never") is no overflow panic.
#[tokio::test]
async fn aio_command_timeout_of_duration_max_is_far_away() {
    let fake = env().expect("NOOP", "200 result=0").build();
    let mut chan =
        agi_client::aio::Channel::with_options(fake.clone(), command_limit(Duration::MAX))
            .await
            .unwrap();
    chan.noop().await.unwrap();
    fake.finish();
}
