//! Unit tests of `lcm_tlog::checkpoint`.

use super::*;

#[test]
fn decimals_are_canonical() {
    assert_eq!(parse_decimal("n", "0"), Ok(0));
    assert_eq!(parse_decimal("n", "18446744073709551615"), Ok(u64::MAX));
    for bad in [
        "",
        "00",
        "01",
        "+1",
        "-1",
        " 1",
        "1 ",
        "18446744073709551616",
        "１",
    ] {
        assert!(parse_decimal("n", bad).is_err(), "{bad:?}");
    }
}

#[test]
fn checkpoint_lines() {
    let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
    let good = format!("o\n5\n{root}\next one\n");
    assert_eq!(Checkpoint::parse(&good).unwrap().to_text(), good);
    for bad in [
        format!("o\n5\n{root}"),
        format!("\n5\n{root}\n"),
        format!("o\n05\n{root}\n"),
        format!("o\n5\n{root}\n\n"),
        "o\n5\nAAAA\n".to_owned(),
        "o\n5\n".to_owned(),
    ] {
        assert!(Checkpoint::parse(&bad).is_err(), "{bad:?}");
    }
}
