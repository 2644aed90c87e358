//! Standard AGI hangups with a real SIGHUP to a child process, as in the
//! `sighup-*.txt` captures: Asterisk writes nothing on stdin, signals the
//! process (twice: at the hangup and at the end), and the program must
//! survive both and exit 0.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::child::{example, signal_process, wait};
use crate::fixtures;

fn sighup(child: &Child) {
    signal_process(child.id(), "HUP");
}

fn expect_line(out: &mut BufReader<ChildStdout>, want: &str) {
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, format!("{want}\n"));
}

/// Runs `hangup_cleanup`; the caller hangs up while its prompt plays.
fn run(args: &[&str]) -> (ExitStatus, String) {
    let mut child = Command::new(example("hangup_cleanup"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    stdin
        .write_all(&fixtures::read("standard-env.txt"))
        .unwrap();
    expect_line(&mut out, "ANSWER");
    stdin.write_all(b"200 result=0\n").unwrap();
    expect_line(&mut out, "STREAM FILE tt-monkeys \"\"");
    // The hangup: a signal first, then the interrupted command's reply.
    sighup(&child);
    std::thread::sleep(Duration::from_millis(50));
    if stdin.write_all(b"200 result=-1 endpos=4000\n").is_err() {
        return wait(child); // killed by the signal
    }
    let mut dialogue = |cmd: &str, reply: &[u8]| {
        expect_line(&mut out, cmd);
        stdin.write_all(reply).unwrap();
    };
    dialogue("SET VARIABLE CLEANUP done", b"200 result=1\n");
    dialogue(
        "DATABASE PUT calls 1795816248.1 \"hung up\"",
        b"200 result=1\n",
    );
    dialogue(
        "CHANNEL STATUS",
        b"511 Command Not Permitted on a dead channel or intercept routine\n",
    );
    // Asterisk signals once more at the end of the session.
    sighup(&child);
    drop(stdin);
    wait(child)
}

#[test]
fn survives_sighup_and_exits_zero() {
    let (status, stderr) = run(&[]);
    assert_eq!(status.code(), Some(0), "{status:?}: {stderr}");
    assert!(
        stderr.contains("caller hung up during the prompt"),
        "{stderr}"
    );
    assert!(stderr.contains("channel is gone"), "{stderr}");
    assert!(stderr.contains("hung up: true"), "{stderr}");
}

#[test]
fn without_the_handler_sighup_kills_the_program() {
    let (status, stderr) = run(&["--no-sighup"]);
    assert_eq!(
        status.signal(),
        Some(1),
        "killed by SIGHUP: {status:?} {stderr}"
    );
}
