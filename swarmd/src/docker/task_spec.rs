//! Docker's `TaskSpec` (the `TaskTemplate` of a service, the `Spec` of a task) and its
//! `ContainerSpec`, to the model's [`TaskSpec`] and back.

use crate::docker::mapping_error::MappingError;
use crate::docker::time_text::{duration, nanos};
use crate::docker::unmodeled::require_default;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use swarm_core::model::{
    ConfigId, ConfigReference, ContainerSpec, FileTarget, GenericResource, HealthCheck, Mount,
    MountType, NetworkAttachmentConfig, Placement, PlacementPreference, Platform,
    ResourceRequirements, Resources, RestartCondition, RestartPolicy, SecretId, SecretReference,
    TaskSpec,
};

/// Docker's `TaskSpec`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerTaskSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) container_spec: Option<DockerContainerSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) resources: Option<DockerResources>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) restart_policy: Option<DockerRestartPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) placement: Option<DockerPlacement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) networks: Option<Vec<DockerNetworkAttachment>>,
    #[serde(default)]
    pub(crate) force_update: u64,
    /// Unmodeled: only the default `container` runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) runtime: Option<Value>,
    /// Unmodeled: the cluster's default log driver only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) log_driver: Option<Value>,
    /// Unmodeled: plugin tasks are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) plugin_spec: Option<Value>,
    /// Unmodeled: network attachment tasks are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) network_attachment_spec: Option<Value>,
}

/// Docker's `ContainerSpec`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerContainerSpec {
    #[serde(default)]
    pub(crate) image: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) args: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) env: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) dir: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mounts: Option<Vec<DockerMount>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) stop_grace_period: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) healthcheck: Option<DockerHealthCheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) secrets: Option<Vec<DockerSecretReference>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) configs: Option<Vec<DockerConfigReference>>,
    // Carried at their defaults only (see `docker::unmodeled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) init: Option<Value>,
    #[serde(default, rename = "DNSConfig", skip_serializing_if = "Option::is_none")]
    pub(crate) dns_config: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) isolation: Option<Value>,
    #[serde(default, rename = "TTY", skip_serializing_if = "Option::is_none")]
    pub(crate) tty: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) open_stdin: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) read_only: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) groups: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) privileges: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) hosts: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) sysctls: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) capability_add: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) capability_drop: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ulimits: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) duration: Option<Value>,
}

/// Docker's `Mount`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerMount {
    #[serde(default)]
    pub(crate) r#type: String,
    #[serde(default)]
    pub(crate) source: String,
    #[serde(default)]
    pub(crate) target: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub(crate) read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) consistency: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) bind_options: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) volume_options: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tmpfs_options: Option<Value>,
}

/// Docker's `HealthConfig`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerHealthCheck {
    #[serde(default)]
    pub(crate) test: Vec<String>,
    #[serde(default)]
    pub(crate) interval: i64,
    #[serde(default)]
    pub(crate) timeout: i64,
    #[serde(default)]
    pub(crate) retries: u32,
    #[serde(default)]
    pub(crate) start_period: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) start_interval: Option<Value>,
}

/// Docker's secret or config file target.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DockerFile {
    #[serde(rename = "Name", default)]
    pub(crate) name: String,
    #[serde(rename = "UID", default)]
    pub(crate) uid: String,
    #[serde(rename = "GID", default)]
    pub(crate) gid: String,
    #[serde(rename = "Mode", default)]
    pub(crate) mode: u32,
}

/// Docker's `SecretReference`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DockerSecretReference {
    #[serde(rename = "File", default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<DockerFile>,
    #[serde(rename = "SecretID", default)]
    pub(crate) secret_id: String,
    #[serde(rename = "SecretName", default)]
    pub(crate) secret_name: String,
}

/// Docker's `ConfigReference`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DockerConfigReference {
    #[serde(rename = "File", default, skip_serializing_if = "Option::is_none")]
    pub(crate) file: Option<DockerFile>,
    #[serde(rename = "Runtime", default, skip_serializing_if = "Option::is_none")]
    pub(crate) runtime: Option<Value>,
    #[serde(rename = "ConfigID", default)]
    pub(crate) config_id: String,
    #[serde(rename = "ConfigName", default)]
    pub(crate) config_name: String,
}

/// Docker's `ResourceRequirements`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerResources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) limits: Option<DockerResourceAmount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reservations: Option<DockerResourceAmount>,
}

/// Docker's `Limit` / `Resources`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerResourceAmount {
    #[serde(default, rename = "NanoCPUs", skip_serializing_if = "is_zero")]
    pub(crate) nano_cpus: i64,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub(crate) memory_bytes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) generic_resources: Option<Vec<DockerGenericResource>>,
    /// Unmodeled (`--limit-pids`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) pids: Option<Value>,
}

fn is_zero(n: &i64) -> bool {
    *n == 0
}

/// Docker's generic resource.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerGenericResource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) named_resource_spec: Option<DockerKindValue<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) discrete_resource_spec: Option<DockerKindValue<i64>>,
}

/// `{"Kind": ..., "Value": ...}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerKindValue<T> {
    pub(crate) kind: String,
    pub(crate) value: T,
}

/// Docker's `RestartPolicy`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerRestartPolicy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) condition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delay: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) max_attempts: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) window: Option<i64>,
}

/// Docker's `Placement`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerPlacement {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) constraints: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) preferences: Option<Vec<DockerPreference>>,
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub(crate) max_replicas: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) platforms: Option<Vec<DockerPlatform>>,
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// `{"Spread": {"SpreadDescriptor": ...}}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerPreference {
    pub(crate) spread: DockerSpread,
}

/// `{"SpreadDescriptor": ...}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerSpread {
    pub(crate) spread_descriptor: String,
}

/// Docker's `Platform`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DockerPlatform {
    #[serde(rename = "Architecture", default)]
    pub(crate) architecture: String,
    #[serde(rename = "OS", default)]
    pub(crate) os: String,
}

/// Docker's `NetworkAttachmentConfig`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerNetworkAttachment {
    #[serde(default)]
    pub(crate) target: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) aliases: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) driver_opts: Option<Value>,
}

const CS: &str = "TaskTemplate.ContainerSpec";

/// The model's task spec from Docker's.
pub(crate) fn from_docker(d: &DockerTaskSpec) -> Result<TaskSpec, MappingError> {
    require_default("TaskTemplate.Runtime", d.runtime.as_ref(), &["container"])?;
    require_default("TaskTemplate.LogDriver", d.log_driver.as_ref(), &[])?;
    require_default("TaskTemplate.PluginSpec", d.plugin_spec.as_ref(), &[])?;
    require_default(
        "TaskTemplate.NetworkAttachmentSpec",
        d.network_attachment_spec.as_ref(),
        &[],
    )?;
    let c = d
        .container_spec
        .as_ref()
        .ok_or_else(|| MappingError::invalid(CS, "a service needs a ContainerSpec"))?;
    let mut spec = TaskSpec {
        container: container_from_docker(c)?,
        force_update: d.force_update,
        ..TaskSpec::default()
    };
    if let Some(r) = &d.resources {
        spec.resources = ResourceRequirements {
            limits: amount_from_docker("TaskTemplate.Resources.Limits", r.limits.as_ref())?,
            reservations: amount_from_docker(
                "TaskTemplate.Resources.Reservations",
                r.reservations.as_ref(),
            )?,
        };
    }
    if let Some(r) = &d.restart_policy {
        let mut p = RestartPolicy::default();
        if let Some(c) = &r.condition {
            p.condition = match c.as_str() {
                "none" => RestartCondition::None,
                "on-failure" => RestartCondition::OnFailure,
                "any" | "" => RestartCondition::Any,
                other => {
                    return Err(MappingError::invalid(
                        "TaskTemplate.RestartPolicy.Condition",
                        format!("invalid condition {other:?}: none, on-failure or any"),
                    ));
                }
            };
        }
        if let Some(v) = r.delay {
            p.delay = duration(v);
        }
        if let Some(v) = r.max_attempts {
            p.max_attempts = v;
        }
        if let Some(v) = r.window {
            p.window = duration(v);
        }
        spec.restart_policy = p;
    }
    if let Some(p) = &d.placement {
        spec.placement = Placement {
            constraints: p.constraints.clone().unwrap_or_default(),
            preferences: p
                .preferences
                .iter()
                .flatten()
                .map(|p| PlacementPreference::Spread {
                    spread_descriptor: p.spread.spread_descriptor.clone(),
                })
                .collect(),
            max_replicas: p.max_replicas,
            platforms: p
                .platforms
                .iter()
                .flatten()
                .map(|p| Platform::new(&p.os, &p.architecture))
                .collect(),
        };
    }
    spec.networks = networks_from_docker(d.networks.as_deref().unwrap_or(&[]))?;
    Ok(spec)
}

/// Network attachments from Docker's (driver options are not modeled).
pub(crate) fn networks_from_docker(
    networks: &[DockerNetworkAttachment],
) -> Result<Vec<NetworkAttachmentConfig>, MappingError> {
    networks
        .iter()
        .map(|n| {
            require_default(
                "TaskTemplate.Networks.DriverOpts",
                n.driver_opts.as_ref(),
                &[],
            )?;
            Ok(NetworkAttachmentConfig {
                target: n.target.clone(),
                aliases: n.aliases.clone().unwrap_or_default(),
            })
        })
        .collect()
}

fn container_from_docker(c: &DockerContainerSpec) -> Result<ContainerSpec, MappingError> {
    let unmodeled: [(&str, &Option<Value>, &[&str]); 14] = [
        ("Init", &c.init, &[]),
        ("DNSConfig", &c.dns_config, &[]),
        ("Isolation", &c.isolation, &["default"]),
        ("TTY", &c.tty, &[]),
        ("OpenStdin", &c.open_stdin, &[]),
        ("ReadOnly", &c.read_only, &[]),
        ("Groups", &c.groups, &[]),
        ("Privileges", &c.privileges, &[]),
        ("Hosts", &c.hosts, &[]),
        ("Sysctls", &c.sysctls, &[]),
        ("CapabilityAdd", &c.capability_add, &[]),
        ("CapabilityDrop", &c.capability_drop, &[]),
        ("Ulimits", &c.ulimits, &[]),
        ("Duration", &c.duration, &[]),
    ];
    for (name, value, also) in unmodeled {
        require_default(&format!("{CS}.{name}"), value.as_ref(), also)?;
    }
    let mut spec = ContainerSpec {
        image: c.image.clone(),
        labels: c.labels.clone().unwrap_or_default(),
        command: c.command.clone().unwrap_or_default(),
        args: c.args.clone().unwrap_or_default(),
        env: c.env.clone().unwrap_or_default(),
        workdir: c.dir.clone().filter(|d| !d.is_empty()),
        user: c.user.clone().filter(|u| !u.is_empty()),
        hostname: c.hostname.clone().filter(|h| !h.is_empty()),
        stop_signal: c.stop_signal.clone().filter(|s| !s.is_empty()),
        ..ContainerSpec::default()
    };
    if let Some(g) = c.stop_grace_period {
        spec.stop_grace_period = duration(g);
    }
    for (i, m) in c.mounts.iter().flatten().enumerate() {
        let field = format!("{CS}.Mounts[{i}]");
        for (name, value) in [
            ("Consistency", &m.consistency),
            ("BindOptions", &m.bind_options),
            ("VolumeOptions", &m.volume_options),
            ("TmpfsOptions", &m.tmpfs_options),
        ] {
            require_default(&format!("{field}.{name}"), value.as_ref(), &["default"])?;
        }
        let kind = match m.r#type.as_str() {
            "bind" => MountType::Bind,
            "volume" => MountType::Volume,
            "tmpfs" => MountType::Tmpfs,
            other => {
                return Err(MappingError::invalid(
                    &format!("{field}.Type"),
                    format!("mount type {other:?} is not supported: bind, volume or tmpfs"),
                ));
            }
        };
        spec.mounts.push(Mount {
            kind,
            source: m.source.clone(),
            target: m.target.clone(),
            read_only: m.read_only,
        });
    }
    if let Some(h) = &c.healthcheck {
        require_default(
            &format!("{CS}.Healthcheck.StartInterval"),
            h.start_interval.as_ref(),
            &[],
        )?;
        let d = HealthCheck::default();
        spec.healthcheck = Some(HealthCheck {
            test: h.test.clone(),
            interval: nonzero(h.interval, d.interval),
            timeout: nonzero(h.timeout, d.timeout),
            retries: if h.retries == 0 { d.retries } else { h.retries },
            start_period: duration(h.start_period),
        });
    }
    for s in c.secrets.iter().flatten() {
        spec.secrets.push(SecretReference {
            secret_id: SecretId::new(&s.secret_id),
            secret_name: s.secret_name.clone(),
            target: file_from_docker(s.file.as_ref(), &s.secret_name),
        });
    }
    for (i, r) in c.configs.iter().flatten().enumerate() {
        require_default(
            &format!("{CS}.Configs[{i}].Runtime"),
            r.runtime.as_ref(),
            &[],
        )?;
        spec.configs.push(ConfigReference {
            config_id: ConfigId::new(&r.config_id),
            config_name: r.config_name.clone(),
            target: file_from_docker(r.file.as_ref(), &r.config_name),
        });
    }
    Ok(spec)
}

fn nonzero(n: i64, default: std::time::Duration) -> std::time::Duration {
    if n == 0 { default } else { duration(n) }
}

fn file_from_docker(f: Option<&DockerFile>, name: &str) -> FileTarget {
    match f {
        Some(f) => FileTarget {
            name: if f.name.is_empty() {
                name.to_owned()
            } else {
                f.name.clone()
            },
            uid: f.uid.clone(),
            gid: f.gid.clone(),
            mode: f.mode,
        },
        None => FileTarget::new(name),
    }
}

fn amount_from_docker(
    field: &str,
    a: Option<&DockerResourceAmount>,
) -> Result<Option<Resources>, MappingError> {
    let Some(a) = a else { return Ok(None) };
    require_default(&format!("{field}.Pids"), a.pids.as_ref(), &[])?;
    let mut generic = Vec::new();
    for g in a.generic_resources.iter().flatten() {
        if let Some(n) = &g.named_resource_spec {
            generic.push(GenericResource::Named {
                kind: n.kind.clone(),
                value: n.value.clone(),
            });
        }
        if let Some(d) = &g.discrete_resource_spec {
            generic.push(GenericResource::Discrete {
                kind: d.kind.clone(),
                value: d.value,
            });
        }
    }
    let r = Resources {
        nano_cpus: a.nano_cpus,
        memory_bytes: a.memory_bytes,
        generic,
    };
    Ok((r != Resources::default()).then_some(r))
}

fn amount_to_docker(r: Option<&Resources>) -> DockerResourceAmount {
    let Some(r) = r else {
        return DockerResourceAmount::default();
    };
    let generic: Vec<DockerGenericResource> = r
        .generic
        .iter()
        .map(|g| match g {
            GenericResource::Named { kind, value } => DockerGenericResource {
                named_resource_spec: Some(DockerKindValue {
                    kind: kind.clone(),
                    value: value.clone(),
                }),
                discrete_resource_spec: None,
            },
            GenericResource::Discrete { kind, value } => DockerGenericResource {
                named_resource_spec: None,
                discrete_resource_spec: Some(DockerKindValue {
                    kind: kind.clone(),
                    value: *value,
                }),
            },
        })
        .collect();
    DockerResourceAmount {
        nano_cpus: r.nano_cpus,
        memory_bytes: r.memory_bytes,
        generic_resources: (!generic.is_empty()).then_some(generic),
        pids: None,
    }
}

fn some_vec<T: Clone>(v: &[T]) -> Option<Vec<T>> {
    (!v.is_empty()).then(|| v.to_vec())
}

fn file_to_docker(f: &FileTarget) -> DockerFile {
    DockerFile {
        name: f.name.clone(),
        uid: f.uid.clone(),
        gid: f.gid.clone(),
        mode: f.mode,
    }
}

/// Docker's task spec from the model's; the defaults Docker writes for fields the model
/// does not hold (`Init: false`, `DNSConfig: {}`, `Isolation: "default"`) are written too,
/// as dockerd does.
pub(crate) fn to_docker(spec: &TaskSpec) -> DockerTaskSpec {
    let c = &spec.container;
    let container = DockerContainerSpec {
        image: c.image.clone(),
        labels: (!c.labels.is_empty()).then(|| c.labels.clone()),
        command: some_vec(&c.command),
        args: some_vec(&c.args),
        hostname: c.hostname.clone(),
        env: some_vec(&c.env),
        dir: c.workdir.clone(),
        user: c.user.clone(),
        mounts: (!c.mounts.is_empty()).then(|| {
            c.mounts
                .iter()
                .map(|m| DockerMount {
                    r#type: match m.kind {
                        MountType::Bind => "bind",
                        MountType::Volume => "volume",
                        MountType::Tmpfs => "tmpfs",
                    }
                    .to_owned(),
                    source: m.source.clone(),
                    target: m.target.clone(),
                    read_only: m.read_only,
                    ..DockerMount::default()
                })
                .collect()
        }),
        stop_signal: c.stop_signal.clone(),
        stop_grace_period: Some(nanos(c.stop_grace_period)),
        healthcheck: c.healthcheck.as_ref().map(|h| DockerHealthCheck {
            test: h.test.clone(),
            interval: nanos(h.interval),
            timeout: nanos(h.timeout),
            retries: h.retries,
            start_period: nanos(h.start_period),
            start_interval: None,
        }),
        secrets: (!c.secrets.is_empty()).then(|| {
            c.secrets
                .iter()
                .map(|s| DockerSecretReference {
                    file: Some(file_to_docker(&s.target)),
                    secret_id: s.secret_id.to_string(),
                    secret_name: s.secret_name.clone(),
                })
                .collect()
        }),
        configs: (!c.configs.is_empty()).then(|| {
            c.configs
                .iter()
                .map(|r| DockerConfigReference {
                    file: Some(file_to_docker(&r.target)),
                    runtime: None,
                    config_id: r.config_id.to_string(),
                    config_name: r.config_name.clone(),
                })
                .collect()
        }),
        init: Some(Value::Bool(false)),
        dns_config: Some(Value::Object(serde_json::Map::new())),
        isolation: Some(Value::String("default".into())),
        ..DockerContainerSpec::default()
    };
    let p = &spec.placement;
    let placement = DockerPlacement {
        constraints: some_vec(&p.constraints),
        preferences: (!p.preferences.is_empty()).then(|| {
            p.preferences
                .iter()
                .map(
                    |PlacementPreference::Spread { spread_descriptor }| DockerPreference {
                        spread: DockerSpread {
                            spread_descriptor: spread_descriptor.clone(),
                        },
                    },
                )
                .collect()
        }),
        max_replicas: p.max_replicas,
        platforms: (!p.platforms.is_empty()).then(|| {
            p.platforms
                .iter()
                .map(|p| DockerPlatform {
                    architecture: p.architecture.clone(),
                    os: p.os.clone(),
                })
                .collect()
        }),
    };
    let r = &spec.restart_policy;
    DockerTaskSpec {
        container_spec: Some(container),
        resources: Some(DockerResources {
            limits: Some(amount_to_docker(spec.resources.limits.as_ref())),
            reservations: Some(amount_to_docker(spec.resources.reservations.as_ref())),
        }),
        restart_policy: Some(DockerRestartPolicy {
            condition: Some(r.condition.to_string()),
            delay: Some(nanos(r.delay)),
            max_attempts: Some(r.max_attempts),
            window: Some(nanos(r.window)),
        }),
        placement: Some(placement),
        networks: (!spec.networks.is_empty()).then(|| {
            spec.networks
                .iter()
                .map(|n| DockerNetworkAttachment {
                    target: n.target.clone(),
                    aliases: some_vec(&n.aliases),
                    driver_opts: None,
                })
                .collect()
        }),
        force_update: spec.force_update,
        ..DockerTaskSpec::default()
    }
}
