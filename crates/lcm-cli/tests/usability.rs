//! Issue 15: `lcm list` kinds, `--json` output for scripts, and the small frictions.

use super::*;

#[test]
fn list_refuses_an_unknown_kind_and_lists_lifecycles_deployments_batches() {
    let (s, _dir) = demo("list-kinds");
    // An unknown kind is a usage error naming what is accepted.
    let out = run(lcm(&s.store()).args(["list", "bogus"]), 2);
    let err = String::from_utf8_lossy(&out.stderr);
    for accepted in ["lifecycles", "deployments", "batches", "receipts", "model-anchor"] {
        assert!(err.contains(accepted), "{err}");
    }
    assert!(out.stdout.is_empty());
    // The plural of a record kind is the kind.
    let models = stdout(&run(lcm(&s.store()).args(["list", "model-anchors"]), 0));
    assert_eq!(
        models,
        stdout(&run(lcm(&s.store()).args(["list", "model-anchor"]), 0))
    );
    assert!(models.starts_with("model-anchor\tpneumonia_model@v1.0\t"), "{models}");

    let lifecycles = stdout(&run(lcm(&s.store()).args(["list", "lifecycles"]), 0));
    assert_eq!(lifecycles.lines().count(), 1, "{lifecycles}");
    assert!(lifecycles.starts_with("deploy_001\t"), "{lifecycles}");
    assert!(lifecycles.contains("\t20 receipts\t4 batches"), "{lifecycles}");
    let v: serde_json::Value = serde_json::from_slice(
        &run(lcm(&s.store()).args(["--json", "list", "lifecycles"]), 0).stdout,
    )
    .unwrap();
    assert_eq!(v["deployment"], "deploy_001");
    assert_eq!(v["receipts"], 20);
    assert_eq!(v["batches"], 4);
    let release = stdout(&run(lcm(&s.store()).args(["list", "release-root"]), 0));
    assert!(
        release.contains(v["release_root"].as_str().unwrap()),
        "{release}"
    );

    let deployments = stdout(&run(lcm(&s.store()).args(["list", "deployments"]), 0));
    assert_eq!(deployments.lines().count(), 1, "{deployments}");
    assert!(deployments.starts_with("deploy_001\t"), "{deployments}");
    assert!(
        deployments.contains("\tdeployed\treleased\t20 receipts"),
        "{deployments}"
    );
    let v: serde_json::Value = serde_json::from_slice(
        &run(lcm(&s.store()).args(["--json", "list", "deployments"]), 0).stdout,
    )
    .unwrap();
    assert_eq!(v["status"], "deployed");
    assert_eq!(v["released"], true);

    let batches = stdout(&run(lcm(&s.store()).args(["list", "batches"]), 0));
    assert_eq!(batches.lines().count(), 4, "{batches}");
    let json = stdout(&run(lcm(&s.store()).args(["--json", "list", "batches"]), 0));
    let counts: u64 = json
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["deployment"], "deploy_001");
            v["count"].as_u64().unwrap()
        })
        .sum();
    assert_eq!(counts, 20);
    // Of a named chain only; a chain without batches lists none.
    assert_eq!(
        stdout(&run(
            lcm(&s.store()).args(["list", "batches", "--deployment", "deploy_001"]),
            0
        )),
        batches
    );
    assert_eq!(
        stdout(&run(
            lcm(&s.store()).args(["list", "batches", "--deployment", "nowhere"]),
            0
        )),
        ""
    );
}
