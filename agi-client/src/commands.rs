//! The convenience methods, listed once and expanded on both channel types
//! (`sync::Channel` and `aio::Channel`). Each one builds the command struct
//! from `agi_proto::command` and sends it through the channel's one `send`.

/// Calls `$emit!` with the whole method table.
macro_rules! command_table {
    ($emit:ident) => {
        $emit! {
            /// Answers the channel (`ANSWER`).
            fn answer() -> () = Answer;
            /// Hangs up this channel (`HANGUP`). Asterisk then reports the hangup
            /// like any other: later commands get [`Failure::DeadChannel`](agi_proto::Failure::DeadChannel).
            fn hangup() -> () = Hangup::default();
            /// This channel's state (`CHANNEL STATUS`).
            fn channel_status() -> Option<ChannelState> = ChannelStatus::default();
            /// Hangs the channel up after `after` (`SET AUTOHANGUP`); zero cancels.
            fn set_autohangup(after: Duration) -> () = SetAutoHangup { after: (!after.is_zero()).then_some(after) };
            /// Does nothing; a round trip allowed on dead channels (`NOOP`).
            fn noop() -> () = Noop;
            /// Logs `message` in Asterisk's verbose log (`VERBOSE`).
            fn verbose(message: &str) -> () = Verbose::new(message);
            /// Runs a dialplan application with comma-separated `options`
            /// (`EXEC`) and returns its return code.
            fn exec(application: &str, options: &str) -> i64 = Exec::new(application, options);
            /// Runs a dialplan subroutine with comma-separated `args` (`GOSUB`).
            fn gosub(context: &str, extension: &str, priority: &str, args: &str) -> GosubEnd =
                Gosub { args: Some(args.as_bytes()), ..Gosub::new(context, extension, priority) };
            /// Sets the context to continue at after the AGI (`SET CONTEXT`).
            fn set_context(context: &str) -> () = SetContext::new(context);
            /// Sets the extension to continue at (`SET EXTENSION`).
            fn set_extension(extension: &str) -> () = SetExtension::new(extension);
            /// Sets the priority (number or label) to continue at (`SET PRIORITY`).
            fn set_priority(priority: &str) -> () = SetPriority::new(priority);
            /// Sets a channel variable (`SET VARIABLE`).
            fn set_variable(name: &str, value: &(impl AsRef<[u8]> + ?Sized)) -> () = SetVariable::new(name, value);
            /// A channel variable, `None` when unset (`GET VARIABLE`). Asterisk
            /// cuts values at 1023 bytes: use `get_variable_whole` for long ones.
            /// A name ending in `)` is a function Asterisk runs
            /// (`CALLERID(num)`, but also `SHELL(…)`): never pass a name from
            /// outside unchecked.
            fn get_variable(name: &str) -> Option<Value<'static>> = GetVariable::new(name);
            /// A variable's whole value, however long, read as
            /// `GET FULL VARIABLE ${name}`. An unset variable reads as empty.
            /// Only a variable: a name holding `$`, `{`, `}`, `(` or `)` is
            /// refused (an encoding error, nothing sent), since Asterisk
            /// would evaluate it (`SHELL(…)` runs a command). To read a
            /// function, write the expression yourself with
            /// `get_full_variable("${CALLERID(num)}")`.
            fn get_variable_whole(name: &str) -> Value<'static> =
                GetFullVariable::new(&$crate::commands::whole_variable(name)?);
            /// Evaluates a dialplan expression such as `${CALLERID(name)}` (`GET FULL VARIABLE`).
            fn get_full_variable(expression: &str) -> Value<'static> = GetFullVariable::new(expression);
            /// An AstDB value, `None` when absent (`DATABASE GET`).
            fn database_get(family: &str, key: &str) -> Option<Value<'static>> = DatabaseGet::new(family, key);
            /// Stores an AstDB value (`DATABASE PUT`).
            fn database_put(family: &str, key: &str, value: &(impl AsRef<[u8]> + ?Sized)) -> () = DatabasePut::new(family, key, value);
            /// Deletes an AstDB key; succeeds also when it was absent (`DATABASE DEL`).
            fn database_del(family: &str, key: &str) -> () = DatabaseDel::new(family, key);
            /// Deletes an AstDB family; `true` when something was deleted (`DATABASE DELTREE`).
            fn database_deltree(family: &str) -> bool = DatabaseDelTree::new(family);
            /// Plays a sound file, stopped by a key in `escape` (`STREAM FILE`).
            fn stream_file(file: &str, escape: EscapeDigits) -> Playback = StreamFile::new(file, escape);
            /// Plays a file the caller can skip through with `#` and rewind
            /// with `*`, stopped by a key in `escape`, which therefore may not
            /// hold either (an encoding error, nothing sent: for any other key,
            /// `EscapeDigits::ANY.without(EscapeDigits::HASH).without(EscapeDigits::STAR)`);
            /// other controls through `send` and [`ControlStreamFile`]
            /// (`CONTROL STREAM FILE`).
            fn control_stream_file(file: &str, escape: EscapeDigits) -> ControlPlayback = ControlStreamFile::new(file, escape);
            /// Plays a prompt, then waits up to `timeout` for one key (`GET OPTION`);
            /// zero does not wait after the prompt.
            fn get_option(file: &str, escape: EscapeDigits, timeout: Duration) -> Playback = GetOption::new(file, escape, timeout);
            /// Plays a prompt and collects up to `max_digits` keys (1 to
            /// 1023, else an encoding error and nothing sent), `timeout` per
            /// key (`GET DATA`). Zero waits 1 ms (Asterisk reads 0 as its own
            /// 6 s first, 2 s between: `send(&GetData::new(prompt))` for those).
            fn get_data(prompt: &str, timeout: Duration, max_digits: u16) -> Input =
                GetData { timeout: Some(timeout), max_digits: Some(max_digits), ..GetData::new(prompt) };
            /// Says digits one by one (`SAY DIGITS`).
            fn say_digits(digits: &str, escape: EscapeDigits) -> Option<Digit> = SayDigits::new(digits, escape);
            /// Says a number (`SAY NUMBER`).
            fn say_number(number: i32, escape: EscapeDigits) -> Option<Digit> = SayNumber::new(number, escape);
            /// Spells text (`SAY ALPHA`).
            fn say_alpha(text: &str, escape: EscapeDigits) -> Option<Digit> = SayAlpha::new(text, escape);
            /// Spells text with the NATO alphabet (`SAY PHONETIC`).
            fn say_phonetic(text: &str, escape: EscapeDigits) -> Option<Digit> = SayPhonetic::new(text, escape);
            /// Says a date given in Unix seconds (`SAY DATE`).
            fn say_date(time: i32, escape: EscapeDigits) -> Option<Digit> = SayDate::new(time, escape);
            /// Says a time of day given in Unix seconds (`SAY TIME`).
            fn say_time(time: i32, escape: EscapeDigits) -> Option<Digit> = SayTime::new(time, escape);
            /// Says a date and time in the default format (`SAY DATETIME`).
            fn say_datetime(time: i64, escape: EscapeDigits) -> Option<Digit> = SayDateTime::new(time, escape);
            /// Starts (`true`) or stops music on hold (`SET MUSIC`).
            fn set_music(on: bool) -> () = SetMusic { on, class: None };
            /// Waits up to `timeout` for one key (`WAIT FOR DIGIT`); zero returns
            /// at once, `send(&WaitForDigit::default())` waits forever.
            fn wait_for_digit(timeout: Duration) -> Option<Digit> = WaitForDigit::new(timeout);
            /// Records the caller to `file.format` until a key in `escape` or
            /// `timeout` (`RECORD FILE`); zero records nothing, and the struct's
            /// `timeout: None` has no limit.
            fn record_file(file: &str, format: &str, escape: EscapeDigits, timeout: Duration) -> Recording =
                RecordFile::new(file, format, escape, Some(timeout));
            /// One character of text from the channel, `None` when none came (`RECEIVE CHAR`);
            /// zero does not wait.
            fn receive_char(timeout: Duration) -> Option<u8> = ReceiveChar { timeout: Some(timeout) };
            /// A text message from the channel, `None` when none came (`RECEIVE TEXT`);
            /// zero does not wait.
            /// The far end writes it, and Asterisk sends it unescaped: one
            /// holding line feeds and a `)` can end early and leave the rest
            /// to be read as the next reply (see [`agi_proto::Reply::data`]).
            /// Where the sender is not trusted, read it base64-encoded through
            /// the dialplan instead.
            fn receive_text(timeout: Duration) -> Option<Value<'static>> = ReceiveText { timeout: Some(timeout) };
            /// Sends a text message (`SEND TEXT`).
            fn send_text(text: &(impl AsRef<[u8]> + ?Sized)) -> () = SendText::new(text);
            /// Sends an image (`SEND IMAGE`).
            fn send_image(image: &str) -> () = SendImage::new(image);
            /// Switches TDD mode; `false` when the channel cannot (`TDD MODE`).
            fn tdd_mode(mode: Tdd) -> bool = TddMode { mode };
            /// Sets the caller id, e.g. `"Bob" <101>` (`SET CALLERID`).
            fn set_callerid(callerid: &(impl AsRef<[u8]> + ?Sized)) -> () = SetCallerId::new(callerid);
            /// Creates the speech object with the default engine (`SPEECH CREATE`).
            fn speech_create() -> () = SpeechCreate::default();
            /// Sets a speech engine setting (`SPEECH SET`).
            fn speech_set(name: &str, value: &str) -> () = SpeechSet::new(name, value);
            /// Destroys the speech object (`SPEECH DESTROY`).
            fn speech_destroy() -> () = SpeechDestroy;
            /// Loads a grammar (`SPEECH LOAD GRAMMAR`).
            fn speech_load_grammar(grammar: &str, path: &str) -> () = SpeechLoadGrammar::new(grammar, path);
            /// Unloads a grammar (`SPEECH UNLOAD GRAMMAR`).
            fn speech_unload_grammar(grammar: &str) -> () = SpeechUnloadGrammar::new(grammar);
            /// Activates a grammar (`SPEECH ACTIVATE GRAMMAR`).
            fn speech_activate_grammar(grammar: &str) -> () = SpeechActivateGrammar::new(grammar);
            /// Deactivates a grammar (`SPEECH DEACTIVATE GRAMMAR`).
            fn speech_deactivate_grammar(grammar: &str) -> () = SpeechDeactivateGrammar::new(grammar);
            /// Plays a prompt and recognises speech for up to `timeout` after it (`SPEECH RECOGNIZE`),
            /// in whole seconds (a fraction rounds up); zero has no limit.
            fn speech_recognize(prompt: &str, timeout: Duration) -> SpeechOutcome = SpeechRecognize::new(prompt, timeout);
            /// Leaves AsyncAGI; a no-op in other modes (`ASYNCAGI BREAK`).
            fn asyncagi_break() -> () = AsyncAgiBreak;
        }
    };
}

pub(crate) use command_table;

/// `${name}`, for `get_variable_whole`. A name from outside (a caller's
/// input) must not become an expression or a function call of its own:
/// `X}${SHELL(…)` or `SHELL(…)` would run a shell command in Asterisk.
pub(crate) fn whole_variable(name: &str) -> Result<String, agi_proto::EncodeError> {
    if name.contains(['$', '{', '}', '(', ')']) {
        return Err(agi_proto::EncodeError::InvalidArgument(
            "a variable name may not hold $, {, }, ( or ): Asterisk would evaluate it",
        ));
    }
    Ok(format!("${{{name}}}"))
}
