use proptest::prelude::*;

use super::*;

const STANDARD: &[u8] = b"agi_request: tap-agi.py\nagi_channel: Local/commands@tap-00000000;2\nagi_language: en\n\
agi_type: Local\nagi_uniqueid: 1795816248.1\nagi_version: GIT-master-f0c1c1a7b7\nagi_callerid: unknown\n\
agi_calleridname: unknown\nagi_callingpres: 67\nagi_callingani2: 0\nagi_callington: 0\nagi_callingtns: 0\n\
agi_dnid: unknown\nagi_rdnis: unknown\nagi_context: tap\nagi_extension: commands\nagi_priority: 1\n\
agi_enhanced: 0.0\nagi_accountcode: \nagi_threadid: 140000665974464\nagi_arg_1: commands\n\
agi_arg_2: two words\nagi_arg_3: quoted\nagi_arg_4: \nagi_arg_5: last\n\n";

fn parse(buf: &[u8]) -> (Env<'_>, usize) {
    parse_env(buf).unwrap().complete().expect("complete")
}

#[test]
fn reads_every_standard_variable() {
    let (env, used) = parse(STANDARD);
    assert_eq!(used, STANDARD.len());
    assert_eq!(env.request().unwrap(), "tap-agi.py");
    assert_eq!(env.channel().unwrap(), "Local/commands@tap-00000000;2");
    assert_eq!(env.language().unwrap(), "en");
    assert_eq!(env.channel_type().unwrap(), "Local");
    assert_eq!(env.uniqueid().unwrap(), "1795816248.1");
    assert_eq!(env.version().unwrap(), "GIT-master-f0c1c1a7b7");
    assert_eq!(env.asterisk_version(), AsteriskVersion::Master);
    assert_eq!(env.callerid().unwrap(), "unknown");
    assert_eq!(env.callerid_name().unwrap(), "unknown");
    assert_eq!(env.callingpres(), Some(67));
    assert_eq!(env.callingani2(), Some(0));
    assert_eq!(env.callington(), Some(0));
    assert_eq!(env.callingtns(), Some(0));
    assert_eq!(env.dnid().unwrap(), "unknown");
    assert_eq!(env.rdnis().unwrap(), "unknown");
    assert_eq!(env.context().unwrap(), "tap");
    assert_eq!(env.extension().unwrap(), "commands");
    assert_eq!(env.priority(), Some(1));
    assert!(!env.enhanced());
    assert_eq!(env.accountcode().unwrap(), "");
    assert_eq!(env.threadid(), Some(140000665974464));
    assert!(!env.is_fastagi());
    assert_eq!(env.network_script(), None);
    assert_eq!(
        env.args().collect::<Vec<_>>(),
        ["commands", "two words", "quoted", "", "last"]
    );
    assert_eq!(env.arg_count(), 5);
    assert_eq!(env.arg(4).unwrap(), "");
    assert_eq!(env.arg(6), None);
    assert_eq!(env.arg(0), None);
    assert_eq!(env.iter().count(), 25);
}

#[test]
fn every_proper_prefix_is_partial() {
    for cut in 0..STANDARD.len() {
        assert_eq!(
            parse_env(&STANDARD[..cut]).unwrap(),
            Status::Partial,
            "cut at {cut}"
        );
    }
}

#[test]
fn order_does_not_matter_and_unknown_names_are_kept() {
    let block = b"agi_network: yes\nagi_arg_2: b\nagi_future_thing: x y\nagi_channel: SIP/1\nagi_arg_1: a\nno colon here\n\n";
    let (env, _) = parse(block);
    assert!(env.is_fastagi());
    assert_eq!(env.channel().unwrap(), "SIP/1");
    assert_eq!(env.get("agi_future_thing").unwrap(), "x y");
    assert_eq!(env.get("agi_channel").unwrap(), "SIP/1");
    assert_eq!(env.get("agi_nothing"), None);
    assert_eq!(env.arg(1).unwrap(), "a");
    assert_eq!(env.arg(2).unwrap(), "b");
    assert_eq!(env.args().collect::<Vec<_>>(), ["b", "a"], "wire order");
    assert_eq!(env.request(), None);
}

#[test]
fn a_repeated_name_gives_its_last_value() {
    let block = b"agi_channel: SIP/1\nagi_thing: a\nagi_arg_1: x\nagi_channel: SIP/2\nagi_thing: b\nagi_arg_1: y\n\n";
    let (env, _) = parse(block);
    assert_eq!(env.channel().unwrap(), "SIP/2");
    assert_eq!(env.get("agi_channel").unwrap(), "SIP/2");
    assert_eq!(env.get("agi_thing").unwrap(), "b");
    assert_eq!(env.arg(1).unwrap(), "y");
    assert_eq!(env.get("agi_arg_1").unwrap(), "y");
}

#[test]
fn a_cr_before_lf_is_the_values_and_a_missing_space_is_tolerated() {
    // Asterisk never writes CRLF: a CR there came with the value (a
    // dialplan argument holding one), and is kept, as the reference asks.
    let (env, used) = parse(
        b"agi_request: x\r\nagi_channel:SIP/1\nagi_accountcode: \r\nagi_arg_1: a\r\nagi_x: y\r\n\r\n\nrest",
    );
    // Only an empty line ends the block; a line holding a CR is skipped
    // like any line without a colon.
    assert_eq!(used, 80);
    assert_eq!(env.request().unwrap(), "x\r");
    assert_eq!(env.channel().unwrap(), "SIP/1");
    assert_eq!(env.accountcode().unwrap(), "\r");
    assert_eq!(env.arg(1).unwrap(), "a\r");
    assert_eq!(env.args().collect::<Vec<_>>(), ["a\r"]);
    assert_eq!(env.get("agi_x").unwrap(), "y\r");
}

#[test]
fn keeps_non_utf8_bytes() {
    let (env, _) = parse(b"agi_calleridname: Ren\xe9e\n\n");
    let name = env.callerid_name().unwrap();
    assert_eq!(name.as_bytes(), b"Ren\xe9e");
    assert!(name.to_str().is_err());
    assert_eq!(name.to_string_lossy(), "Ren\u{fffd}e");
}

#[test]
fn refuses_what_is_not_an_environment_early() {
    let err = parse_env(b"GET / HT").unwrap_err();
    assert_eq!((err.kind, err.offset), (ParseErrorKind::NotEnvironment, 0));
    assert_eq!(err.excerpt.as_bytes(), b"GET / HT");
    assert_eq!(parse_env(b"ag").unwrap(), Status::Partial);
    assert!(parse_env(b"\n\n").is_err());
}

#[test]
fn limits_bound_lines_and_blocks() {
    let mut d = EnvDecoder::new(Limits {
        max_line: 16,
        ..Limits::default()
    });
    let err = d.decode(b"agi_request: 0123456789").unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::LineTooLong { limit: 16 });

    let limits = Limits {
        max_block: 40,
        ..Limits::default()
    };
    let mut d = EnvDecoder::new(limits);
    let block = b"agi_arg_1: aaaaaaaa\nagi_arg_2: bbbbbbbb\nagi_arg_3: c\n\n";
    let err = d.decode(block).unwrap_err();
    assert_eq!(err.kind, ParseErrorKind::BlockTooLong { limit: 40 });
    assert!(
        EnvDecoder::new(limits).decode(&block[..40]).is_ok(),
        "at the limit is fine"
    );
}

#[test]
fn decoder_resumes_and_resets() {
    let mut d = EnvDecoder::default();
    let mut buf = Vec::new();
    for chunk in STANDARD.chunks(7) {
        buf.extend_from_slice(chunk);
        if buf.len() < STANDARD.len() {
            assert_eq!(d.decode(&buf).unwrap(), Status::Partial);
        }
    }
    let (env, _) = d.decode(&buf).unwrap().complete().unwrap();
    assert_eq!(env, parse(STANDARD).0);
    // Ready for another block.
    assert!(d.decode(b"agi_request: again\n\n").unwrap().is_complete());
}

#[test]
fn owned_form_matches_borrowed() {
    let (env, _) = parse(STANDARD);
    let owned = env.into_owned();
    assert_eq!(owned.env(), env);
    let from_bytes = OwnedEnv::from_bytes(Bytes::from_static(STANDARD), Limits::default()).unwrap();
    assert_eq!(from_bytes, owned);
    assert!(
        OwnedEnv::from_bytes(Bytes::from_static(b"agi_request: x\n"), Limits::default()).is_err()
    );
}

#[test]
fn index_rebuilds_the_view_over_the_same_bytes_only() {
    let mut buf = STANDARD.to_vec();
    let (env, consumed) = parse(STANDARD);
    let index = env.index();
    assert_eq!(index.block_len(), consumed);
    buf.extend_from_slice(b"200 result=1\n");
    assert_eq!(index.env(&buf[..consumed]), Some(env));
    assert_eq!(index.env(&buf), None);
    assert_eq!(index.env(b""), None);
    // Other bytes of the right length: wrong values, never a panic.
    let other = vec![b'x'; consumed];
    let wrong = index.env(&other).unwrap();
    assert!(
        wrong
            .channel()
            .unwrap()
            .as_bytes()
            .iter()
            .all(|&b| b == b'x')
    );
    assert!(wrong.args().count() <= env.args().count());
    assert_eq!(Env::default().channel(), None);
    assert_eq!(Env::default().args().count(), 0);
}

/// The reference `from_name` must agree with: a search of all names.
fn slow_from_name(name: &[u8]) -> Option<Var> {
    Var::ALL.into_iter().find(|v| v.name().as_bytes() == name)
}

#[test]
fn every_name_is_recognised() {
    for var in Var::ALL {
        assert_eq!(
            Var::from_name(var.name().as_bytes()),
            Some(var),
            "{}",
            var.name()
        );
    }
}

proptest! {
    #[test]
    fn from_name_agrees_with_a_search(
        which in 0..Var::ALL.len(),
        at in 0usize..20,
        byte in prop::sample::select(vec![b'a', b'c', b'e', b'n', b'p', b's', b't', b'_', b'x', 0xff]),
        cut in 0usize..3,
    ) {
        let mut name = Var::ALL[which].name().as_bytes().to_vec();
        let at = at % name.len();
        name[at] = byte;
        name.truncate(name.len() - cut.min(name.len() - 1));
        prop_assert_eq!(Var::from_name(&name), slow_from_name(&name));
    }

    /// Any bytes, however they arrive, give the same block or the same
    /// error (kind and offset; the excerpt shows what had arrived).
    #[test]
    fn any_bytes_any_cuts_same_outcome(
        pieces in proptest::collection::vec(prop::sample::select(vec![
            &b"agi_"[..], b"agi_x: ", b"agi_arg_1: ", b"agi_request: ", b"agi_channel:", b"y", b":", b" ", b"\n", b"\r\n", b"\n\n",
            b"0123456789", b"\0",
        ]), 0..24),
        cut_points in proptest::collection::vec(any::<usize>(), 0..8),
        // Either limit may be the smaller one.
        (max_line, max_block) in (4usize..64, 8usize..128),
    ) {
        let stream = pieces.concat();
        let limits = Limits { max_line, max_block, ..Limits::default() };
        // The block or the error once the decoder stops saying "partial":
        // at a cut, or with the whole stream.
        let outcome = |cuts: &[usize]| {
            let mut d = EnvDecoder::new(limits);
            for end in cuts.iter().copied().chain([stream.len()]) {
                match d.decode(&stream[..end]) {
                    Ok(Status::Partial) => {}
                    Ok(Status::Complete { value, consumed }) => return format!("{value:?} {consumed}"),
                    Err(e) => return format!("{:?} at {}", e.kind, e.offset),
                }
            }
            "partial".to_string()
        };
        let mut cuts: Vec<usize> = cut_points.into_iter().map(|c| c % (stream.len() + 1)).collect();
        cuts.sort_unstable();
        prop_assert_eq!(outcome(&cuts), outcome(&[]));
    }

    /// Prefixes of a block in any order, shorter ones included (which
    /// breaks the decoder's rule, as a decoder reused for another stream
    /// does): each call reads what a new decoder reads, and none panics.
    #[test]
    fn any_prefix_in_any_order_reads_as_new(
        ends in proptest::collection::vec(0..=STANDARD.len(), 1..10),
        max_line in prop::sample::select(vec![16usize, 40, 1024]),
        max_block in prop::sample::select(vec![64usize, 300, 65536]),
    ) {
        let limits = Limits { max_line, max_block, ..Limits::default() };
        let mut d = EnvDecoder::new(limits);
        for end in ends {
            let buf = &STANDARD[..end];
            prop_assert_eq!(d.decode(buf), EnvDecoder::new(limits).decode(buf));
        }
    }

    /// After part of a block, any other bytes (which break the decoder's
    /// rule) give some outcome, never a panic, and a block found reads
    /// without one either.
    #[test]
    fn other_bytes_after_a_partial_never_panic(
        cut in 0..=STANDARD.len(),
        then in proptest::collection::vec(prop::sample::select(vec![
            &b"agi_"[..], b"agi_arg_1: ", b"agi_request: ", b"agi_channel: ", b"x", b":", b" ", b"\n", b"\r",
        ]), 0..40),
    ) {
        let mut d = EnvDecoder::default();
        let _ = d.decode(&STANDARD[..cut]);
        let then = then.concat();
        if let Ok(Status::Complete { value, consumed }) = d.decode(&then) {
            prop_assert!(consumed <= then.len());
            for (_, v) in value.iter() { let _ = v.to_string_lossy(); }
            let _ = (value.args().count(), value.channel(), value.request(), value.arg(1));
        }
    }

    #[test]
    fn split_anywhere_same_result(cuts in proptest::collection::vec(0..STANDARD.len(), 0..6)) {
        let mut cuts = cuts;
        cuts.sort_unstable();
        let mut d = EnvDecoder::default();
        for cut in cuts {
            prop_assert_eq!(d.decode(&STANDARD[..cut]).unwrap(), Status::Partial);
        }
        let (env, used) = d.decode(STANDARD).unwrap().complete().unwrap();
        prop_assert_eq!(used, STANDARD.len());
        prop_assert_eq!(env, parse(STANDARD).0);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_env(&bytes);
        let mut prefixed = b"agi_".to_vec();
        prefixed.extend_from_slice(&bytes);
        if let Ok(Status::Complete { value, consumed }) = parse_env(&prefixed) {
            prop_assert!(consumed <= prefixed.len());
            for (_, v) in value.iter() { let _ = v.to_string_lossy(); }
            let _ = value.args().count();
            let _ = (value.priority(), value.asterisk_version(), value.arg(1));
        }
    }

    /// The decoder tries the variable Asterisk sends next before the
    /// general lookup: in order with gaps (as Asterisk sends them), in any
    /// order, with repeats, and however the bytes arrive, each variable
    /// must get the value of its last line.
    #[test]
    fn known_variables_keep_their_last_value_in_any_order(
        which in prop_oneof![
            proptest::sample::subsequence((0..Var::ALL.len()).collect::<Vec<_>>(), 0..=Var::ALL.len()),
            proptest::collection::vec(0..Var::ALL.len(), 0..40),
        ],
        values in proptest::collection::vec(
            proptest::collection::vec(prop::sample::select(vec![b'a', b' ', b':', b'1', 0xff]), 0..6),
            40,
        ),
        cuts in proptest::collection::vec(any::<usize>(), 0..4),
    ) {
        let lines: Vec<(usize, &[u8])> = which.iter().zip(&values).map(|(&w, v)| (w, &v[..])).collect();
        let mut block = Vec::new();
        for &(w, value) in &lines {
            block.extend_from_slice(Var::ALL[w].name().as_bytes());
            block.extend_from_slice(b": ");
            block.extend_from_slice(value);
            block.push(b'\n');
        }
        block.push(b'\n');
        if lines.is_empty() {
            return Ok(());
        }
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % block.len()).collect();
        cuts.sort_unstable();
        let mut d = EnvDecoder::default();
        for cut in cuts {
            prop_assert_eq!(d.decode(&block[..cut]).unwrap(), Status::Partial);
        }
        let (env, _) = d.decode(&block).unwrap().complete().unwrap();
        for (w, var) in Var::ALL.into_iter().enumerate() {
            let last = lines.iter().rev().find(|l| l.0 == w).map(|l| l.1);
            let got = env.var(var);
            prop_assert_eq!(got.as_ref().map(|v| v.as_bytes()), last, "{}", var.name());
        }
    }

    #[test]
    fn values_round_trip(values in proptest::collection::vec(proptest::collection::vec(any::<u8>().prop_filter("no LF/CR", |b| *b != b'\n' && *b != b'\r'), 0..40), 1..10)) {
        let mut block = Vec::new();
        for (i, v) in values.iter().enumerate() {
            block.extend_from_slice(format!("agi_arg_{}: ", i + 1).as_bytes());
            block.extend_from_slice(v);
            block.push(b'\n');
        }
        block.push(b'\n');
        let (env, _) = parse(&block);
        let args: Vec<Vec<u8>> = env.args().map(Value::into_bytes).collect();
        prop_assert_eq!(args, values);
    }
}
