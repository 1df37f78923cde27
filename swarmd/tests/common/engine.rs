//! The local Docker engine of the `--runtime docker` tests: whether it answers, the stand-in
//! image the NerdDinner names are given, and the clean-up of what killed daemons left on it.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The engine's socket (`SWARMD_TEST_DOCKER_HOST` overrides it).
pub fn engine_host() -> String {
    std::env::var("SWARMD_TEST_DOCKER_HOST")
        .unwrap_or_else(|_| "unix:///var/run/docker.sock".to_owned())
}

/// Where the Debian package `busybox-static` installs the static busybox.
const STATIC_BUSYBOX: &str = "/bin/busybox";

/// The stand-in's program: says it is up, then stays up until SIGTERM. An ENTRYPOINT, so that
/// a service's arguments (the reverse proxy's flags) do not replace it.
const STANDIN_DOCKERFILE: &str = r#"FROM scratch
ADD busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENTRYPOINT ["/bin/sh", "-c", "echo stand-in up; trap 'exit 0' TERM; while :; do sleep 1; done", "stand-in"]
"#;

/// Runs `docker` against the engine: (success, stdout, stderr).
pub fn engine(docker: &Path, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(docker)
        .arg("-H")
        .arg(engine_host())
        .args(args)
        .env("DOCKER_BUILDKIT", "0")
        .env_remove("DOCKER_CONTEXT")
        .output()
        .expect("run docker");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Why the engine cannot run the test's containers, if it cannot.
pub fn engine_missing(docker: &Path) -> Option<String> {
    let (ok, out, err) = engine(docker, &["info", "--format", "{{.ServerVersion}}"]);
    if !ok || out.trim().is_empty() {
        return Some(format!(
            "no Docker engine answers at {} ({}): run .ci/docker-up",
            engine_host(),
            err.trim()
        ));
    }
    if !Path::new(STATIC_BUSYBOX).is_file() {
        return Some(format!(
            "no static busybox at {STATIC_BUSYBOX} to build the stand-in image from: install busybox-static"
        ));
    }
    None
}

/// Builds the stand-in image from the static busybox (`FROM scratch`, classic builder,
/// nothing pulled) and tags it with each of `names`.
pub fn build_standin(docker: &Path, names: &[&str]) {
    let ctx = tempfile::tempdir().expect("build context");
    std::fs::copy(STATIC_BUSYBOX, ctx.path().join("busybox")).expect("copy busybox");
    std::fs::write(ctx.path().join("Dockerfile"), STANDIN_DOCKERFILE).expect("Dockerfile");
    let context = ctx.path().display().to_string();
    let (ok, out, err) = engine(docker, &["build", "-q", "-t", names[0], &context]);
    assert!(ok, "building the stand-in image failed:\n{out}{err}");
    for name in &names[1..] {
        let (ok, _, err) = engine(docker, &["tag", names[0], name]);
        assert!(ok, "docker tag {name}: {err}");
    }
}

/// Removes every container and local network labelled with one of `namespaces` (what daemons
/// that were killed left running).
pub fn remove_namespaces(docker: &Path, namespaces: &[String]) {
    for ns in namespaces {
        let filter = format!("label=com.swarm.namespace={ns}");
        let (_, ids, _) = engine(docker, &["ps", "-aq", "--filter", &filter]);
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(ids);
            engine(docker, &args);
        }
    }
    for ns in namespaces {
        let filter = format!("label=com.swarm.namespace={ns}");
        let (_, ids, _) = engine(docker, &["network", "ls", "-q", "--filter", &filter]);
        for id in ids.split_whitespace() {
            engine(docker, &["network", "rm", id]);
        }
    }
}

/// Removes what the daemons of `namespaces` left on the engine when dropped (also when the
/// test fails).
pub struct EngineCleanup {
    pub docker: PathBuf,
    pub namespaces: Vec<String>,
}

impl Drop for EngineCleanup {
    fn drop(&mut self) {
        remove_namespaces(&self.docker, &self.namespaces);
    }
}

/// A /24 of `10.213.0.0/16` that no network of the engine overlaps, for a cluster network the
/// test creates with `--subnet` (the cluster's default pool may collide with what other
/// clusters left on a shared engine).
pub fn free_subnet(docker: &Path) -> String {
    let (_, ids, _) = engine(docker, &["network", "ls", "-q"]);
    let mut used: Vec<(u32, u32)> = Vec::new();
    for id in ids.split_whitespace() {
        let (_, out, _) = engine(
            docker,
            &[
                "network",
                "inspect",
                "--format",
                "{{range .IPAM.Config}}{{.Subnet}} {{end}}",
                id,
            ],
        );
        for cidr in out.split_whitespace() {
            let Some((ip, len)) = cidr.split_once('/') else {
                continue;
            };
            let (Ok(ip), Ok(len)) = (ip.parse::<std::net::Ipv4Addr>(), len.parse::<u32>()) else {
                continue;
            };
            used.push((u32::from(ip), len.min(32)));
        }
    }
    let overlaps = |a: u32, a_len: u32, b: u32, b_len: u32| {
        let len = a_len.min(b_len);
        let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
        a & mask == b & mask
    };
    (0..=255u32)
        .map(|n| (10 << 24) | (213 << 16) | (n << 8))
        .find(|net| used.iter().all(|(u, len)| !overlaps(*net, 24, *u, *len)))
        .map(|net| format!("{}/24", std::net::Ipv4Addr::from(net)))
        .expect("a free /24 in 10.213.0.0/16")
}
