//! `docker swarm init --force-new-cluster` through the real docker CLI (process runtime): of
//! three managers two are SIGKILLed, so the cluster has lost its quorum; the survivor forces a
//! new cluster and is its only manager and leader, keeping the cluster's records (its service,
//! the two lost nodes, now workers that are down).
//!
//! The CLI is `docker` on `PATH`, or the binary `SWARMD_TEST_DOCKER` names. Without one the
//! test prints `!!! SKIPPED` and passes, except under CI, where it fails.

mod common;

use common::{Daemon, docker_cli, line_with, skip, words};

#[test]
fn a_manager_that_lost_its_quorum_forces_a_new_cluster() {
    let Some(docker) = docker_cli() else {
        skip(
            "a_manager_that_lost_its_quorum_forces_a_new_cluster",
            "no docker CLI",
        );
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    let n1 = Daemon::start(root.path(), "node-1", &docker, &[]);
    let mut n2 = Daemon::start(root.path(), "node-2", &docker, &[]);
    let mut n3 = Daemon::start(root.path(), "node-3", &docker, &[]);

    // Not in a swarm: --force-new-cluster is a plain init there, as with dockerd; leave again.
    let (ok, _, err) = n2.try_docker(&[
        "swarm",
        "init",
        "--force-new-cluster",
        "--advertise-addr",
        "127.0.0.1",
    ]);
    assert!(ok, "{err}");
    n2.docker(&["swarm", "leave", "--force"]);

    n1.docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    let token = n1.docker(&["swarm", "join-token", "-q", "manager"]);
    let join = n1.docker(&["swarm", "join-token", "manager"]);
    let addr = words(line_with(&join, "join"))
        .last()
        .expect("address")
        .to_string();
    for n in [&n2, &n3] {
        n.docker(&[
            "swarm",
            "join",
            "--token",
            token.trim(),
            "--advertise-addr",
            "127.0.0.1",
            &addr,
        ]);
    }
    n1.wait_for("three managers", &["node", "ls"], |t| {
        t.lines().filter(|l| l.contains(" Reachable ")).count() == 2
    });
    n1.docker(&[
        "service",
        "create",
        "--detach",
        "--name",
        "kept",
        "--entrypoint",
        "sleep",
        "example/app:1",
        "1000",
    ]);

    // Two of three managers gone for good: the survivor forces a new cluster.
    n2.kill();
    n3.kill();
    let out = n1.docker(&[
        "swarm",
        "init",
        "--force-new-cluster",
        "--advertise-addr",
        "127.0.0.1",
    ]);
    assert!(out.contains("Swarm initialized: current node ("), "{out}");
    let table = n1.wait_for(
        "node-1 the only manager, the others down",
        &["node", "ls"],
        |t| {
            t.contains(" Leader ")
                && !t.contains(" Reachable ")
                && !t.contains(" Unreachable ")
                && t.lines().filter(|l| l.contains(" Down ")).count() == 2
        },
    );
    assert_eq!(
        words(line_with(&table, "node-1"))[1..6],
        ["*", "node-1", "Ready", "Active", "Leader"],
        "{table}"
    );
    for lost in ["node-2", "node-3"] {
        assert_eq!(
            words(line_with(&table, lost))[1..4],
            [lost, "Down", "Active"],
            "{table}"
        );
    }
    n1.wait_for("kept at 1/1", &["service", "ls"], |t| {
        line_with(t, "kept").contains("1/1")
    });
    // The new cluster takes writes again.
    n1.docker(&["service", "scale", "--detach", "kept=2"]);
    n1.wait_for("kept at 2/2", &["service", "ls"], |t| {
        line_with(t, "kept").contains("2/2")
    });
    n1.docker(&["swarm", "leave", "--force"]);
}
