//! Unit tests of `lcm_tlog::tiles`.

use super::*;

#[track_caller]
fn check(level: u8, index: u64, width: u16, path: &str) {
    let tile = Tile::new(level, index, width).unwrap();
    assert_eq!(tile.path(), path);
    assert_eq!(Tile::parse_path(path), Ok((tile, false)));
}

#[test]
fn paths() {
    check(0, 0, 256, "tile/0/000");
    check(0, 1_234_067, 256, "tile/0/x001/x234/067");
    check(63, 1000, 255, "tile/63/x001/000.p/255");
    check(
        2,
        u64::MAX,
        1,
        "tile/2/x018/x446/x744/x073/x709/x551/615.p/1",
    );
    let entries = Tile::new(0, 7, 3).unwrap();
    assert_eq!(
        Tile::parse_path("tile/entries/007.p/3"),
        Ok((entries, true))
    );
    for bad in [
        "tile/0/0",
        "tile/0/x000/001",
        "tile/00/001",
        "tile/64/001",
        "tile/0/001.p/256",
        "tile/0/001.p/0",
        "tile/0/001.p/01",
        "tile/0/x001",
        "tile/0/001/x002",
        "tile/entries/0/001",
        "/tile/0/001",
        "tile/0/x018/x446/x744/x073/x709/x551/616",
    ] {
        assert!(Tile::parse_path(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn the_spec_example_of_70000() {
    assert_eq!(Tile::full_count(0, 70_000), 273);
    assert_eq!(
        Tile::partial(0, 70_000),
        Some(Tile::new(0, 273, 112).unwrap())
    );
    assert_eq!(Tile::full_count(1, 70_000), 1);
    assert_eq!(Tile::partial(1, 70_000), Some(Tile::new(1, 1, 17).unwrap()));
    assert_eq!(Tile::partial(2, 70_000), Some(Tile::new(2, 0, 1).unwrap()));
    assert_eq!(Tile::levels(70_000).collect::<Vec<_>>(), [0, 1, 2]);
    // 256: one full level-0 tile and a partial level-1 tile of width 1.
    assert_eq!(Tile::partial(0, 256), None);
    assert_eq!(Tile::partial(1, 256), Some(Tile::new(1, 0, 1).unwrap()));
    assert_eq!(Tile::levels(0).count(), 0);
    assert_eq!(Tile::levels(u64::MAX).count(), 8);
}

#[test]
fn entry_bundles() {
    let entries: [&[u8]; 3] = [b"a", b"", b"xyz"];
    let bundle = encode_entry_bundle(&entries).unwrap();
    assert_eq!(bundle, b"\x00\x01a\x00\x00\x00\x03xyz");
    assert_eq!(decode_entry_bundle(&bundle).unwrap(), entries);
    assert_eq!(
        decode_entry_bundle(&bundle[..bundle.len() - 1]),
        Err(FormatError::EntryBundle { index: 2 }.into())
    );
    assert_eq!(
        decode_entry_bundle(b"\x00"),
        Err(FormatError::EntryBundle { index: 0 }.into())
    );
    let big = vec![0u8; 65_536];
    assert_eq!(
        encode_entry_bundle(&[big]),
        Err(FormatError::EntryBundle { index: 0 }.into())
    );
}
