//! What the fuzz targets share: how an input becomes limits, cut points and
//! a stream, and one call per AGI command with arguments from the input.

use std::fmt::Debug;
use std::sync::OnceLock;
use std::time::Duration;

use agi_client::Options;
use agi_proto::command::{
    Answer, AsyncAgiBreak, ChannelStatus, ControlStreamFile, DatabaseDel, DatabaseDelTree,
    DatabaseGet, DatabasePut, Exec, GetData, GetFullVariable, GetOption, GetVariable, Gosub,
    Hangup, Noop, ReceiveChar, ReceiveText, RecordFile, SayAlpha, SayCase, SayDate, SayDateTime,
    SayDigits, SayNumber, SayPhonetic, SayTime, SendImage, SendText, SetAutoHangup, SetCallerId,
    SetContext, SetExtension, SetMusic, SetPriority, SetVariable, SpeechActivateGrammar,
    SpeechCreate, SpeechDeactivateGrammar, SpeechDestroy, SpeechLoadGrammar, SpeechRecognize,
    SpeechSet, SpeechUnloadGrammar, StreamFile, Tdd, TddMode, Verbose, WaitForDigit,
};
use agi_proto::{Command, Digit, EscapeDigits, Limits};
use arbitrary::Arbitrary;
use tokio::runtime::Runtime;

/// A decoder's input: its limits, where the bytes are cut, the bytes.
#[derive(Debug)]
pub struct Stream<'a> {
    /// Default limits, or small ones the fuzzer can reach.
    pub limits: Limits,
    /// Cut points within `data`, in order.
    pub cuts: Vec<usize>,
    /// The settings byte that placed the cuts (targets may read more
    /// choices from it, as `server` does from its parity).
    pub seed: u8,
    /// What the peer sends.
    pub data: &'a [u8],
}

impl<'a> Stream<'a> {
    /// Three bytes of settings, then the stream. Byte 0: odd for small
    /// limits, its upper bits sizing `max_line` (8-516 bytes); byte 1: the
    /// number of cuts (its 3 low bits), its upper bits sizing `max_block`
    /// (16-1,008 bytes: captured blocks are 459-602); byte 2: where the cuts
    /// fall. Changing a setting never moves the stream, so a mutation of
    /// the settings cuts a real capture in new places. A seed is a capture
    /// with three zero bytes in front.
    pub fn split(input: &'a [u8]) -> Stream<'a> {
        let mut settings = [0u8; 3];
        let n = input.len().min(3);
        settings[..n].copy_from_slice(&input[..n]);
        let [flags, count, seed] = settings;
        let data = &input[n..];
        // A small linear congruential sequence from the seed byte: the
        // points only need to move when the byte does.
        let mut state = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
        let mut cuts: Vec<usize> = (0..count & 7)
            .map(|_| {
                state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
                (state >> 8) as usize % (data.len() + 1)
            })
            .collect();
        cuts.sort_unstable();
        let limits = if flags & 1 == 1 {
            Limits {
                max_line: 8 + 4 * usize::from(flags >> 1),
                max_block: 16 + 32 * usize::from(count >> 3),
                max_command: 16 + 8 * usize::from(flags >> 1),
            }
        } else {
            Limits::default()
        };
        Stream {
            limits,
            cuts,
            seed,
            data,
        }
    }

    /// The ends of the pieces the peer's bytes arrive in: each cut, then
    /// the whole stream.
    pub fn ends(&self) -> impl Iterator<Item = usize> + '_ {
        self.cuts.iter().copied().chain([self.data.len()])
    }

    /// `run` over the stream arriving whole, then in its pieces (given the
    /// ends of the pieces): the two results must agree (`what` names them
    /// when they do not). The first is returned.
    pub fn same_however_cut<T: PartialEq + Debug>(
        &self,
        what: &str,
        run: impl Fn(&[usize]) -> T,
    ) -> T {
        let whole = run(&[self.data.len()]);
        let cut = run(&self.ends().collect::<Vec<_>>());
        assert_eq!(whole, cut, "the cuts changed {what}");
        whole
    }
}

/// A client's options with `limits`, and SIGHUP left alone.
pub fn options(limits: Limits) -> Options {
    Options {
        limits,
        handle_sighup: false,
        ..Options::default()
    }
}

/// One current-thread runtime (with timers) for the fuzzing thread.
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("a runtime")
    })
}

/// The arguments every command is built from.
#[derive(Debug, Default, Arbitrary)]
pub struct Args {
    pub text: [String; 3],
    pub bytes: Vec<u8>,
    pub int: i64,
    pub small: i32,
    pub big: u64,
    pub count: u16,
    pub silence: u32,
    pub level: u8,
    pub choice: u8,
    pub flag: bool,
    pub keys: [u16; 4],
    pub waits: [Option<Duration>; 2],
    pub wait: Duration,
    pub some: [bool; 4],
}

impl Args {
    /// Arguments that make every command encodable with default limits, for
    /// the decoders' targets (where only replies vary).
    pub fn plain() -> Args {
        Args {
            text: ["beep".into(), "s".into(), "1".into()],
            bytes: b"x".to_vec(),
            count: 4,
            // CONTROL STREAM FILE refuses stop keys that are also its
            // fast-forward (`#`) or rewind (`*`) keys: digits only.
            keys: [0x03ff, 0x0800, 0x0400, 0],
            waits: [Some(Duration::from_secs(5)), None],
            wait: Duration::from_secs(5),
            ..Args::default()
        }
    }
}

/// Receives each command in turn.
pub trait Visit {
    /// One command.
    fn visit<C: Command + Debug>(&mut self, command: &C)
    where
        C::Output: Debug;
}

fn keys(bits: u16) -> EscapeDigits {
    b"0123456789*#ABCD"
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .filter_map(|(_, c)| Digit::from_ascii(*c))
        .fold(EscapeDigits::NONE, EscapeDigits::with)
}

/// Hands `visitor` each of the 47 commands, built from `a`.
pub fn every_command(a: &Args, visitor: &mut impl Visit) {
    let [t0, t1, t2] = [a.text[0].as_str(), a.text[1].as_str(), a.text[2].as_str()];
    let e = |i: usize| keys(a.keys[i]);
    let bytes = a.bytes.as_slice();
    visitor.visit(&Answer);
    visitor.visit(&Hangup {
        channel: a.some[0].then_some(t0),
    });
    visitor.visit(&ChannelStatus {
        channel: a.some[1].then_some(t1),
    });
    visitor.visit(&SetAutoHangup { after: a.waits[0] });
    visitor.visit(&AsyncAgiBreak);
    visitor.visit(&Noop);
    visitor.visit(&Verbose {
        message: bytes,
        level: a.some[0].then_some(a.level),
    });
    visitor.visit(&Exec {
        application: t0,
        options: a.some[1].then_some(bytes),
    });
    visitor.visit(&Gosub {
        context: t0,
        extension: t1,
        priority: t2,
        args: a.some[2].then_some(bytes),
    });
    visitor.visit(&SetContext::new(t0));
    visitor.visit(&SetExtension::new(t1));
    visitor.visit(&SetPriority::new(t2));
    visitor.visit(&SetVariable::new(t0, bytes));
    visitor.visit(&GetVariable::new(t0));
    visitor.visit(&GetFullVariable {
        expression: t1,
        channel: a.some[2].then_some(t2),
    });
    visitor.visit(&DatabaseGet::new(t0, t1));
    visitor.visit(&DatabasePut::new(t0, t1, bytes));
    visitor.visit(&DatabaseDel::new(t0, t1));
    visitor.visit(&DatabaseDelTree {
        family: t0,
        keytree: a.some[3].then_some(t1),
    });
    visitor.visit(&StreamFile {
        file: t0,
        escape: e(0),
        offset: a.some[0].then_some(a.big),
    });
    visitor.visit(&ControlStreamFile {
        file: t0,
        escape: e(0),
        skip: a.waits[1],
        forward: a.some[0].then_some(e(1)),
        rewind: a.some[1].then_some(e(2)),
        pause: a.some[2].then_some(e(3)),
        offset_ms: a.some[3].then_some(a.int),
    });
    visitor.visit(&GetOption {
        file: t0,
        escape: e(0),
        timeout: a.waits[0],
    });
    visitor.visit(&GetData {
        prompt: t0,
        timeout: a.waits[1],
        max_digits: a.some[0].then_some(a.count),
    });
    visitor.visit(&SayDigits::new(t1, e(0)));
    visitor.visit(&SayNumber {
        number: a.small,
        escape: e(1),
        gender: a.some[2].then_some(t2),
    });
    visitor.visit(&SayAlpha {
        text: t0,
        escape: e(2),
        case: [
            None,
            Some(SayCase::All),
            Some(SayCase::Lower),
            Some(SayCase::Upper),
            Some(SayCase::None),
        ][usize::from(a.choice % 5)],
    });
    visitor.visit(&SayPhonetic::new(t2, e(3)));
    visitor.visit(&SayDate::new(a.small, e(0)));
    visitor.visit(&SayTime::new(a.small, e(1)));
    visitor.visit(&SayDateTime {
        time: a.int,
        escape: e(2),
        format: a.some[1].then_some(t1),
        timezone: a.some[2].then_some(t2),
    });
    visitor.visit(&SetMusic {
        on: a.flag,
        class: a.some[3].then_some(t0),
    });
    visitor.visit(&WaitForDigit {
        timeout: a.waits[0],
    });
    visitor.visit(&RecordFile {
        file: t0,
        format: t1,
        escape: e(0),
        timeout: a.waits[1],
        offset: a.some[0].then_some(a.big),
        beep: a.flag,
        silence: a.some[1].then_some(a.silence),
    });
    visitor.visit(&ReceiveChar {
        timeout: a.waits[0],
    });
    visitor.visit(&ReceiveText {
        timeout: a.waits[1],
    });
    visitor.visit(&SendText::new(bytes));
    visitor.visit(&SendImage::new(t0));
    visitor.visit(&TddMode {
        mode: [Tdd::On, Tdd::Off, Tdd::Mate][usize::from(a.choice % 3)],
    });
    visitor.visit(&SetCallerId::new(bytes));
    visitor.visit(&SpeechCreate {
        engine: a.some[2].then_some(t0),
    });
    visitor.visit(&SpeechSet::new(t0, t1));
    visitor.visit(&SpeechDestroy);
    visitor.visit(&SpeechLoadGrammar::new(t0, t1));
    visitor.visit(&SpeechUnloadGrammar::new(t0));
    visitor.visit(&SpeechActivateGrammar::new(t1));
    visitor.visit(&SpeechDeactivateGrammar::new(t2));
    visitor.visit(&SpeechRecognize {
        prompt: t0,
        timeout: a.wait,
        offset: a.some[3].then_some(a.big),
    });
}
