//! Sans-IO translation of a task into the engine's container-create request.
//!
//! Everything a spec can get wrong is checked here, with the field named, before the engine is
//! called. The mapping follows SwarmKit's container adapter: `command` replaces the image's
//! entrypoint and `args` its CMD; limits become cgroup limits, reservations a memory
//! reservation and CPU shares; the health check becomes the container's HEALTHCHECK; the
//! container gets no restart policy (restarting is the orchestrator's job). A task with cluster
//! networks joins the local network of its first one at create, with its allocated address and
//! aliases ([`task_networks`]); a task without any gets [`DockerConfig::network_mode`].

use crate::config::DockerConfig;
use crate::error::DockerError;
use crate::labels::{RESERVED_LABEL_PREFIX, container_labels};
use crate::published_ports::published_ports;
use crate::task_files::WrittenFile;
use crate::task_network::task_networks;
use bollard::models::{
    ContainerCreateBody, HealthConfig, HostConfig, Mount, MountType, NetworkingConfig,
    RestartPolicy, RestartPolicyNameEnum,
};
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use swarm_core::model::{
    GenericResource, HealthCheck, MountType as SpecMountType, NANO_CPUS_PER_CPU, Resources, Task,
};

/// The smallest memory limit Docker accepts (6 MiB).
const MIN_MEMORY_LIMIT_BYTES: i64 = 6 * 1024 * 1024;

/// The smallest non-zero health-check duration Docker accepts (1 ms).
const MIN_HEALTHCHECK_DURATION: Duration = Duration::from_millis(1);

/// CPU shares of one whole CPU (`docker run --cpu-shares` default weight).
const CPU_SHARES_PER_CPU: i64 = 1024;

/// Docker's lowest accepted CPU-shares value.
const MIN_CPU_SHARES: i64 = 2;

/// Prefix of the environment variables that carry assigned generic resources, as in SwarmKit
/// (`DOCKER_RESOURCE_GPU=GPU-1,GPU-2`, `DOCKER_RESOURCE_SSD=2`).
const GENERIC_RESOURCE_ENV_PREFIX: &str = "DOCKER_RESOURCE_";

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> DockerError {
    DockerError::InvalidSpec {
        field: field.into(),
        reason: reason.into(),
    }
}

fn duration_nanos(field: &str, d: Duration) -> Result<i64, DockerError> {
    if !d.is_zero() && d < MIN_HEALTHCHECK_DURATION {
        return Err(invalid(
            field,
            format!("{d:?} is below Docker's minimum of 1ms"),
        ));
    }
    i64::try_from(d.as_nanos()).map_err(|_| invalid(field, format!("{d:?} is too long")))
}

/// Whether a health check disables the image's own (`["NONE"]`).
pub(crate) fn is_disabled(check: &HealthCheck) -> bool {
    check.test.first().map(String::as_str) == Some("NONE")
}

/// The container HEALTHCHECK for a spec's check.
pub(crate) fn health_config(check: &HealthCheck) -> Result<HealthConfig, DockerError> {
    let field = "container.healthcheck";
    match check.test.first().map(String::as_str) {
        Some("NONE") => {
            return Ok(HealthConfig {
                test: Some(vec!["NONE".to_owned()]),
                ..HealthConfig::default()
            });
        }
        Some("CMD") | Some("CMD-SHELL") if check.test.len() >= 2 => {}
        Some("CMD") | Some("CMD-SHELL") => {
            return Err(invalid(
                format!("{field}.test"),
                "CMD and CMD-SHELL need a command after them",
            ));
        }
        Some(other) => {
            return Err(invalid(
                format!("{field}.test"),
                format!("must start with CMD, CMD-SHELL or NONE, not {other:?}"),
            ));
        }
        None => {
            return Err(invalid(
                format!("{field}.test"),
                "empty (use [\"NONE\"] to disable the image's check, or no healthcheck to keep it)",
            ));
        }
    }
    Ok(HealthConfig {
        test: Some(check.test.clone()),
        interval: Some(duration_nanos(
            &format!("{field}.interval"),
            check.interval,
        )?),
        timeout: Some(duration_nanos(&format!("{field}.timeout"), check.timeout)?),
        retries: Some(i64::from(check.retries)),
        start_period: Some(duration_nanos(
            &format!("{field}.start_period"),
            check.start_period,
        )?),
        // StartInterval needs API 1.44; leaving it out keeps older engines working.
        start_interval: None,
    })
}

/// Checks a stop signal the way Docker parses it: a name (`SIGTERM`, `TERM`) or a number.
pub(crate) fn check_signal(field: &str, signal: &str) -> Result<(), DockerError> {
    if let Ok(n) = signal.parse::<i32>() {
        return if (1..=64).contains(&n) {
            Ok(())
        } else {
            Err(invalid(field, format!("signal number {n} is out of range")))
        };
    }
    let upper = signal.to_ascii_uppercase();
    let name = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if name.parse::<nix::sys::signal::Signal>().is_ok() || name.starts_with("SIGRTM") {
        Ok(())
    } else {
        Err(invalid(field, format!("unknown signal {signal:?}")))
    }
}

fn check_resources(field: &str, r: &Resources) -> Result<(), DockerError> {
    if r.nano_cpus < 0 {
        return Err(invalid(format!("{field}.nano_cpus"), "negative"));
    }
    if r.memory_bytes < 0 {
        return Err(invalid(format!("{field}.memory_bytes"), "negative"));
    }
    Ok(())
}

/// Environment variables for generic resources, as SwarmKit's `genericresource.EnvFormat`.
fn generic_resource_env(generic: &[GenericResource]) -> Vec<String> {
    let mut by_kind: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in generic {
        let key = format!(
            "{GENERIC_RESOURCE_ENV_PREFIX}{}",
            g.kind()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() {
                    c.to_ascii_uppercase()
                } else {
                    '_'
                })
                .collect::<String>()
        );
        let value = match g {
            GenericResource::Discrete { value, .. } => value.to_string(),
            GenericResource::Named { value, .. } => value.clone(),
        };
        by_kind.entry(key).or_default().push(value);
    }
    by_kind
        .into_iter()
        .map(|(k, v)| format!("{k}={}", v.join(",")))
        .collect()
}

/// Builds the create request for `task`, with its secret and config files bind-mounted
/// read-only.
pub(crate) fn container_create_body(
    task: &Task,
    files: &[WrittenFile],
    config: &DockerConfig,
) -> Result<ContainerCreateBody, DockerError> {
    let spec = &task.spec.container;
    if spec.image.trim().is_empty() {
        return Err(invalid("container.image", "empty"));
    }
    for key in spec.labels.keys() {
        if key.starts_with(RESERVED_LABEL_PREFIX) {
            return Err(invalid(
                format!("container.labels[{key:?}]"),
                format!("the prefix {RESERVED_LABEL_PREFIX:?} is reserved for swarm's own labels"),
            ));
        }
    }
    for (i, e) in spec.env.iter().enumerate() {
        if e.is_empty() || e.starts_with('=') || e.contains('\0') {
            return Err(invalid(
                format!("container.env[{i}]"),
                format!("{e:?} is not KEY=value"),
            ));
        }
    }
    if let Some(w) = &spec.workdir {
        if !w.starts_with('/') {
            return Err(invalid(
                "container.workdir",
                format!("{w:?} is not absolute"),
            ));
        }
    }
    if let Some(s) = &spec.stop_signal {
        check_signal("container.stop_signal", s)?;
    }

    let healthcheck = spec.healthcheck.as_ref().map(health_config).transpose()?;
    // The first network is the container's network mode; the controller connects the others
    // before the start (engines before API 1.44 take one endpoint at create).
    let networks = task_networks(task)?;
    let network_mode = networks
        .first()
        .map_or_else(|| config.network_mode.clone(), |n| n.local_name.clone());
    let networking_config = networks.first().map(|n| NetworkingConfig {
        endpoints_config: Some(HashMap::from([(n.local_name.clone(), n.endpoint())])),
    });

    let mut mounts = Vec::with_capacity(spec.mounts.len() + files.len());
    for (i, m) in spec.mounts.iter().enumerate() {
        let field = format!("container.mounts[{i}]");
        if !m.target.starts_with('/') {
            return Err(invalid(
                format!("{field}.target"),
                format!("{:?} is not absolute", m.target),
            ));
        }
        let typ = match m.kind {
            SpecMountType::Bind => {
                if !m.source.starts_with('/') {
                    return Err(invalid(
                        format!("{field}.source"),
                        format!("bind source {:?} is not an absolute host path", m.source),
                    ));
                }
                MountType::BIND
            }
            SpecMountType::Volume => MountType::VOLUME,
            SpecMountType::Tmpfs => {
                if !m.source.is_empty() {
                    return Err(invalid(
                        format!("{field}.source"),
                        "a tmpfs mount takes no source",
                    ));
                }
                MountType::TMPFS
            }
        };
        mounts.push(Mount {
            target: Some(m.target.clone()),
            source: (!m.source.is_empty()).then(|| m.source.clone()),
            typ: Some(typ),
            read_only: Some(m.read_only),
            ..Mount::default()
        });
    }
    for f in files {
        mounts.push(Mount {
            target: Some(f.container_path.clone()),
            source: Some(f.host_path.to_string_lossy().into_owned()),
            typ: Some(MountType::BIND),
            read_only: Some(true),
            ..Mount::default()
        });
    }

    let ports = published_ports(task)?;
    let mut labels = container_labels(task, &config.namespace);
    if let Some((key, value)) = ports.ingress_label {
        labels.insert(key, value);
    }
    let mut host = HostConfig {
        mounts: Some(mounts),
        port_bindings: (!ports.bindings.is_empty()).then_some(ports.bindings),
        network_mode: Some(network_mode),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::NO),
            maximum_retry_count: None,
        }),
        init: config.init.then_some(true),
        ..HostConfig::default()
    };
    let resources = &task.spec.resources;
    if let Some(limits) = &resources.limits {
        check_resources("resources.limits", limits)?;
        if limits.memory_bytes > 0 {
            if limits.memory_bytes < MIN_MEMORY_LIMIT_BYTES {
                return Err(invalid(
                    "resources.limits.memory_bytes",
                    format!(
                        "{} is below Docker's minimum of {MIN_MEMORY_LIMIT_BYTES}",
                        limits.memory_bytes
                    ),
                ));
            }
            host.memory = Some(limits.memory_bytes);
        }
        if limits.nano_cpus > 0 {
            host.nano_cpus = Some(limits.nano_cpus);
        }
    }
    if let Some(res) = &resources.reservations {
        check_resources("resources.reservations", res)?;
        if res.memory_bytes > 0 {
            host.memory_reservation = Some(res.memory_bytes);
        }
        if res.nano_cpus > 0 {
            // SwarmKit: shares proportional to the reserved CPUs.
            let shares = res.nano_cpus.saturating_mul(CPU_SHARES_PER_CPU) / NANO_CPUS_PER_CPU;
            host.cpu_shares = Some(shares.max(MIN_CPU_SHARES));
        }
    }

    let mut env = spec.env.clone();
    if let Some(assigned) = &task.assigned_resources {
        env.extend(generic_resource_env(&assigned.generic));
    }

    let grace_secs =
        spec.stop_grace_period.as_secs() + u64::from(spec.stop_grace_period.subsec_nanos() > 0);
    Ok(ContainerCreateBody {
        image: Some(spec.image.clone()),
        // SwarmKit: `command` replaces the entrypoint, `args` the CMD. With a command and no
        // args the image's CMD is dropped (Docker does not merge CMD when Entrypoint is set).
        entrypoint: (!spec.command.is_empty()).then(|| spec.command.clone()),
        cmd: (!spec.args.is_empty()).then(|| spec.args.clone()),
        env: Some(env),
        working_dir: spec.workdir.clone(),
        user: spec.user.clone(),
        hostname: spec.hostname.clone(),
        labels: Some(labels),
        exposed_ports: (!ports.exposed.is_empty()).then_some(ports.exposed),
        healthcheck,
        stop_signal: spec.stop_signal.clone(),
        stop_timeout: Some(i64::try_from(grace_secs).unwrap_or(i64::MAX)),
        attach_stdin: Some(false),
        attach_stdout: Some(false),
        attach_stderr: Some(false),
        tty: Some(false),
        open_stdin: Some(false),
        host_config: Some(host),
        networking_config,
        ..ContainerCreateBody::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::time::SystemTime;
    use swarm_core::model::{
        ContainerSpec, Mount as SpecMount, NetworkAttachment, ResourceRequirements, ServiceId,
        TaskId, TaskSpec,
    };

    fn task(spec: ContainerSpec) -> Task {
        let mut t = Task::new(
            TaskId::new("t1"),
            ServiceId::new("svc1"),
            TaskSpec {
                container: spec,
                ..TaskSpec::default()
            },
            SystemTime::UNIX_EPOCH,
        );
        t.slot = Some(2);
        t
    }

    fn base() -> ContainerSpec {
        ContainerSpec {
            image: "img:1".into(),
            ..ContainerSpec::default()
        }
    }

    #[test]
    fn maps_command_args_env_labels_and_no_restart() {
        let mut spec = base();
        spec.command = vec!["/bin/sh".into(), "-c".into()];
        spec.args = vec!["echo hi".into()];
        spec.env = vec!["A=1".into()];
        spec.workdir = Some("/tmp".into());
        spec.user = Some("1000:1000".into());
        spec.labels.insert("app".into(), "web".into());
        spec.stop_signal = Some("SIGINT".into());
        spec.stop_grace_period = Duration::from_millis(2500);
        let body = container_create_body(&task(spec), &[], &DockerConfig::default()).unwrap();
        assert_eq!(body.entrypoint.unwrap(), ["/bin/sh", "-c"]);
        assert_eq!(body.cmd.unwrap(), ["echo hi"]);
        assert_eq!(body.env.unwrap(), ["A=1"]);
        assert_eq!(body.working_dir.as_deref(), Some("/tmp"));
        assert_eq!(body.user.as_deref(), Some("1000:1000"));
        assert_eq!(body.stop_signal.as_deref(), Some("SIGINT"));
        assert_eq!(body.stop_timeout, Some(3));
        let labels = body.labels.unwrap();
        assert_eq!(labels["app"], "web");
        assert_eq!(labels["com.swarm.task.id"], "t1");
        assert_eq!(labels["com.swarm.service.id"], "svc1");
        assert_eq!(labels["com.swarm.task.slot"], "2");
        assert_eq!(labels["com.swarm.namespace"], "default");
        let host = body.host_config.unwrap();
        assert_eq!(
            host.restart_policy.unwrap().name,
            Some(RestartPolicyNameEnum::NO)
        );
        assert_eq!(host.network_mode.as_deref(), Some("none"));
    }

    #[test]
    fn networks_replace_the_default_network_mode() {
        let mut t = task(base());
        t.networks = vec![
            NetworkAttachment {
                network_id: "n1".into(),
                network_name: "backend".into(),
                addresses: vec!["10.0.1.5/24".into()],
                aliases: vec!["api".into(), "db-client".into()],
            },
            NetworkAttachment {
                network_id: "n2".into(),
                network_name: "metrics".into(),
                addresses: vec!["10.0.2.5/24".into()],
                aliases: vec!["api".into()],
            },
        ];
        let body = container_create_body(&t, &[], &DockerConfig::default()).unwrap();
        let host = body.host_config.unwrap();
        assert_eq!(host.network_mode.as_deref(), Some("swarm-backend"));
        // Only the first network at create: the controller connects the others.
        let endpoints = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(endpoints.len(), 1);
        let ep = &endpoints["swarm-backend"];
        assert_eq!(
            ep.ipam_config.as_ref().unwrap().ipv4_address.as_deref(),
            Some("10.0.1.5")
        );
        assert_eq!(ep.aliases.as_deref().unwrap(), ["api", "db-client"]);

        // Without networks: the adapter's network mode and no endpoint.
        let body = container_create_body(&task(base()), &[], &DockerConfig::default()).unwrap();
        assert_eq!(
            body.host_config.unwrap().network_mode.as_deref(),
            Some("none")
        );
        assert!(body.networking_config.is_none());

        // A malformed address is refused before the engine is called, naming the field.
        t.networks[1].addresses = vec!["10.0.2.5".into()];
        match container_create_body(&t, &[], &DockerConfig::default()) {
            Err(DockerError::InvalidSpec { field, .. }) => {
                assert_eq!(field, "networks[1].addresses[0]")
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn published_ports_reach_the_create_request() {
        use swarm_core::model::{Endpoint, PortConfig, PublishMode};
        let mut t = task(base());
        let body = container_create_body(&t, &[], &DockerConfig::default()).unwrap();
        assert_eq!(body.exposed_ports, None);
        assert_eq!(body.host_config.unwrap().port_bindings, None);
        t.endpoint = Some(Endpoint {
            ports: vec![
                PortConfig {
                    target_port: 80,
                    published_port: 8081,
                    publish_mode: PublishMode::Host,
                    ..PortConfig::default()
                },
                PortConfig {
                    target_port: 80,
                    published_port: 8080,
                    ..PortConfig::default()
                },
            ],
            ..Endpoint::default()
        });
        let body = container_create_body(&t, &[], &DockerConfig::default()).unwrap();
        assert_eq!(body.exposed_ports.unwrap(), ["80/tcp"]);
        let bindings = body.host_config.unwrap().port_bindings.unwrap();
        let bound = bindings["80/tcp"].as_ref().unwrap();
        assert_eq!(bound[0].host_port.as_deref(), Some("8081"));
        assert_eq!(
            body.labels.unwrap()[crate::LABEL_INGRESS_PORTS],
            "8080:80/tcp"
        );
    }

    #[test]
    fn maps_resources_and_generic_env() {
        let mut t = task(base());
        t.spec.resources = ResourceRequirements {
            limits: Some(Resources {
                nano_cpus: 500_000_000,
                memory_bytes: 64 << 20,
                generic: vec![],
            }),
            reservations: Some(Resources {
                nano_cpus: 250_000_000,
                memory_bytes: 32 << 20,
                generic: vec![],
            }),
        };
        t.assigned_resources = Some(Resources {
            nano_cpus: 0,
            memory_bytes: 0,
            generic: vec![
                GenericResource::Named {
                    kind: "gpu".into(),
                    value: "GPU-1".into(),
                },
                GenericResource::Named {
                    kind: "gpu".into(),
                    value: "GPU-2".into(),
                },
                GenericResource::Discrete {
                    kind: "ssd".into(),
                    value: 2,
                },
            ],
        });
        let body = container_create_body(&t, &[], &DockerConfig::default()).unwrap();
        let host = body.host_config.unwrap();
        assert_eq!(host.memory, Some(64 << 20));
        assert_eq!(host.nano_cpus, Some(500_000_000));
        assert_eq!(host.memory_reservation, Some(32 << 20));
        assert_eq!(host.cpu_shares, Some(256));
        assert_eq!(
            body.env.unwrap(),
            ["DOCKER_RESOURCE_GPU=GPU-1,GPU-2", "DOCKER_RESOURCE_SSD=2"]
        );
    }

    #[test]
    fn secrets_are_read_only_binds() {
        let files = [WrittenFile {
            host_path: PathBuf::from("/dev/shm/x/secret-0"),
            container_path: "/run/secrets/db".into(),
        }];
        let body = container_create_body(&task(base()), &files, &DockerConfig::default()).unwrap();
        let mounts = body.host_config.unwrap().mounts.unwrap();
        assert_eq!(mounts.len(), 1);
        assert_eq!(mounts[0].typ, Some(MountType::BIND));
        assert_eq!(mounts[0].read_only, Some(true));
        assert_eq!(mounts[0].target.as_deref(), Some("/run/secrets/db"));
        assert_eq!(mounts[0].source.as_deref(), Some("/dev/shm/x/secret-0"));
    }

    #[test]
    fn healthcheck_becomes_container_healthcheck() {
        let mut spec = base();
        spec.healthcheck = Some(HealthCheck {
            test: vec!["CMD-SHELL".into(), "test -f /ok".into()],
            interval: Duration::from_millis(200),
            timeout: Duration::from_secs(1),
            retries: 2,
            start_period: Duration::ZERO,
        });
        let body = container_create_body(&task(spec), &[], &DockerConfig::default()).unwrap();
        let h = body.healthcheck.unwrap();
        assert_eq!(h.test.unwrap(), ["CMD-SHELL", "test -f /ok"]);
        assert_eq!(h.interval, Some(200_000_000));
        assert_eq!(h.timeout, Some(1_000_000_000));
        assert_eq!(h.retries, Some(2));
    }

    #[test]
    fn invalid_fields_are_named() {
        let check = |spec: ContainerSpec, field: &str| {
            let e =
                container_create_body(&task(spec), &[], &DockerConfig::default()).expect_err(field);
            match e {
                DockerError::InvalidSpec { field: f, .. } => assert!(f.starts_with(field), "{f}"),
                other => panic!("{field}: {other}"),
            }
        };
        check(ContainerSpec::default(), "container.image");
        let mut s = base();
        s.stop_signal = Some("SIGNOPE".into());
        check(s, "container.stop_signal");
        let mut s = base();
        s.labels.insert("com.swarm.task.id".into(), "other".into());
        check(s, "container.labels");
        let mut s = base();
        s.workdir = Some("rel".into());
        check(s, "container.workdir");
        let mut s = base();
        s.env = vec!["=x".into()];
        check(s, "container.env[0]");
        let mut s = base();
        s.healthcheck = Some(HealthCheck {
            test: vec!["CMD".into()],
            ..HealthCheck::default()
        });
        check(s, "container.healthcheck.test");
        let mut s = base();
        s.healthcheck = Some(HealthCheck {
            test: vec!["CMD".into(), "true".into()],
            interval: Duration::from_micros(10),
            ..HealthCheck::default()
        });
        check(s, "container.healthcheck.interval");
        let mut s = base();
        s.mounts = vec![SpecMount {
            kind: SpecMountType::Bind,
            source: "relative".into(),
            target: "/data".into(),
            read_only: false,
        }];
        check(s, "container.mounts[0].source");
        let mut t = task(base());
        t.spec.resources.limits = Some(Resources {
            nano_cpus: 0,
            memory_bytes: 1024,
            generic: vec![],
        });
        let e = container_create_body(&t, &[], &DockerConfig::default()).unwrap_err();
        assert!(e.to_string().contains("resources.limits.memory_bytes"));
    }

    #[test]
    fn signals_parse_like_docker() {
        for ok in ["SIGTERM", "TERM", "sigint", "9", "SIGRTMIN+3"] {
            check_signal("f", ok).unwrap();
        }
        for bad in ["0", "65", "SIGNOPE", ""] {
            assert!(check_signal("f", bad).is_err(), "{bad}");
        }
    }
}
