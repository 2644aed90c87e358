//! An EAGI program that listens to the caller: it reads the audio Asterisk
//! writes on fd 3 on a thread of its own, and logs the pitch it heard.
//!
//! ```text
//! exten => 300,1,EAGI(eagi_pitch)
//! ```
//!
//! Asterisk writes audio only while it waits for the program's next
//! command, and drops it when the pipe is full: so the reading thread runs
//! from the start, and the program leaves Asterisk idle while it listens.
//! Run as plain AGI (`AGI(eagi_pitch)`), it logs that there is no audio.
//!
//! Try it by hand with the captured tone (`3<` opens a file on fd 3), then
//! paste an environment block (`eagi-env.txt` beside it, up to its empty
//! line) and answer each command with `200 result=0`:
//!
//! ```text
//! cargo run --example eagi_pitch 3<../shared/fixtures/transcripts/eagi-audio-440hz.sln
//! ```

use std::sync::mpsc;
use std::time::{Duration, Instant};

use agi_client::sync::{Audio, Channel};

/// Listen at most this long (less when the audio ends first).
const LISTEN: Duration = Duration::from_secs(1);

fn main() -> Result<(), agi_client::Error> {
    let mut chan = Channel::stdio()?;
    let audio = match Audio::open() {
        Ok(audio) => audio,
        Err(e) => {
            // Asterisk also says so in the environment: `agi_enhanced: 0.0`.
            let enhanced = chan.env().enhanced();
            chan.verbose(&format!("no audio (agi_enhanced {enhanced}): {e}"))?;
            return chan.hangup();
        }
    };
    let heard = listen(audio);
    chan.answer()?;
    let samples = collect(&heard, LISTEN);
    chan.verbose(&describe(&samples))?;
    chan.hangup()
}

/// Reads audio on its own thread, 100 ms at a time; the channel closes
/// when the audio ends.
fn listen(mut audio: Audio) -> mpsc::Receiver<Vec<i16>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut chunk = [0i16; Audio::DEFAULT_SAMPLE_RATE as usize / 10];
        while let Ok(n @ 1..) = audio.read_samples(&mut chunk) {
            if tx.send(chunk[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// What arrives within `limit`, or until the audio ends.
fn collect(heard: &mpsc::Receiver<Vec<i16>>, limit: Duration) -> Vec<i16> {
    let deadline = Instant::now() + limit;
    let mut samples = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match heard.recv_timeout(left) {
            Ok(chunk) => samples.extend(chunk),
            Err(_) => break,
        }
    }
    samples
}

/// The pitch by zero crossings: two per period of a pure tone.
fn describe(samples: &[i16]) -> String {
    let crossings = samples
        .windows(2)
        .filter(|w| (w[0] < 0) != (w[1] < 0))
        .count();
    let seconds = samples.len() as f64 / f64::from(Audio::DEFAULT_SAMPLE_RATE);
    if seconds == 0.0 {
        return "heard nothing".to_owned();
    }
    let hz = crossings as f64 / 2.0 / seconds;
    format!("heard {} samples, about {hz:.0} Hz", samples.len())
}
