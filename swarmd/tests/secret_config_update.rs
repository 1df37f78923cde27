//! `POST /secrets/{id}/update` and `/configs/{id}/update` through the real docker CLI: the CLI
//! has no `secret update`, but `docker stack deploy` updates the stack's secrets and configs
//! that exist. A second deploy with new labels updates them; a deploy whose secret file
//! changed is refused as dockerd refuses it ("only updates to Labels are allowed").
//!
//! The CLI is `docker` on `PATH`, or the binary `SWARMD_TEST_DOCKER` names. Without one the
//! test prints `!!! SKIPPED` and passes, except under CI, where it fails.

mod common;

use common::{Daemon, docker_cli, skip};

/// The stack: one service using a file secret and a file config, both labelled `tier`.
fn stack(tier: &str) -> String {
    format!(
        r#"version: "3.8"
services:
  app:
    image: example/app:1
    entrypoint: ["sleep"]
    command: ["1000"]
    secrets: [db-password]
    configs: [app-config]
secrets:
  db-password:
    file: ./db-password.txt
    labels:
      tier: "{tier}"
configs:
  app-config:
    file: ./app-config.yml
    labels:
      tier: "{tier}"
"#
    )
}

#[test]
fn stack_deploy_updates_the_labels_of_its_secrets_and_configs() {
    let Some(docker) = docker_cli() else {
        skip(
            "stack_deploy_updates_the_labels_of_its_secrets_and_configs",
            "no docker CLI",
        );
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    let n1 = Daemon::start(root.path(), "node-1", &docker, &[]);
    n1.docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);

    let dir = root.path();
    std::fs::write(dir.join("db-password.txt"), "p@ss").expect("secret file");
    std::fs::write(dir.join("app-config.yml"), "key: value\n").expect("config file");
    let compose = dir.join("stack.yml");
    let compose_arg = compose.display().to_string();
    let deploy = ["stack", "deploy", "-c", compose_arg.as_str(), "st"];

    std::fs::write(&compose, stack("one")).expect("stack file");
    let out = n1.docker(&deploy);
    assert!(out.contains("Creating secret st_db-password"), "{out}");
    assert!(out.contains("Creating config st_app-config"), "{out}");

    // Deployed again with other labels: both are updated, not created.
    std::fs::write(&compose, stack("two")).expect("stack file");
    let out = n1.docker(&deploy);
    assert!(!out.contains("Creating secret"), "{out}");
    let labels = n1.docker(&[
        "secret",
        "inspect",
        "--format",
        "{{index .Spec.Labels \"tier\"}} {{index .Spec.Labels \"com.docker.stack.namespace\"}}",
        "st_db-password",
    ]);
    assert_eq!(labels.trim(), "two st");
    let labels = n1.docker(&[
        "config",
        "inspect",
        "--format",
        "{{index .Spec.Labels \"tier\"}} {{printf \"%s\" .Spec.Data}}",
        "st_app-config",
    ]);
    assert_eq!(labels.trim(), "two key: value");

    // Another value for the secret: refused, and the stored secret is unchanged.
    std::fs::write(dir.join("db-password.txt"), "n3w").expect("secret file");
    let (ok, out, err) = n1.try_docker(&deploy);
    assert!(!ok, "{out}");
    assert!(
        err.contains("failed to update secret st_db-password")
            && err.contains("only updates to Labels are allowed"),
        "{err}"
    );
    n1.docker(&["swarm", "leave", "--force"]);
}
