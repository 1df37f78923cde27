//! The real `docker` CLI drives three swarmd processes on 127.0.0.1: init, join tokens, a
//! manager and a worker joining, node ls / update, swarm ca and the nodes' TLS info, overlay
//! network, secret, config, and a service created, listed, inspected, scaled, updated,
//! rolled back and removed, the swarm's events of that service and the secret (`docker events
//! --since --until --filter`), then leave.
//! Every step checks what the CLI printed.
//!
//! The CLI is `docker` on `PATH`, or the binary `SWARMD_TEST_DOCKER` names (to run the same
//! against another CLI version). Without one the test prints `!!! SKIPPED` and passes, except
//! under `CI=true`, where it fails.

mod common;

use common::{Daemon, docker_cli, line_with, words};

#[test]
fn docker_cli_drives_a_three_node_swarm() {
    let Some(docker) = docker_cli() else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but no docker CLI was found on PATH (install docker.io)"
        );
        eprintln!("!!! SKIPPED docker_cli_drives_a_three_node_swarm: no docker CLI on PATH");
        return;
    };
    let root = tempfile::tempdir().expect("temp dir");
    let n1 = Daemon::start(root.path(), "node-1", &docker, &[]);
    let n2 = Daemon::start(root.path(), "node-2", &docker, &[]);
    let n3 = Daemon::start(root.path(), "node-3", &docker, &[]);

    // Not in a swarm yet: dockerd's 503.
    let (ok, _, err) = n1.try_docker(&["node", "ls"]);
    assert!(
        !ok && err.contains("This node is not a swarm manager"),
        "{err}"
    );

    // swarm init and the join tokens.
    let out = n1.docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    assert!(out.contains("Swarm initialized: current node ("), "{out}");
    assert!(out.contains("is now a manager."), "{out}");
    assert!(out.contains("docker swarm join --token SWMTKN-1-"), "{out}");
    let out = n1.docker(&["swarm", "join-token", "worker"]);
    assert!(
        out.contains("To add a worker to this swarm, run the following command:"),
        "{out}"
    );
    let join_line = words(line_with(&out, "join"));
    let addr = join_line.last().expect("address").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{out}");
    let out = n1.docker(&["swarm", "join-token", "manager"]);
    assert!(
        out.contains("To add a manager to this swarm, run the following command:"),
        "{out}"
    );
    let manager_token = n1.docker(&["swarm", "join-token", "-q", "manager"]);
    let worker_token = n1.docker(&["swarm", "join-token", "-q", "worker"]);
    assert!(manager_token.trim() != worker_token.trim());

    // A manager and a worker join.
    let out = n2.docker(&[
        "swarm",
        "join",
        "--token",
        manager_token.trim(),
        "--advertise-addr",
        "127.0.0.1",
        &addr,
    ]);
    assert!(
        out.contains("This node joined a swarm as a manager."),
        "{out}"
    );
    let out = n3.docker(&[
        "swarm",
        "join",
        "--token",
        worker_token.trim(),
        "--advertise-addr",
        "127.0.0.1",
        &addr,
    ]);
    assert!(
        out.contains("This node joined a swarm as a worker."),
        "{out}"
    );

    // node ls: three nodes ready and active, this one marked, the leader and the other manager.
    let table = n1.wait_for(
        "three ready nodes, node-2 reachable",
        &["node", "ls"],
        |t| {
            t.lines().skip(1).filter(|l| l.contains(" Ready ")).count() == 3
                && t.contains(" Reachable ")
        },
    );
    assert!(table.starts_with("ID"), "{table}");
    let first = words(line_with(&table, "node-1"));
    assert_eq!(
        first[1..],
        [
            "*",
            "node-1",
            "Ready",
            "Active",
            "Leader",
            "swarm-process/0.1.0"
        ],
        "{table}"
    );
    let second = words(line_with(&table, "node-2"));
    assert_eq!(
        second[1..5],
        ["node-2", "Ready", "Active", "Reachable"],
        "{table}"
    );
    let third = words(line_with(&table, "node-3"));
    assert_eq!(
        third[1..],
        ["node-3", "Ready", "Active", "swarm-process/0.1.0"],
        "{table}"
    );
    // The second manager marks itself; the worker cannot list nodes.
    let table = n2.docker(&["node", "ls"]);
    assert_eq!(words(line_with(&table, "node-2"))[1], "*", "{table}");
    let (ok, _, err) = n3.try_docker(&["node", "ls"]);
    assert!(
        !ok && err.contains("Worker nodes can't be used to view or modify cluster state"),
        "{err}"
    );

    // The trust root: `swarm ca` prints the root CA, `node inspect --pretty` its TLS info, the
    // same on both managers.
    let ca = n1.docker(&["swarm", "ca"]);
    assert!(
        ca.starts_with("-----BEGIN CERTIFICATE-----")
            && ca.trim_end().ends_with("-----END CERTIFICATE-----"),
        "{ca}"
    );
    assert_eq!(n2.docker(&["swarm", "ca"]), ca);
    let pretty = n1.docker(&["node", "inspect", "--pretty", "self"]);
    assert!(
        pretty.contains("TLS Info:") && pretty.contains("Issuer Public Key:"),
        "{pretty}"
    );
    assert!(pretty.contains(ca.trim()), "{pretty}");

    // node update --availability drain.
    assert_eq!(
        n1.docker(&["node", "update", "--availability", "drain", "node-3"])
            .trim(),
        "node-3"
    );
    let table = n1.docker(&["node", "ls"]);
    assert_eq!(words(line_with(&table, "node-3"))[3], "Drain", "{table}");

    // An overlay network, a secret, a config.
    let net_id = n1.docker(&["network", "create", "-d", "overlay", "nd-test"]);
    assert_eq!(net_id.trim().len(), 25, "{net_id}");
    let table = n1.docker(&["network", "ls"]);
    assert_eq!(
        words(line_with(&table, "nd-test"))[1..],
        ["nd-test", "overlay", "swarm"],
        "{table}"
    );
    let secret_file = root.path().join("secret.txt");
    std::fs::write(&secret_file, "p@ss").expect("secret file");
    let config_file = root.path().join("config.yml");
    std::fs::write(&config_file, "key: value\n").expect("config file");
    let secret_id = n1.docker(&[
        "secret",
        "create",
        "db-password",
        &secret_file.display().to_string(),
    ]);
    assert_eq!(secret_id.trim().len(), 25, "{secret_id}");
    let config_id = n1.docker(&[
        "config",
        "create",
        "app-config",
        &config_file.display().to_string(),
    ]);
    assert_eq!(config_id.trim().len(), 25, "{config_id}");
    assert!(n1.docker(&["secret", "ls"]).contains("db-password"));
    assert!(n1.docker(&["config", "ls"]).contains("app-config"));

    // A service: the process runtime runs `sleep`; the image string is carried.
    let service_id = n1.docker(&[
        "service",
        "create",
        "--detach",
        "--name",
        "web",
        "--replicas",
        "2",
        "--network",
        "nd-test",
        "--secret",
        "db-password",
        "--config",
        "source=app-config,target=/etc/app.yml",
        "--entrypoint",
        "sleep",
        "example/app:1",
        "60",
    ]);
    assert_eq!(service_id.trim().len(), 25, "{service_id}");
    let table = n1.wait_for("2/2 replicas", &["service", "ls"], |t| t.contains(" 2/2 "));
    assert_eq!(
        words(line_with(&table, "web"))[1..],
        ["web", "replicated", "2/2", "example/app:1"],
        "{table}"
    );
    let table = n1.docker(&["service", "ps", "web"]);
    for slot in ["web.1", "web.2"] {
        let w = words(line_with(&table, slot));
        assert_eq!(w[2], "example/app:1", "{table}");
        assert!(
            w[3] == "node-1" || w[3] == "node-2",
            "drained node-3 got a task:\n{table}"
        );
        assert_eq!(w[4..6], ["Running", "Running"], "{table}");
    }
    let inspect = n1.docker(&["service", "inspect", "web"]);
    let doc: serde_json::Value = serde_json::from_str(&inspect).expect("inspect is JSON");
    let spec = &doc[0]["Spec"];
    assert_eq!(doc[0]["ID"], service_id.trim());
    assert_eq!(spec["Name"], "web");
    assert_eq!(spec["Mode"]["Replicated"]["Replicas"], 2);
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["Image"],
        "example/app:1"
    );
    assert_eq!(spec["TaskTemplate"]["ContainerSpec"]["Command"][0], "sleep");
    assert_eq!(spec["TaskTemplate"]["ContainerSpec"]["Args"][0], "60");
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["Secrets"][0]["SecretName"],
        "db-password"
    );
    assert_eq!(
        spec["TaskTemplate"]["ContainerSpec"]["Configs"][0]["File"]["Name"],
        "/etc/app.yml"
    );
    assert_eq!(spec["TaskTemplate"]["Networks"][0]["Target"], net_id.trim());

    // scale, update --image, rollback.
    let out = n1.docker(&["service", "scale", "--detach", "web=3"]);
    assert!(out.contains("web scaled to 3"), "{out}");
    n1.wait_for("3/3 replicas", &["service", "ls"], |t| t.contains(" 3/3 "));
    assert_eq!(
        n1.docker(&[
            "service",
            "update",
            "--detach",
            "--image",
            "example/app:2",
            "web"
        ])
        .trim(),
        "web"
    );
    let table = n1.wait_for(
        "three tasks of example/app:2 running",
        &["service", "ps", "web"],
        |t| {
            t.lines()
                .filter(|l| l.contains("example/app:2") && l.contains("Running   "))
                .count()
                == 3
        },
    );
    assert!(
        table.contains("\\_ web."),
        "old tasks are listed under the new ones:\n{table}"
    );
    assert_eq!(
        n1.docker(&["service", "rollback", "--detach", "web"])
            .trim(),
        "web"
    );
    let table = n1.wait_for("rolled back to example/app:1", &["service", "ls"], |t| {
        t.contains("example/app:1") && t.contains(" 3/3 ")
    });
    assert_eq!(
        words(line_with(&table, "web"))[1..],
        ["web", "replicated", "3/3", "example/app:1"],
        "{table}"
    );
    let pretty = n1.docker(&["service", "inspect", "--pretty", "web"]);
    assert!(pretty.contains("manually requested rollback"), "{pretty}");

    // service logs: Docker's multiplexed stream, with the details the CLI needs for names.
    n1.docker(&[
        "service",
        "create",
        "--detach",
        "--name",
        "echo",
        "--entrypoint",
        "sh",
        "example/app:1",
        "-c",
        "echo hello-from-echo; sleep 60",
    ]);
    let logs = n1.wait_for("the echo line", &["service", "logs", "echo"], |t| {
        t.contains("hello-from-echo")
    });
    let line = line_with(&logs, "hello-from-echo");
    assert!(line.starts_with("echo.1."), "{logs}");
    assert!(
        line.contains("@node-1") || line.contains("@node-2"),
        "{logs}"
    );
    assert_eq!(n1.docker(&["service", "rm", "echo"]).trim(), "echo");

    // rm, then leave.
    assert_eq!(n1.docker(&["service", "rm", "web"]).trim(), "web");
    let table = n1.docker(&["service", "ls"]);
    assert_eq!(table.lines().count(), 1, "{table}");
    let (ok, _, err) = n1.try_docker(&["service", "ps", "web"]);
    assert!(!ok && err.contains("no such service: web"), "{err}");
    // docker events: what happened to web, and the secret's creation, in the swarm scope.
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
        + 1;
    let until = until.to_string();
    let events = n1.docker(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "scope=swarm",
        "--filter",
        "service=web",
    ]);
    let id = service_id.trim();
    for action in ["create", "update", "remove"] {
        assert!(
            events.contains(&format!(" service {action} {id} (name=web)")),
            "{events}"
        );
    }
    assert!(events.lines().all(|l| l.contains(" service ")), "{events}");
    let events = n2.docker(&[
        "events",
        "--since",
        "0",
        "--until",
        &until,
        "--filter",
        "type=secret",
        "--format",
        "{{json .}}",
    ]);
    let first: serde_json::Value =
        serde_json::from_str(events.lines().next().unwrap_or_default()).expect("an event");
    assert_eq!(first["Type"], "secret", "{events}");
    assert_eq!(first["Action"], "create", "{events}");
    assert_eq!(first["Actor"]["ID"], secret_id.trim(), "{events}");
    assert_eq!(
        first["Actor"]["Attributes"]["name"], "db-password",
        "{events}"
    );
    assert_eq!(first["scope"], "swarm", "{events}");

    // Its processes are stopped before the nodes leave.
    n1.wait_for(
        "the tasks of web to be gone",
        &[
            "node",
            "ps",
            "--filter",
            "desired-state=running",
            "node-1",
            "node-2",
        ],
        |t| t.lines().count() <= 1,
    );
    let out = n3.docker(&["swarm", "leave"]);
    assert!(out.contains("Node left the swarm."), "{out}");
    let (ok, _, err) = n2.try_docker(&["swarm", "leave"]);
    assert!(!ok && err.contains("Use `--force`"), "{err}");
    let out = n1.docker(&["swarm", "leave", "--force"]);
    assert!(out.contains("Node left the swarm."), "{out}");
    let info = n1.docker(&["info", "--format", "{{.Swarm.LocalNodeState}}"]);
    assert_eq!(info.trim(), "inactive");
}
