//! Both clients replay every transcript: the fake plays Asterisk's side of
//! the capture, the client sends the same commands through the typed API,
//! and every reply must give the typed outcome the typed script names.

use agi_client::testing::Transcript;

use crate::fixtures;
use crate::transcripts::script;

/// Whether the client must end up knowing the channel is dead: Asterisk sent
/// a `HANGUP` line or refused a command with 511. (SIGHUP cannot be replayed
/// in memory: see the `sighup` tests.)
fn ends_hung_up(t: &Transcript) -> bool {
    t.records.iter().any(|r| {
        matches!(r, agi_client::testing::Record::Asterisk(l) if l == b"HANGUP" || l.starts_with(b"511 "))
    })
}

fn ends_with_eof_after_hangup(name: &str) -> bool {
    name.contains("exitonhangup")
}

#[test]
fn sync_client_replays_every_transcript() {
    for name in fixtures::transcript_names() {
        let transcript = Transcript::parse(&fixtures::read(&name)).unwrap();
        let fake = transcript.fake();
        let mut chan = agi_client::sync::Channel::new(fake.clone(), fake.clone()).unwrap();
        for (i, case) in script(&name).iter().enumerate() {
            case.run_sync(&mut chan)
                .unwrap_or_else(|e| panic!("{name} step {i}: {e}"));
        }
        if ends_with_eof_after_hangup(&name) {
            let err = chan.noop().unwrap_err();
            // FastAGI saw the HANGUP lines; standard AGI only a SIGHUP, which
            // an in-memory replay cannot deliver.
            let want_hangup = name.starts_with("fastagi");
            assert_eq!(
                matches!(err, agi_client::Error::HungUp),
                want_hangup,
                "{name}: {err:?}"
            );
            assert!(err.is_hangup(), "{name}: {err:?}");
        } else {
            assert_eq!(chan.is_hung_up(), ends_hung_up(&transcript), "{name}");
        }
        fake.finish();
    }
}

#[test]
fn async_client_replays_every_transcript() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    for name in fixtures::transcript_names() {
        rt.block_on(async {
            let transcript = Transcript::parse(&fixtures::read(&name)).unwrap();
            let fake = transcript.fake();
            let mut chan = agi_client::aio::Channel::new(fake.clone()).await.unwrap();
            for (i, case) in script(&name).iter().enumerate() {
                case.run_async(&mut chan)
                    .await
                    .unwrap_or_else(|e| panic!("{name} step {i}: {e}"));
            }
            if ends_with_eof_after_hangup(&name) {
                let err = chan.noop().await.unwrap_err();
                assert!(err.is_hangup(), "{name}: {err:?}");
            } else {
                assert_eq!(chan.is_hung_up(), ends_hung_up(&transcript), "{name}");
            }
            fake.finish();
        });
    }
}
