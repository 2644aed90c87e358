//! Every captured environment block parses, and every value matches the
//! line it came from.

use agi_proto::{AsteriskVersion, Var, parse_env};

use crate::fixtures;

/// The block's lines split naively, as the expectation.
fn naive_pairs(block: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    block
        .split(|&b| b == b'\n')
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let colon = l.iter().position(|&b| b == b':').unwrap();
            (l[..colon].to_vec(), l[colon + 2..].to_vec())
        })
        .collect()
}

#[test]
fn every_env_block_parses_and_matches_its_lines() {
    let names = fixtures::env_names();
    assert_eq!(names.len(), 5, "{names:?}");
    for name in names {
        let block = fixtures::read(&name);
        let (env, used) = parse_env(&block)
            .unwrap()
            .complete()
            .unwrap_or_else(|| panic!("{name} incomplete"));
        assert_eq!(used, block.len(), "{name}: the file is exactly one block");
        let pairs = naive_pairs(&block);
        assert_eq!(env.iter().count(), pairs.len(), "{name}");
        for (key, value) in &pairs {
            let key = std::str::from_utf8(key).unwrap();
            assert_eq!(env.get(key).unwrap(), value.as_slice(), "{name}: {key}");
            if let Some(var) = Var::from_name(key.as_bytes()) {
                assert_eq!(env.var(var).unwrap(), value.as_slice(), "{name}: {key}");
            }
        }
        let args: Vec<Vec<u8>> = pairs
            .iter()
            .filter(|(k, _)| k.starts_with(b"agi_arg_"))
            .map(|(_, v)| v.clone())
            .collect();
        assert_eq!(
            env.args().map(|v| v.into_bytes()).collect::<Vec<_>>(),
            args,
            "{name}"
        );
        assert_eq!(env.asterisk_version(), AsteriskVersion::Master, "{name}");
        assert_eq!(env.asterisk_version().command_limit(), 8190);
        assert_eq!(env.callingpres(), Some(67), "{name}: no caller id");
        assert_eq!(env.callerid().unwrap(), "unknown", "{name}");
    }
}

#[test]
fn mode_specific_facts() {
    let parse = |name: &str| {
        parse_env(&fixtures::read(name))
            .unwrap()
            .complete()
            .unwrap()
            .0
            .into_owned()
    };

    let standard = parse("standard-env.txt");
    let env = standard.env();
    assert!(!env.is_fastagi() && !env.enhanced());
    assert_eq!(env.request().unwrap(), "tap-agi.py");
    assert_eq!(
        env.args().collect::<Vec<_>>(),
        ["commands", "two words", "quoted", "", "last"]
    );
    assert_eq!(env.accountcode().unwrap(), "");

    let fast = parse("fastagi-env.txt");
    let env = fast.env();
    assert!(env.is_fastagi());
    assert_eq!(env.network_script().unwrap(), "tapscript");
    assert_eq!(env.request().unwrap(), "agi://127.0.0.1:4573/tapscript");
    assert!(
        env.iter().next().unwrap().0 == b"agi_network",
        "agi_network comes first"
    );

    let noscript = parse("fastagi-noscript-env.txt");
    assert!(noscript.env().is_fastagi());
    assert_eq!(noscript.env().network_script(), None);

    assert!(parse("eagi-env.txt").env().enhanced());
    let dead = parse("dead-env.txt");
    assert_eq!(dead.env().extension().unwrap(), "h");
    assert_eq!(dead.env().priority(), Some(1));
}
