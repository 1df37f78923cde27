//! Published ports on `--runtime docker` through the real docker CLI: a service publishing a
//! port through the routing mesh (`-p PORT:80`) answers on that port at the worker's and at
//! the manager's swarmd (each at its own `--ingress-addr` on 127.0.0.0/8), from each of its
//! tasks in turn; `service inspect` and `service ls` show the published port; a host-mode
//! port (`--publish mode=host,...`) is bound by the engine on the host of its task; the mesh
//! closes a port once no task publishes it.
//!
//! The tasks are busybox's `nc -ll -p 80 -e /bin/hostname`: each connection gets the container's
//! hostname. Needs the docker CLI, a Docker engine (`.ci/docker-up`) and the static busybox;
//! without them it prints `!!! SKIPPED` and passes, except under CI, where it fails.

mod common;

use common::engine::{EngineCleanup, build_standin, engine_host, engine_missing, free_subnet};
use common::{CONVERGE_LIMIT, Daemon, POLL_PAUSE, docker_cli, line_with, skip, words};
use std::collections::BTreeSet;
use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

/// The image of the tasks (the stand-in; the service replaces its entrypoint).
const IMAGE: &str = "swarmd-ports-test:1";
/// The manager's and the worker's routing mesh addresses.
const MANAGER_MESH: [u8; 4] = [127, 0, 0, 2];
const WORKER_MESH: [u8; 4] = [127, 0, 0, 1];
/// Longest wait for one connection's answer.
const READ_LIMIT: Duration = Duration::from_secs(5);

fn as_strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// A TCP port free on every loopback address now.
fn free_port() -> u16 {
    TcpListener::bind("0.0.0.0:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// What one connection to `addr` reads (`None` when it is refused or says nothing).
fn answer(addr: SocketAddr) -> Option<String> {
    let mut s = TcpStream::connect_timeout(&addr, READ_LIMIT).ok()?;
    s.set_read_timeout(Some(READ_LIMIT)).ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let out = out.trim().to_owned();
    (!out.is_empty()).then_some(out)
}

/// Connects to `addr` until `want` different tasks answered; their answers.
fn answers(addr: SocketAddr, want: usize) -> BTreeSet<String> {
    let deadline = Instant::now() + CONVERGE_LIMIT;
    let mut seen = BTreeSet::new();
    while seen.len() < want {
        assert!(
            Instant::now() < deadline,
            "{addr}: {} of {want} tasks answered: {seen:?}",
            seen.len()
        );
        match answer(addr) {
            Some(a) => {
                seen.insert(a);
            }
            None => std::thread::sleep(POLL_PAUSE),
        }
    }
    seen
}

#[test]
fn published_ports_reach_the_tasks_through_the_mesh_and_on_the_host() {
    let test = "published_ports_reach_the_tasks_through_the_mesh_and_on_the_host";
    let Some(docker) = docker_cli() else {
        skip(test, "no docker CLI on PATH");
        return;
    };
    if let Some(why) = engine_missing(&docker) {
        skip(test, &why);
        return;
    }
    build_standin(&docker, &[IMAGE]);

    let root = tempfile::tempdir().expect("temp dir");
    let run = std::process::id() % 100_000;
    let (m, w) = (format!("pp{run}-m"), format!("pp{run}-w"));
    let _cleanup = EngineCleanup {
        docker: docker.clone(),
        namespaces: vec![format!("swarmd-{m}"), format!("swarmd-{w}")],
    };
    let host = engine_host();
    let mesh = |ip: [u8; 4]| std::net::Ipv4Addr::from(ip).to_string();
    let (manager_mesh, worker_mesh) = (mesh(MANAGER_MESH), mesh(WORKER_MESH));
    let flags = |mesh: &str| {
        vec![
            "--runtime".to_owned(),
            "docker".to_owned(),
            "--docker-host".to_owned(),
            host.clone(),
            "--ingress-addr".to_owned(),
            mesh.to_owned(),
        ]
    };
    let manager_flags = flags(&manager_mesh);
    let worker_flags = flags(&worker_mesh);
    let n1 = Daemon::start(root.path(), &m, &docker, &as_strs(&manager_flags));
    let n2 = Daemon::start(root.path(), &w, &docker, &as_strs(&worker_flags));
    n1.docker(&["swarm", "init", "--advertise-addr", "127.0.0.1"]);
    let token = n1.docker(&["swarm", "join-token", "-q", "worker"]);
    let join = n1.docker(&["swarm", "join-token", "worker"]);
    let addr = words(line_with(&join, "join"))
        .last()
        .expect("address")
        .to_string();
    n2.docker(&[
        "swarm",
        "join",
        "--token",
        token.trim(),
        "--advertise-addr",
        "127.0.0.1",
        &addr,
    ]);
    n1.wait_for("two ready nodes", &["node", "ls"], |t| {
        t.lines().filter(|l| l.contains(" Ready ")).count() == 2
    });
    let net = format!("pp{run}");
    let subnet = free_subnet(&docker);
    n1.docker(&[
        "network", "create", "-d", "overlay", "--subnet", &subnet, &net,
    ]);

    // Through the mesh: two tasks, the published port on both daemons.
    let published = free_port();
    let publish = format!("{published}:80");
    n1.docker(&[
        "service",
        "create",
        "--detach",
        "--stop-grace-period",
        "1s",
        "--name",
        "echo",
        "--network",
        &net,
        "--replicas",
        "2",
        "-p",
        &publish,
        "--entrypoint",
        "/bin/busybox",
        IMAGE,
        "nc",
        "-ll",
        "-p",
        "80",
        "-e",
        "/bin/hostname",
    ]);
    let table = n1.wait_for("echo at 2/2", &["service", "ls"], |t| {
        t.lines().any(|l| l.contains("echo") && l.contains("2/2"))
    });
    assert!(
        line_with(&table, "echo").contains(&format!("*:{published}->80/tcp")),
        "{table}"
    );
    let ports = n1.docker(&[
        "service",
        "inspect",
        "--format",
        "{{range .Endpoint.Ports}}{{.PublishMode}} {{.PublishedPort}}->{{.TargetPort}}/{{.Protocol}}{{end}}",
        "echo",
    ]);
    assert_eq!(ports.trim(), format!("ingress {published}->80/tcp"));
    let at_worker = SocketAddr::from((WORKER_MESH, published));
    let at_manager = SocketAddr::from((MANAGER_MESH, published));
    let tasks = answers(at_worker, 2);
    assert_eq!(
        answers(at_manager, 2),
        tasks,
        "both meshes reach the same two tasks"
    );

    // Host mode: the engine binds the port where the task runs.
    let host_port = free_port();
    let publish = format!("mode=host,published={host_port},target=80");
    n1.docker(&[
        "service",
        "create",
        "--detach",
        "--stop-grace-period",
        "1s",
        "--name",
        "direct",
        "--network",
        &net,
        "--publish",
        &publish,
        "--entrypoint",
        "/bin/busybox",
        IMAGE,
        "nc",
        "-ll",
        "-p",
        "80",
        "-e",
        "/bin/hostname",
    ]);
    n1.wait_for("direct at 1/1", &["service", "ls"], |t| {
        t.lines().any(|l| l.contains("direct") && l.contains("1/1"))
    });
    let ports = n1.docker(&[
        "service",
        "inspect",
        "--format",
        "{{range .Endpoint.Ports}}{{.PublishMode}} {{.PublishedPort}}{{end}}",
        "direct",
    ]);
    assert_eq!(ports.trim(), format!("host {host_port}"));
    let direct = answers(SocketAddr::from(([127, 0, 0, 1], host_port)), 1);
    assert!(direct.is_disjoint(&tasks), "{direct:?} {tasks:?}");

    // No task publishes the port any more: the meshes close it.
    n1.docker(&["service", "rm", "echo"]);
    let deadline = Instant::now() + CONVERGE_LIMIT;
    while TcpStream::connect_timeout(&at_worker, READ_LIMIT).is_ok()
        || TcpStream::connect_timeout(&at_manager, READ_LIMIT).is_ok()
    {
        assert!(
            Instant::now() < deadline,
            "the mesh kept port {published} open"
        );
        std::thread::sleep(POLL_PAUSE);
    }
    n1.docker(&["service", "rm", "direct"]);
    n2.docker(&["swarm", "leave"]);
    n1.docker(&["swarm", "leave", "--force"]);
}
