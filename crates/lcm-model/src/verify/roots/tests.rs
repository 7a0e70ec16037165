//! Unit tests of `lcm_model::verify::roots`.

use super::*;

#[test]
fn release_root_tamper_twins() {
    let p = Policy::default();
    let mut release = ReleaseRoot {
        training_session_root: Digest::from_bytes([1; 32]),
        predeployment: Digest::from_bytes([2; 32]),
        deployment: Digest::from_bytes([3; 32]),
        test_evaluation: Digest::from_bytes([4; 32]),
        root: Digest::from_bytes([0; 32]),
    };
    release.root = MerkleTree::from_leaves([[1u8; 32], [2; 32], [3; 32], [4; 32]]).root();
    verify_release_root(&p, &release).unwrap();
    let edits: [fn(&mut ReleaseRoot); 5] = [
        |r| r.training_session_root = Digest::from_bytes([9; 32]),
        |r| r.predeployment = Digest::from_bytes([9; 32]),
        |r| r.deployment = Digest::from_bytes([9; 32]),
        |r| r.test_evaluation = Digest::from_bytes([9; 32]),
        |r| r.root = Digest::from_bytes([9; 32]),
    ];
    for (i, edit) in edits.iter().enumerate() {
        let mut t = release.clone();
        edit(&mut t);
        let e = verify_release_root(&p, &t);
        assert!(
            matches!(
                e,
                Err(Error::RootMismatch {
                    root: "release root",
                    ..
                })
            ),
            "edit {i}: {e:?}"
        );
    }
}

#[test]
fn inference_batch_root_is_the_root_over_the_digests() {
    let p = Policy::default();
    let digests: Vec<Digest> = (0..5u8).map(|i| Digest::from_bytes([i; 32])).collect();
    let root = compute_inference_batch_root(&p, "w", &digests).unwrap();
    assert_eq!(root.size, 5);
    assert_eq!(
        root.root,
        MerkleTree::from_leaves(digests.iter().map(Digest::as_bytes)).root()
    );
    let mut swapped = digests;
    swapped.swap(0, 1);
    assert_ne!(
        compute_inference_batch_root(&p, "w", &swapped)
            .unwrap()
            .root,
        root.root
    );
    let e = compute_inference_batch_root(&p, "w", &[]);
    assert_matches!(
        e,
        Err(Error::EmptyCollection {
            field: "receipt_digests",
            ..
        })
    );
}
