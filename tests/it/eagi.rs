//! EAGI as Asterisk runs it: the caller's audio on fd 3, and no audio in
//! plain AGI, where fd 3 is closed (the `eagi_pitch` example as a child
//! process, fd 3 set up by `sh`).

use std::io::{BufRead, Write};
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use crate::child::{agi_child, example, wait};
use crate::fixtures;

/// Runs `eagi_pitch` with fd 3 set by the shell redirection `fd3` (`$1` is
/// the captured 440 Hz tone), answers each command line with `200
/// result=<n>` (1 for VERBOSE and HANGUP, 0 for ANSWER), and returns the
/// command lines, the exit status and stderr.
fn run(env: &str, fd3: &str) -> (Vec<String>, std::process::ExitStatus, String) {
    let (child, mut stdin, out) = agi_child(
        Command::new("sh")
            .arg("-c")
            .arg(format!("exec \"$0\" {fd3}"))
            .arg(example("eagi_pitch"))
            .arg(fixtures::dir().join("eagi-audio-440hz.sln")),
        env,
    );
    // Lines through a thread, so that a program stuck waiting fails the
    // test instead of hanging it.
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in out.lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut commands = Vec::new();
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(5)) {
        let result = if line == "ANSWER" { 0 } else { 1 };
        commands.push(line);
        if stdin
            .write_all(format!("200 result={result}\n").as_bytes())
            .is_err()
        {
            break;
        }
    }
    drop(stdin);
    let (status, stderr) = wait(child);
    (commands, status, stderr)
}

#[test]
fn hears_the_tone_on_fd_3() {
    let (commands, status, stderr) = run("eagi-env.txt", "3<\"$1\"");
    assert_eq!(status.code(), Some(0), "{status:?}: {stderr}");
    assert_eq!(commands.len(), 3, "{commands:?}");
    assert_eq!(commands[0], "ANSWER");
    assert_eq!(commands[2], "HANGUP");
    // The capture: 3,200 bytes, a 440 Hz tone (zero crossings: 437.5 Hz).
    let said = commands[1]
        .strip_prefix("VERBOSE \"heard 1600 samples, about ")
        .and_then(|rest| rest.strip_suffix(" Hz\""))
        .unwrap_or_else(|| panic!("{}", commands[1]));
    let hz: u32 = said.parse().unwrap();
    assert!((430..=445).contains(&hz), "{hz} Hz");
}

#[test]
fn plain_agi_has_no_audio_even_after_the_channel_opens_stdin_again() {
    // Fd 3 closed, as Asterisk leaves it for AGI(): the channel's own copy
    // of stdin must not land there and pass for audio.
    no_audio("3<&-", "No such file");
}

#[test]
fn stdin_on_fd_3_is_not_audio() {
    no_audio("3<&0", "it is the same file as stdin");
}

/// Plain AGI with fd 3 set up by `fd3`: the program says it has no audio,
/// giving `why`, and hangs up.
fn no_audio(fd3: &str, why: &str) {
    let (commands, status, stderr) = run("standard-env.txt", fd3);
    assert_eq!(status.code(), Some(0), "{status:?}: {stderr}");
    assert_eq!(commands.len(), 2, "{commands:?}");
    assert!(
        commands[0].starts_with("VERBOSE \"no audio (agi_enhanced false): fd 3 is not EAGI audio"),
        "{}",
        commands[0]
    );
    assert!(commands[0].contains(why), "{}", commands[0]);
    assert_eq!(commands[1], "HANGUP");
}
