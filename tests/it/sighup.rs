//! Standard AGI hangups with a real SIGHUP to a child process, as in the
//! `sighup-*.txt` captures: Asterisk writes nothing on stdin, signals the
//! process (twice: at the hangup and at the end), and the program must
//! survive both and exit 0.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, ChildStdout, Command, ExitStatus};
use std::time::Duration;

use crate::child::{agi_child, example, signal_process, wait};

fn sighup(child: &Child) {
    signal_process(child.id(), "HUP");
}

fn expect_line(out: &mut BufReader<ChildStdout>, want: &str) {
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    assert_eq!(line, format!("{want}\n"));
}

/// When the signal reaches the program against the interrupted command's
/// reply.
#[derive(Clone, Copy, Debug)]
enum Order {
    /// Asterisk's order: the reply, then the signal once Asterisk notices
    /// the hangup between commands.
    ReplyFirst,
    /// The signal overtakes the reply (it can: the reply may still sit in
    /// the pipe when the handler runs).
    SignalFirst,
}

/// Runs `hangup_cleanup`; the caller hangs up while its prompt plays.
fn run(args: &[&str], order: Order) -> (ExitStatus, String) {
    run_with(args, order, DEAD)
}

const DEAD: &[u8] = b"511 Command Not Permitted on a dead channel or intercept routine\n";

/// As `run`, with `status` as the reply to CHANNEL STATUS.
fn run_with(args: &[&str], order: Order, status: &[u8]) -> (ExitStatus, String) {
    let (child, mut stdin, mut out) = agi_child(
        Command::new(example("hangup_cleanup")).args(args),
        "standard-env.txt",
    );
    expect_line(&mut out, "ANSWER");
    stdin.write_all(b"200 result=0\n").unwrap();
    expect_line(&mut out, "STREAM FILE tt-monkeys \"\"");
    let reply = b"200 result=-1 endpos=4000\n";
    match order {
        Order::ReplyFirst => {
            stdin.write_all(reply).unwrap();
            std::thread::sleep(Duration::from_millis(20));
            sighup(&child);
        }
        Order::SignalFirst => {
            sighup(&child);
            std::thread::sleep(Duration::from_millis(50));
            // Killed by the signal, when it is not caught.
            let _ = stdin.write_all(reply);
        }
    }
    if args.contains(&"--no-sighup") {
        drop(stdin);
        return wait(child);
    }
    let mut dialogue = |cmd: &str, reply: &[u8]| {
        expect_line(&mut out, cmd);
        stdin.write_all(reply).unwrap();
    };
    dialogue("CHANNEL STATUS", status);
    dialogue("SET VARIABLE CLEANUP done", b"200 result=1\n");
    dialogue(
        "DATABASE PUT calls 1795816248.1 \"hung up\"",
        b"200 result=1\n",
    );
    // Asterisk signals once more at the end of the session.
    sighup(&child);
    drop(stdin);
    wait(child)
}

/// The program survived the hangup, told it, and exited 0; `status` is
/// the reply to its CHANNEL STATUS.
#[track_caller]
fn survived(args: &[&str], order: Order, status: &[u8]) {
    let (exit, stderr) = run_with(args, order, status);
    assert_eq!(
        exit.code(),
        Some(0),
        "{args:?} {order:?}: {exit:?}: {stderr}"
    );
    assert!(
        stderr.contains("caller hung up during the prompt"),
        "{stderr}"
    );
    if status == DEAD {
        assert!(stderr.contains("channel is gone"), "{stderr}");
    }
    assert!(stderr.contains("hung up: true"), "{stderr}");
}

#[test]
fn survives_sighup_and_exits_zero() {
    survived(&[], Order::ReplyFirst, DEAD);
    survived(&[], Order::SignalFirst, DEAD);
}

#[test]
fn the_async_client_survives_sighup_too() {
    survived(&["--tokio"], Order::ReplyFirst, DEAD);
    survived(&["--tokio"], Order::SignalFirst, DEAD);
}

/// Only the signal says the call is over here (CHANNEL STATUS answers as
/// if the channel were up): a client that does not watch SIGHUP would
/// call the failed prompt a real failure and exit 1.
#[test]
fn the_signal_alone_marks_the_channel_hung_up() {
    for args in [&[][..], &["--tokio"]] {
        survived(args, Order::SignalFirst, b"200 result=6\n");
    }
}

#[test]
fn without_the_handler_sighup_kills_the_program() {
    for args in [&["--no-sighup"][..], &["--no-sighup", "--tokio"]] {
        let (status, stderr) = run(args, Order::SignalFirst);
        assert_eq!(
            status.signal(),
            Some(1),
            "{args:?} killed by SIGHUP: {status:?} {stderr}"
        );
    }
}
