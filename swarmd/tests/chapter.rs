//! The NerdDinner chapter, command by command, through the real docker CLI against five swarmd
//! processes (`--runtime docker`: tasks are containers of the local engine) on 127.0.0.1:
//! three managers (two promoted, one demoted and promoted again) and two workers; the services
//! of `run-nerd-dinner.ps1` as the script creates them (same names, network, env files, labels,
//! constraint and ports; the images are a busybox stand-in tagged with each name, the Windows
//! bind mount a temporary directory); `service scale`, `ps`, `logs`, `node ps`; the configs and
//! secrets of `apply-configuration.ps1`; `docker stack deploy -c docker-compose.yml -c
//! docker-compose.swarm.yml nerd-dinner` with the fixture's files; the homepage re-deploy with
//! `new-homepage.yml` (never fewer than one homepage task running, the other services' tasks
//! untouched), `service rollback`, `stack rm`, `swarm leave`; then the leader and a worker are
//! SIGKILLed and a surviving manager shows a new leader, both nodes down and the probe service's
//! replicas running elsewhere.
//!
//! Needs the docker CLI, a Docker engine (`.ci/docker-up`) and the static busybox; without them
//! it prints `!!! SKIPPED` and passes, except under CI, where it fails.

mod common;

use common::engine::{EngineCleanup, build_standin, engine, engine_host, engine_missing};
use common::{Daemon, docker_cli, line_with, skip, words};
use std::path::{Path, PathBuf};

/// The images of `run-nerd-dinner.ps1` and the compose files, all the same stand-in.
const IMAGES: &[&str] = &[
    "dockeronwindows/ch05-nats:2e",
    "dockeronwindows/ch06-nerd-dinner-db:2e",
    "sixeyed/elasticsearch:5.6.11-windowsservercore-ltsc2019",
    "sixeyed/traefik:v1.7.8-windowsservercore-ltsc2019",
    "sixeyed/kibana:5.6.11-windowsservercore-ltsc2019",
    "dockeronwindows/ch05-nerd-dinner-save-handler:2e",
    "dockeronwindows/ch05-nerd-dinner-index-handler:2e",
    "dockeronwindows/ch05-nerd-dinner-api:2e",
    "dockeronwindows/ch03-nerd-dinner-homepage:2e",
    "dockeronwindows/ch05-nerd-dinner-web:2e",
    "dockeronwindows/ch07-nerd-dinner-db:2e",
    "dockeronwindows/ch07-nerd-dinner-api:2e",
    "dockeronwindows/ch07-nerd-dinner-web:2e",
    "dockeronwindows/ch07-nerd-dinner-homepage:2e",
];

/// The replicas the two compose files give each stack service.
const STACK: &[(&str, u32)] = &[
    ("message-queue", 1),
    ("elasticsearch", 1),
    ("reverse-proxy", 1),
    ("kibana", 1),
    ("nerd-dinner-db", 1),
    ("nerd-dinner-save-handler", 3),
    ("nerd-dinner-index-handler", 2),
    ("nerd-dinner-api", 2),
    ("nerd-dinner-homepage", 2),
    ("nerd-dinner-web", 2),
];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../swarm-core/tests/fixtures/nerddinner")
}

fn fixture(name: &str) -> String {
    fixtures().join(name).display().to_string()
}

/// Removes what the nodes' namespaces hold on the engine when the test ends, even by a panic
/// (the killed daemons cannot).
/// `service ls` shows every one of `services` (name, replicas) at n/n.
fn all_replicated(table: &str, services: &[(String, u32)]) -> bool {
    services.iter().all(|(name, n)| {
        table.lines().any(|l| {
            let w = words(l);
            w.get(1) == Some(&name.as_str()) && w.get(3) == Some(&format!("{n}/{n}").as_str())
        })
    })
}

/// The `service ps` lines of tasks that run now.
fn running_lines(table: &str) -> Vec<&str> {
    table
        .lines()
        .filter(|l| words(l).get(5) == Some(&"Running") && words(l).get(4) == Some(&"Running"))
        .collect()
}

#[test]
fn the_nerddinner_chapter_through_the_docker_cli() {
    let test = "the_nerddinner_chapter_through_the_docker_cli";
    let Some(docker) = docker_cli() else {
        skip(test, "no docker CLI on PATH");
        return;
    };
    if let Some(why) = engine_missing(&docker) {
        skip(test, &why);
        return;
    }
    build_standin(&docker, IMAGES);

    let root = tempfile::tempdir().expect("temp dir");
    let run = std::process::id() % 100_000;
    let name = |n: &str| format!("ch{run}-{n}");
    let (m1, m2, m3, w1, w2) = (name("m1"), name("m2"), name("m3"), name("w1"), name("w2"));
    let _cleanup = EngineCleanup {
        docker: docker.clone(),
        namespaces: [&m1, &m2, &m3, &w1, &w2]
            .iter()
            .map(|n| format!("swarmd-{n}"))
            .collect(),
    };
    let host = engine_host();
    // The script publishes ports 80 and 8080: five daemons on one host cannot all open them
    // (the routing mesh has its own test).
    let flags = [
        "--runtime",
        "docker",
        "--docker-host",
        host.as_str(),
        "--ingress-addr",
        "none",
    ];
    let mut n1 = Daemon::start(root.path(), &m1, &docker, &flags);
    let n2 = Daemon::start(root.path(), &m2, &docker, &flags);
    let n3 = Daemon::start(root.path(), &m3, &docker, &flags);
    let mut n4 = Daemon::start(root.path(), &w1, &docker, &flags);
    let n5 = Daemon::start(root.path(), &w2, &docker, &flags);

    // docker swarm init; every other node joins with the worker token, as the chapter does.
    let out = n1.docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    assert!(out.contains("Swarm initialized: current node ("), "{out}");
    let join = n1.docker(&["swarm", "join-token", "worker"]);
    let join_words = words(line_with(&join, "join"));
    let addr = join_words.last().expect("address").to_string();
    let token = join_words[join_words.len() - 2].to_string();
    for n in [&n2, &n3, &n4, &n5] {
        let out = n.docker(&[
            "swarm",
            "join",
            "--token",
            &token,
            "--advertise-addr",
            "127.0.0.1",
            &addr,
        ]);
        assert!(
            out.contains("This node joined a swarm as a worker."),
            "{out}"
        );
    }
    let table = n1.wait_for("five ready nodes", &["node", "ls"], |t| {
        t.lines().filter(|l| l.contains(" Ready ")).count() == 5
    });
    assert_eq!(
        words(line_with(&table, &m1))[1..6],
        ["*", m1.as_str(), "Ready", "Active", "Leader"],
        "{table}"
    );
    assert!(
        words(line_with(&table, &m1))[6].starts_with("docker/"),
        "the engine version is the Docker engine's:\n{table}"
    );

    // node promote / demote: three managers in the end.
    let out = n1.docker(&["node", "promote", &m2, &m3]);
    assert!(
        out.contains(&format!("Node {m2} promoted to a manager in the swarm."))
            && out.contains(&format!("Node {m3} promoted to a manager in the swarm.")),
        "{out}"
    );
    n1.wait_for("m2 and m3 reachable", &["node", "ls"], |t| {
        t.lines().filter(|l| l.contains(" Reachable ")).count() == 2
    });
    let out = n1.docker(&["node", "demote", &m3]);
    assert!(
        out.contains(&format!("Manager {m3} demoted in the swarm.")),
        "{out}"
    );
    let table = n1.wait_for("m3 a worker again", &["node", "ls"], |t| {
        t.lines().filter(|l| l.contains(" Reachable ")).count() == 1
    });
    assert_eq!(words(line_with(&table, &m3)).len(), 5, "{table}");
    n1.docker(&["node", "promote", &m3]);
    // Every node ready again too: a node may show `Unknown` for a heartbeat period while the
    // leader's dispatcher starts over (it did once, right after a promotion).
    let table = n1.wait_for("three managers, every node ready", &["node", "ls"], |t| {
        t.lines().filter(|l| l.contains(" Reachable ")).count() == 2
            && t.lines()
                .skip(1)
                .filter(|l| !l.trim().is_empty())
                .all(|l| l.contains(" Ready "))
    });
    for w in [&w1, &w2] {
        assert_eq!(
            words(line_with(&table, w))[1..4],
            [w.as_str(), "Ready", "Active"],
            "{table}"
        );
    }

    // run-nerd-dinner.ps1.
    let net = n1.docker(&["network", "create", "--driver", "overlay", "nd-swarm"]);
    assert_eq!(net.trim().len(), 25, "{net}");
    let certs = root.path().join("certs-client");
    std::fs::create_dir_all(&certs).expect("certs dir");
    let db_env = fixture("db-credentials.env");
    let api_env = fixture("api-keys.env");
    let mount = format!("type=bind,source={},target=/certs", certs.display());
    let create = |args: &[&str]| {
        let mut all = vec![
            "service",
            "create",
            "--detach=true",
            "--network",
            "nd-swarm",
        ];
        all.extend_from_slice(args);
        let id = n1.docker(&all);
        assert_eq!(id.trim().len(), 25, "{args:?}: {id}");
    };
    create(&["--name", "message-queue", "dockeronwindows/ch05-nats:2e"]);
    create(&["--name", "nats", "dockeronwindows/ch05-nats:2e"]);
    create(&[
        "--env-file",
        &db_env,
        "--name",
        "nerd-dinner-db",
        "dockeronwindows/ch06-nerd-dinner-db:2e",
    ]);
    create(&[
        "--name",
        "elasticsearch",
        "--env",
        "ES_JAVA_OPTS=-Xms512m -Xmx512m",
        "sixeyed/elasticsearch:5.6.11-windowsservercore-ltsc2019",
    ]);
    create(&[
        "--constraint=node.role==manager",
        "--publish",
        "80:80",
        "--publish",
        "8080:8080",
        "--mount",
        &mount,
        "--name",
        "reverse-proxy",
        "sixeyed/traefik:v1.7.8-windowsservercore-ltsc2019",
        "--docker",
        "--docker.swarmMode",
        "--docker.watch",
        "--docker.endpoint=tcp://win2019-dev-02:2376",
        "--docker.tls.ca=/certs/ca.pem",
        "--docker.tls.cert=/certs/cert.pem",
        "--docker.tls.key=/certs/key.pem",
        "--logLevel=DEBUG",
        "--api",
    ]);
    create(&[
        "--name",
        "kibana",
        "--label",
        "traefik.frontend.rule=Host:kibana.nerddinner.swarm",
        "--label",
        "traefik.port=5601",
        "sixeyed/kibana:5.6.11-windowsservercore-ltsc2019",
    ]);
    create(&[
        "--env-file",
        &db_env,
        "--name",
        "nerd-dinner-save-handler",
        "dockeronwindows/ch05-nerd-dinner-save-handler:2e",
    ]);
    create(&[
        "--name",
        "nerd-dinner-index-handler",
        "dockeronwindows/ch05-nerd-dinner-index-handler:2e",
    ]);
    create(&[
        "--env-file",
        &db_env,
        "--name",
        "nerd-dinner-api",
        "--label",
        "traefik.frontend.rule=Host:api.nerddinner.swarm",
        "--label",
        "traefik.port=80",
        "dockeronwindows/ch05-nerd-dinner-api:2e",
    ]);
    create(&[
        "--name",
        "nerd-dinner-homepage",
        "--label",
        "traefik.frontend.rule=Host:nerddinner.swarm;Path:/,/css/site.css",
        "--label",
        "traefik.frontend.priority=10",
        "--label",
        "traefik.port=80",
        "dockeronwindows/ch03-nerd-dinner-homepage:2e",
    ]);
    create(&[
        "--env-file",
        &db_env,
        "--env-file",
        &api_env,
        "--env",
        "HomePage:Enabled=false",
        "--env",
        "DinnerApi:Enabled=true",
        "--label",
        "traefik.frontend.rule=Host:nerddinner.swarm;PathPrefix:/",
        "--label",
        "traefik.frontend.priority=1",
        "--label",
        "traefik.backend.loadbalancer.stickiness=true",
        "--label",
        "traefik.port=80",
        "--name",
        "nerd-dinner-web",
        "dockeronwindows/ch05-nerd-dinner-web:2e",
    ]);
    let script: Vec<(String, u32)> = [
        "message-queue",
        "nats",
        "nerd-dinner-db",
        "elasticsearch",
        "reverse-proxy",
        "kibana",
        "nerd-dinner-save-handler",
        "nerd-dinner-index-handler",
        "nerd-dinner-api",
        "nerd-dinner-homepage",
        "nerd-dinner-web",
    ]
    .iter()
    .map(|s| (s.to_string(), 1))
    .collect();
    let table = n1.wait_for("the script's 11 services at 1/1", &["service", "ls"], |t| {
        all_replicated(t, &script)
    });
    let proxy = line_with(&table, "reverse-proxy");
    assert!(
        proxy.contains("*:80->80/tcp") && proxy.contains("*:8080->8080/tcp"),
        "{table}"
    );
    let ps = n1.docker(&["service", "ps", "reverse-proxy"]);
    let on = words(line_with(&ps, "reverse-proxy.1"))[3].to_owned();
    assert!(
        [&m1, &m2, &m3].contains(&&on),
        "node.role==manager placed it on {on}:\n{ps}"
    );
    // The containers carry the script's environment.
    let web_id = n1.docker(&[
        "service",
        "inspect",
        "--format",
        "{{.ID}}",
        "nerd-dinner-web",
    ]);
    let filter = format!("label=com.swarm.service.id={}", web_id.trim());
    let (ok, ids, err) = engine(&docker, &["ps", "-q", "--filter", &filter]);
    assert!(ok, "{err}");
    let container = ids
        .split_whitespace()
        .next()
        .unwrap_or_else(|| panic!("no container of nerd-dinner-web on the engine"));
    let (_, env, _) = engine(
        &docker,
        &["inspect", "--format", "{{json .Config.Env}}", container],
    );
    assert!(
        env.contains("HomePage:Enabled=false")
            && env.contains("Apis:BingMaps:Key=")
            && env.contains("ConnectionStrings:UsersContext="),
        "{env}"
    );

    // service scale, ps, logs; node ps.
    let out = n1.docker(&["service", "scale", "--detach", "nerd-dinner-api=3"]);
    assert!(out.contains("nerd-dinner-api scaled to 3"), "{out}");
    let ps = n1.wait_for(
        "three api tasks running",
        &["service", "ps", "nerd-dinner-api"],
        |t| running_lines(t).len() == 3,
    );
    for l in running_lines(&ps) {
        assert_eq!(
            words(l)[2],
            "dockeronwindows/ch05-nerd-dinner-api:2e",
            "{ps}"
        );
    }
    let logs = n1.wait_for(
        "three stand-ins saying they are up",
        &["service", "logs", "nerd-dinner-api"],
        |t| t.matches("stand-in up").count() == 3,
    );
    for l in logs.lines() {
        assert!(l.starts_with("nerd-dinner-api."), "{logs}");
        assert!(l.contains('@') && l.ends_with("| stand-in up"), "{logs}");
    }
    let node_ps = n1.docker(&["node", "ps", &w1]);
    assert!(node_ps.starts_with("ID"), "{node_ps}");
    for l in node_ps.lines().skip(1) {
        assert_eq!(words(l)[3], w1, "node ps lists only w1's tasks:\n{node_ps}");
    }

    // apply-configuration.ps1.
    for (name, file) in [
        (
            "nerd-dinner-api-config",
            "configs/nerd-dinner-api-config.json",
        ),
        ("nerd-dinner-config", "configs/nerd-dinner-config.json"),
    ] {
        let id = n1.docker(&["config", "create", name, &fixture(file)]);
        assert_eq!(id.trim().len(), 25, "{id}");
    }
    let cert = root.path().join("cert.pem");
    std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\n").expect("cert");
    let cert = cert.display().to_string();
    for (name, file) in [
        (
            "nerd-dinner-secrets",
            fixture("secrets/nerd-dinner-secrets.json"),
        ),
        (
            "nerd-dinner-save-handler-secrets",
            fixture("secrets/save-handler-secrets.json"),
        ),
        (
            "nerd-dinner-api-secrets",
            fixture("secrets/nerd-dinner-api-secrets.json"),
        ),
        (
            "nerd-dinner-db-sa-password",
            fixture("secrets/nerd-dinner-db-sa-password.txt"),
        ),
        ("docker-client-ca", cert.clone()),
        ("docker-client-cert", cert.clone()),
        ("docker-client-key", cert.clone()),
    ] {
        let id = n1.docker(&["secret", "create", name, &file]);
        assert_eq!(id.trim().len(), 25, "{id}");
    }
    assert_eq!(n1.docker(&["secret", "ls", "-q"]).lines().count(), 7);
    assert_eq!(n1.docker(&["config", "ls", "-q"]).lines().count(), 2);

    // The script's services make way for the stack.
    let mut rm = vec!["service", "rm"];
    rm.extend(script.iter().map(|(s, _)| s.as_str()));
    n1.docker(&rm);

    // docker stack deploy -c docker-compose.yml -c docker-compose.swarm.yml nerd-dinner.
    let compose = fixture("docker-compose.yml");
    let swarm = fixture("docker-compose.swarm.yml");
    let homepage = fixture("new-homepage.yml");
    let out = n1.docker(&[
        "stack",
        "deploy",
        "-c",
        &compose,
        "-c",
        &swarm,
        "nerd-dinner",
    ]);
    for (service, _) in STACK {
        assert!(
            out.contains(&format!("Creating service nerd-dinner_{service}")),
            "{out}"
        );
    }
    let stack: Vec<(String, u32)> = STACK
        .iter()
        .map(|(s, n)| (format!("nerd-dinner_{s}"), *n))
        .collect();
    n1.wait_for(
        "every replica of the stack running",
        &["stack", "services", "nerd-dinner"],
        |t| all_replicated(t, &stack),
    );

    // The new homepage: re-deploy with new-homepage.yml; one homepage task runs throughout.
    let out = n1.docker(&[
        "stack",
        "deploy",
        "-c",
        &compose,
        "-c",
        &swarm,
        "-c",
        &homepage,
        "nerd-dinner",
    ]);
    assert!(
        out.contains("Updating service nerd-dinner_nerd-dinner-homepage"),
        "{out}"
    );
    let ps = n1.wait_for(
        "the new homepage on both replicas, never fewer than one running",
        &["service", "ps", "nerd-dinner_nerd-dinner-homepage"],
        |t| {
            let running = running_lines(t);
            assert!(!running.is_empty(), "no homepage task running:\n{t}");
            running.len() == 2
                && running
                    .iter()
                    .all(|l| l.contains("dockeronwindows/ch07-nerd-dinner-homepage:2e"))
        },
    );
    assert!(ps.contains("\\_ nerd-dinner_nerd-dinner-homepage."), "{ps}");
    let web = n1.docker(&["service", "ps", "nerd-dinner_nerd-dinner-web"]);
    assert!(
        !web.contains("\\_"),
        "the other services' tasks are untouched:\n{web}"
    );

    // service rollback.
    let out = n1.docker(&[
        "service",
        "rollback",
        "--detach",
        "nerd-dinner_nerd-dinner-homepage",
    ]);
    assert_eq!(out.trim(), "nerd-dinner_nerd-dinner-homepage");
    n1.wait_for(
        "the old homepage back",
        &["service", "ps", "nerd-dinner_nerd-dinner-homepage"],
        |t| {
            let running = running_lines(t);
            running.len() == 2
                && running
                    .iter()
                    .all(|l| l.contains("dockeronwindows/ch03-nerd-dinner-homepage:2e"))
        },
    );

    // docker stack rm.
    let out = n1.docker(&["stack", "rm", "nerd-dinner"]);
    for (service, _) in STACK {
        assert!(
            out.contains(&format!("Removing service nerd-dinner_{service}")),
            "{out}"
        );
    }
    n1.wait_for("no service left", &["service", "ls", "-q"], |t| {
        t.trim().is_empty()
    });

    // swarm leave (a worker).
    let out = n5.docker(&["swarm", "leave"]);
    assert!(out.contains("Node left the swarm."), "{out}");
    n1.wait_for("w2 down", &["node", "ls"], |t| {
        words(line_with(t, &w2))[2] == "Down"
    });
    n1.docker(&["node", "rm", &w2]);

    // Kill the leader and a worker; a surviving manager converges.
    let probe_image = "dockeronwindows/ch05-nats:2e";
    n1.docker(&[
        "service",
        "create",
        "--detach",
        "--name",
        "probe",
        "--replicas",
        "4",
        probe_image,
    ]);
    let probe = vec![("probe".to_owned(), 4)];
    n1.wait_for("probe 4/4", &["service", "ls"], |t| {
        all_replicated(t, &probe)
    });
    n1.kill();
    n4.kill();
    let table = n2.wait_for(
        "a new leader, m1 unreachable, w1 down",
        &["node", "ls"],
        |t| {
            let leader = t
                .lines()
                .any(|l| (l.contains(&m2) || l.contains(&m3)) && l.contains(" Leader "));
            leader
                && line_with(t, &m1).contains(" Unreachable ")
                && words(line_with(t, &w1))[2] == "Down"
        },
    );
    assert_eq!(words(line_with(&table, &m2))[1], "*", "{table}");
    let ps = n2.wait_for(
        "probe's four replicas running on the survivors",
        &[
            "service",
            "ps",
            "--filter",
            "desired-state=running",
            "probe",
        ],
        |t| {
            let running = running_lines(t);
            running.len() == 4
                && running
                    .iter()
                    .all(|l| words(l)[3] == m2 || words(l)[3] == m3)
        },
    );
    assert_eq!(ps.lines().count(), 5, "{ps}");
    let table = n3.docker(&["service", "ls"]);
    assert_eq!(
        words(line_with(&table, "probe"))[1..],
        ["probe", "replicated", "4/4", probe_image],
        "{table}"
    );
}
