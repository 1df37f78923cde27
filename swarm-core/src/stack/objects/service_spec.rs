//! One compose service to a [`ServiceSpec`], as docker's `convert.Service`.

use crate::model::{
    ConfigReference, DEFAULT_STOP_GRACE_PERIOD, EndpointSpec, FileTarget, HealthCheck, Mount,
    MountType, NetworkAttachmentConfig, PlacementPreference, ResolutionMode, ResourceRequirements,
    Resources, RestartPolicy, SecretReference, ServiceMode, ServiceSpec, UpdateConfig,
};
use crate::stack::compose::deploy::ComposeDeployMode;
use crate::stack::compose::file_object::ComposeFileObject;
use crate::stack::compose::file_reference::ComposeFileReference;
use crate::stack::compose::healthcheck::ComposeHealthcheck;
use crate::stack::compose::origin::Origin;
use crate::stack::compose::project::ComposeProject;
use crate::stack::compose::resources::ComposeResourceAmounts;
use crate::stack::compose::restart_policy::ComposeRestartPolicy;
use crate::stack::compose::service::ComposeService;
use crate::stack::compose::service_volume::ComposeVolumeType;
use crate::stack::compose::update_config::ComposeUpdateConfig;
use crate::stack::error::StackError;
use crate::stack::objects::external_refs::ExternalRefs;
use crate::stack::objects::labels::{IMAGE_LABEL, is_user_defined_network, scoped, with_namespace};
use std::collections::BTreeMap;

/// The network key a service without `networks:` joins, created as `<stack>_default`.
pub(crate) const DEFAULT_NETWORK: &str = "default";

fn invalid(origin: &Origin, message: String) -> StackError {
    StackError::Invalid {
        file: origin.file.clone(),
        field: origin.field.clone(),
        message,
    }
}

/// Converts services of one project into specs for `stack`, noting external references.
pub(crate) struct ServiceConverter<'a> {
    pub(crate) project: &'a ComposeProject,
    pub(crate) stack: &'a str,
    pub(crate) external: &'a mut ExternalRefs,
}

fn file_target(r: &ComposeFileReference) -> FileTarget {
    FileTarget {
        name: r.target.clone().unwrap_or_else(|| r.source.clone()),
        uid: r.uid.clone().unwrap_or_else(|| "0".to_owned()),
        gid: r.gid.clone().unwrap_or_else(|| "0".to_owned()),
        mode: r.mode.unwrap_or(0o444),
    }
}

fn resources(a: &ComposeResourceAmounts) -> Resources {
    Resources {
        nano_cpus: a.nano_cpus.unwrap_or(0),
        memory_bytes: a.memory_bytes.unwrap_or(0),
        generic: a.generic.clone(),
    }
}

fn restart_policy(p: &ComposeRestartPolicy) -> RestartPolicy {
    let d = RestartPolicy::default();
    RestartPolicy {
        condition: p.condition.unwrap_or(d.condition),
        delay: p.delay.unwrap_or(d.delay),
        max_attempts: p.max_attempts.unwrap_or(d.max_attempts),
        window: p.window.unwrap_or(d.window),
    }
}

fn update_config(u: &ComposeUpdateConfig) -> UpdateConfig {
    let d = UpdateConfig::default();
    UpdateConfig {
        parallelism: u.parallelism.unwrap_or(d.parallelism),
        delay: u.delay.unwrap_or(d.delay),
        failure_action: u.failure_action.unwrap_or(d.failure_action),
        monitor: u.monitor.unwrap_or(d.monitor),
        max_failure_ratio: u.max_failure_ratio.unwrap_or(d.max_failure_ratio),
        order: u.order.unwrap_or(d.order),
    }
}

fn environment(env: &BTreeMap<String, Option<String>>) -> Vec<String> {
    // A BTreeMap iterates in key order; docker sorts the `KEY=value` strings, which orders
    // them the same way unless a key is a prefix of another followed by a character below '='.
    let mut out: Vec<String> = env
        .iter()
        .map(|(k, v)| match v {
            Some(v) => format!("{k}={v}"),
            None => k.clone(),
        })
        .collect();
    out.sort();
    out
}

impl ServiceConverter<'_> {
    fn service_field(&self, s: &ComposeService, field: &str) -> Origin {
        Origin::new(
            s.defined_in.join(", "),
            format!("services.{}.{field}", s.name),
        )
    }

    fn healthcheck(
        &self,
        s: &ComposeService,
        h: &ComposeHealthcheck,
    ) -> Result<HealthCheck, StackError> {
        let d = HealthCheck::default();
        if h.disable == Some(true) {
            if h.test.as_ref().is_some_and(|t| !t.is_empty()) {
                return Err(invalid(
                    &self.service_field(s, "healthcheck"),
                    "test and disable can't be set at the same time".to_owned(),
                ));
            }
            return Ok(HealthCheck {
                test: vec!["NONE".to_owned()],
                ..d
            });
        }
        let retries = match h.retries {
            Some(r) => u32::try_from(r).map_err(|_| {
                invalid(
                    &self.service_field(s, "healthcheck.retries"),
                    format!("{r} retries is too many"),
                )
            })?,
            None => d.retries,
        };
        Ok(HealthCheck {
            test: h.test.clone().unwrap_or_default(),
            interval: h.interval.unwrap_or(d.interval),
            timeout: h.timeout.unwrap_or(d.timeout),
            retries,
            start_period: h.start_period.unwrap_or(d.start_period),
        })
    }

    fn mode(&self, s: &ComposeService) -> Result<ServiceMode, StackError> {
        let replicas = s.deploy.replicas;
        let no_replicas = || {
            invalid(
                &self.service_field(s, "deploy.replicas"),
                "replicas can only be used with replicated or replicated-job mode".to_owned(),
            )
        };
        Ok(
            match s.deploy.mode.unwrap_or(ComposeDeployMode::Replicated) {
                ComposeDeployMode::Replicated => ServiceMode::Replicated {
                    replicas: replicas.unwrap_or(1),
                },
                ComposeDeployMode::ReplicatedJob => ServiceMode::ReplicatedJob {
                    max_concurrent: replicas.unwrap_or(1),
                    total_completions: replicas.unwrap_or(1),
                },
                ComposeDeployMode::Global if replicas.is_some() => return Err(no_replicas()),
                ComposeDeployMode::Global => ServiceMode::Global,
                ComposeDeployMode::GlobalJob if replicas.is_some() => return Err(no_replicas()),
                ComposeDeployMode::GlobalJob => ServiceMode::GlobalJob,
            },
        )
    }

    /// The cluster name of the secret or config `r` names, noting it when external.
    fn file_object_name(
        &mut self,
        service: &str,
        r: &ComposeFileReference,
        declared: &BTreeMap<String, ComposeFileObject>,
        kind: &str,
    ) -> Result<String, StackError> {
        let decl = declared
            .get(&r.source)
            .ok_or_else(|| invalid(&r.origin, format!("undefined {kind} {:?}", r.source)))?;
        let name = decl
            .name
            .clone()
            .unwrap_or_else(|| scoped(self.stack, &r.source));
        if decl.external {
            let refs = if kind == "secret" {
                &mut self.external.secrets
            } else {
                &mut self.external.configs
            };
            refs.entry(name.clone())
                .or_default()
                .insert(service.to_owned());
        }
        Ok(name)
    }

    fn networks(&mut self, s: &ComposeService) -> Result<Vec<NetworkAttachmentConfig>, StackError> {
        let default_only = [(DEFAULT_NETWORK.to_owned(), None)];
        let attachments: Vec<(String, Option<&crate::stack::ComposeServiceNetwork>)> =
            if s.networks.is_empty() {
                default_only.to_vec()
            } else {
                s.networks
                    .iter()
                    .map(|(k, a)| (k.clone(), Some(a)))
                    .collect()
            };
        let mut out = Vec::new();
        for (key, attachment) in attachments {
            let decl = self.project.networks.get(&key);
            if decl.is_none() && key != DEFAULT_NETWORK {
                let origin = attachment.map(|a| a.origin.clone()).unwrap_or_default();
                return Err(invalid(&origin, format!("undefined network {key:?}")));
            }
            let target = decl
                .and_then(|d| d.name.clone())
                .unwrap_or_else(|| scoped(self.stack, &key));
            let user_defined = is_user_defined_network(&target);
            if decl.is_some_and(|d| d.external) && user_defined {
                self.external
                    .networks
                    .entry(target.clone())
                    .or_default()
                    .insert(s.name.clone());
            }
            let mut aliases = attachment.map(|a| a.aliases.clone()).unwrap_or_default();
            if user_defined {
                aliases.push(s.name.clone());
            }
            out.push(NetworkAttachmentConfig { target, aliases });
        }
        out.sort_by(|a, b| a.target.cmp(&b.target));
        Ok(out)
    }

    fn mounts(&self, s: &ComposeService) -> Result<Vec<Mount>, StackError> {
        let mut out = Vec::new();
        for v in &s.volumes {
            let (kind, source) = match v.kind {
                ComposeVolumeType::Volume if v.source.is_empty() => {
                    (MountType::Volume, String::new())
                }
                ComposeVolumeType::Volume => {
                    let decl = self.project.volumes.get(&v.source).ok_or_else(|| {
                        invalid(&v.origin, format!("undefined volume {:?}", v.source))
                    })?;
                    let name = decl
                        .name
                        .clone()
                        .unwrap_or_else(|| scoped(self.stack, &v.source));
                    (MountType::Volume, name)
                }
                ComposeVolumeType::Bind => (MountType::Bind, v.source.clone()),
                ComposeVolumeType::Tmpfs => (MountType::Tmpfs, String::new()),
                // Noted as not supported when read.
                ComposeVolumeType::Npipe
                | ComposeVolumeType::Cluster
                | ComposeVolumeType::Image => continue,
            };
            out.push(Mount {
                kind,
                source,
                target: v.target.clone(),
                read_only: v.read_only,
            });
        }
        Ok(out)
    }

    /// The spec of service `s`.
    pub(crate) fn convert(&mut self, s: &ComposeService) -> Result<ServiceSpec, StackError> {
        let image = s.image.clone().filter(|i| !i.is_empty()).ok_or_else(|| {
            invalid(
                &self.service_field(s, "image"),
                "no image specified".to_owned(),
            )
        })?;
        let mut spec = ServiceSpec::new(scoped(self.stack, &s.name), image.clone());
        spec.labels = with_namespace(&s.deploy.labels, self.stack);
        spec.labels.insert(IMAGE_LABEL.to_owned(), image);

        let c = &mut spec.task_template.container;
        c.labels = with_namespace(&s.labels, self.stack);
        c.command = s.entrypoint.clone().unwrap_or_default();
        c.args = s.command.clone().unwrap_or_default();
        c.env = environment(&s.environment);
        c.workdir = s.working_dir.clone();
        c.user = s.user.clone();
        c.hostname = s.hostname.clone();
        c.stop_signal = s.stop_signal.clone();
        c.stop_grace_period = s.stop_grace_period.unwrap_or(DEFAULT_STOP_GRACE_PERIOD);
        let healthcheck = match &s.healthcheck {
            Some(h) => Some(self.healthcheck(s, h)?),
            None => None,
        };
        let mounts = self.mounts(s)?;
        let mut secrets = Vec::new();
        for r in &s.secrets {
            let name = self.file_object_name(&s.name, r, &self.project.secrets, "secret")?;
            secrets.push(SecretReference {
                secret_id: Default::default(),
                secret_name: name,
                target: file_target(r),
            });
        }
        secrets.sort_by(|a, b| a.secret_name.cmp(&b.secret_name));
        let mut configs = Vec::new();
        for r in &s.configs {
            let name = self.file_object_name(&s.name, r, &self.project.configs, "config")?;
            configs.push(ConfigReference {
                config_id: Default::default(),
                config_name: name,
                target: file_target(r),
            });
        }
        configs.sort_by(|a, b| a.config_name.cmp(&b.config_name));
        let networks = self.networks(s)?;
        let mode = self.mode(s)?;

        let c = &mut spec.task_template.container;
        c.healthcheck = healthcheck;
        c.mounts = mounts;
        c.secrets = secrets;
        c.configs = configs;

        let t = &mut spec.task_template;
        t.networks = networks;
        t.resources = ResourceRequirements {
            limits: s.deploy.resources.limits.as_ref().map(resources),
            reservations: s.deploy.resources.reservations.as_ref().map(resources),
        };
        t.restart_policy = s
            .deploy
            .restart_policy
            .as_ref()
            .or(s.restart.as_ref())
            .map(restart_policy)
            .unwrap_or_default();
        let placement = &s.deploy.placement;
        t.placement.constraints = placement.constraints.clone();
        t.placement.preferences = placement
            .preferences
            .iter()
            .map(|d| PlacementPreference::Spread {
                spread_descriptor: d.clone(),
            })
            .collect();
        t.placement.max_replicas = placement.max_replicas_per_node.unwrap_or(0);

        spec.mode = mode;
        spec.update_config = s.deploy.update_config.as_ref().map(update_config);
        spec.rollback_config = s.deploy.rollback_config.as_ref().map(update_config);
        if !s.ports.is_empty() || s.deploy.endpoint_mode.is_some() {
            let mut ports = s.ports.clone();
            ports.sort_by_key(|p| (p.published_port, p.target_port, p.protocol));
            spec.endpoint_spec = Some(EndpointSpec {
                mode: s.deploy.endpoint_mode.unwrap_or(ResolutionMode::Vip),
                ports,
            });
        }
        Ok(spec)
    }
}
