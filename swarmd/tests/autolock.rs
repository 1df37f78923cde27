//! Autolock through the real docker CLI (process runtime): `swarm init --autolock` prints the
//! unlock key; a restarted manager stays locked (`docker info` says so, control commands get
//! dockerd's 503) until `docker swarm unlock` gives it the key, which starts it without
//! restarting the daemon; a wrong key is refused and leaves it locked; `unlock-key --rotate`
//! gives a new key that unlocks the next restart; `swarm update --autolock=false` lets a
//! restart come back unlocked.
//!
//! The CLI is `docker` on `PATH`, or the binary `SWARMD_TEST_DOCKER` names. Without one the
//! test prints `!!! SKIPPED` and passes, except under CI, where it fails.

mod common;

use common::{Daemon, docker_cli, skip};
use std::path::Path;

/// The log line of a manager that re-locked its data with the cluster's current key.
const RELOCKED: &str = "manager data re-locked with the cluster's unlock key";

fn restart(root: &Path, node: Daemon, docker: &Path) -> Daemon {
    drop(node);
    Daemon::start(root, "node-1", docker, &[])
}

fn local_state(node: &Daemon) -> String {
    node.docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"])
        .trim()
        .to_owned()
}

/// Another well-formed key: two different characters of the key's body swapped.
fn wrong_key(key: &str) -> String {
    let body = key.strip_prefix("SWMKEY-1-").expect("SWMKEY-1- prefix");
    let mut chars: Vec<char> = body.chars().collect();
    let i = (0..chars.len() - 1)
        .find(|&i| chars[i] != chars[i + 1])
        .expect("two different characters");
    chars.swap(i, i + 1);
    format!("SWMKEY-1-{}", chars.into_iter().collect::<String>())
}

#[test]
fn an_autolocked_manager_is_unlocked_by_the_cli() {
    let Some(docker) = docker_cli() else {
        skip(
            "an_autolocked_manager_is_unlocked_by_the_cli",
            "no docker CLI",
        );
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    let n1 = Daemon::start(root.path(), "node-1", &docker, &[]);

    // Not in a swarm: nothing to unlock.
    let (ok, _, err) = n1.try_docker_with_input(&["swarm", "unlock"], "x\n");
    assert!(!ok && err.contains("not part of a swarm"), "{err}");

    let out = n1.docker(&[
        "swarm",
        "init",
        "--autolock",
        "--advertise-addr",
        "127.0.0.1",
    ]);
    assert!(out.contains("docker swarm unlock"), "{out}");
    let key = n1.docker(&["swarm", "unlock-key", "-q"]).trim().to_owned();
    assert!(key.starts_with("SWMKEY-1-"), "{key}");
    assert!(out.contains(&key), "init printed another key:\n{out}");
    // A running manager is not locked.
    let (ok, _, err) = n1.try_docker_with_input(&["swarm", "unlock"], &format!("{key}\n"));
    assert!(!ok && err.contains("swarm is not locked"), "{err}");
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

    // Restarted: locked, and every control command says so.
    let n1 = restart(root.path(), n1, &docker);
    assert_eq!(local_state(&n1), "locked");
    for cmd in [
        &["node", "ls"][..],
        &["service", "ls"],
        &["swarm", "unlock-key"],
    ] {
        let (ok, _, err) = n1.try_docker(cmd);
        assert!(
            !ok && err.contains("Swarm is encrypted and needs to be unlocked"),
            "docker {cmd:?}: {err}"
        );
    }
    let (ok, _, err) = n1.try_docker(&["swarm", "leave"]);
    assert!(
        !ok && err.contains("Swarm is encrypted and locked"),
        "{err}"
    );
    let (ok, _, err) = n1.try_docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    assert!(!ok && err.contains("already part of a swarm"), "{err}");

    // A wrong key leaves it locked; the right one starts it, in the same process.
    let (ok, _, err) = n1.try_docker_with_input(&["swarm", "unlock"], &wrong_key(&key));
    assert!(!ok && err.contains("invalid key provided"), "{err}");
    assert_eq!(local_state(&n1), "locked");
    n1.docker_with_input(&["swarm", "unlock"], &format!("{key}\n"));
    assert_eq!(local_state(&n1), "active");
    n1.wait_for("the service after the unlock", &["service", "ls"], |t| {
        t.contains("kept")
    });

    // A rotated key unlocks the next restart (once the manager re-locked its data with it).
    let before = n1.log().matches(RELOCKED).count();
    let out = n1.docker(&["swarm", "unlock-key", "--rotate"]);
    assert!(
        out.contains("Successfully rotated manager unlock key"),
        "{out}"
    );
    let rotated = n1.docker(&["swarm", "unlock-key", "-q"]).trim().to_owned();
    assert!(
        rotated.starts_with("SWMKEY-1-") && rotated != key,
        "{rotated}"
    );
    common::wait_until("the data re-locked with the rotated key", || {
        n1.log().matches(RELOCKED).count() > before
    });
    let n1 = restart(root.path(), n1, &docker);
    assert_eq!(local_state(&n1), "locked");
    let (ok, _, err) = n1.try_docker_with_input(&["swarm", "unlock"], &format!("{key}\n"));
    assert!(!ok && err.contains("invalid key provided"), "{err}");
    n1.docker_with_input(&["swarm", "unlock"], &format!("{rotated}\n"));
    n1.wait_for("node ls after the second unlock", &["node", "ls"], |t| {
        t.contains("node-1")
    });

    // Autolock off: no key, and a restart comes back unlocked.
    let before = n1.log().matches(RELOCKED).count();
    let out = n1.docker(&["swarm", "update", "--autolock=false"]);
    assert!(out.contains("Swarm updated."), "{out}");
    let (ok, _, err) = n1.try_docker(&["swarm", "unlock-key"]);
    assert!(!ok && err.contains("no unlock key is set"), "{err}");
    common::wait_until("the data unlocked for good", || {
        n1.log().matches(RELOCKED).count() > before
    });
    let n1 = restart(root.path(), n1, &docker);
    assert_eq!(local_state(&n1), "active");
    n1.wait_for("node ls without a key", &["node", "ls"], |t| {
        t.contains("node-1")
    });

    // Autolock on again through `swarm update`: the CLI prints the new key.
    let out = n1.docker(&["swarm", "update", "--autolock=true"]);
    assert!(out.contains("SWMKEY-1-"), "{out}");
    n1.docker(&["swarm", "leave", "--force"]);
}
