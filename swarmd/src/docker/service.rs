//! Services: the spec of `POST /services/create` and `/services/{id}/update`, and the service
//! document of `GET /services`.

use crate::docker::mapping_error::MappingError;
use crate::docker::meta::object;
use crate::docker::task_spec::{self, DockerNetworkAttachment, DockerTaskSpec};
use crate::docker::time_text::{duration, nanos, rfc3339};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use swarm_core::model::{
    EndpointSpec, FailureAction, PortConfig, Protocol, PublishMode, ResolutionMode, Service,
    ServiceMode, ServiceSpec, UpdateConfig, UpdateOrder,
};

/// Docker's `ServiceSpec`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerServiceSpec {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) task_template: DockerTaskSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mode: Option<DockerMode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) update_config: Option<DockerUpdateConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) rollback_config: Option<DockerUpdateConfig>,
    /// Deprecated place of the task networks: moved into the task template, as dockerd does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) networks: Option<Vec<DockerNetworkAttachment>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) endpoint_spec: Option<DockerEndpointSpec>,
}

/// Docker's `ServiceMode`: exactly one of the four.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerMode {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) replicated: Option<DockerReplicated>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) global: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) replicated_job: Option<DockerReplicatedJob>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) global_job: Option<Value>,
}

/// `{"Replicas": n}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerReplicated {
    #[serde(default)]
    pub(crate) replicas: Option<u64>,
}

/// `{"MaxConcurrent": n, "TotalCompletions": m}`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerReplicatedJob {
    #[serde(default)]
    pub(crate) max_concurrent: Option<u64>,
    #[serde(default)]
    pub(crate) total_completions: Option<u64>,
}

/// Docker's `UpdateConfig` (also the rollback config).
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerUpdateConfig {
    #[serde(default)]
    pub(crate) parallelism: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) delay: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) failure_action: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) monitor: Option<i64>,
    #[serde(default)]
    pub(crate) max_failure_ratio: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) order: Option<String>,
}

/// Docker's `EndpointSpec`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerEndpointSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ports: Option<Vec<DockerPort>>,
}

/// Docker's `PortConfig`.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerPort {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) protocol: String,
    #[serde(default)]
    pub(crate) target_port: u32,
    #[serde(default)]
    pub(crate) published_port: u32,
    #[serde(default)]
    pub(crate) publish_mode: String,
}

/// The model's service spec from Docker's.
pub(crate) fn spec_from_docker(d: DockerServiceSpec) -> Result<ServiceSpec, MappingError> {
    let mut task_template = task_spec::from_docker(&d.task_template)?;
    if let Some(nets) = &d.networks {
        if !task_template.networks.is_empty() && !nets.is_empty() {
            return Err(MappingError::invalid(
                "Networks",
                "networks given both in Networks and TaskTemplate.Networks",
            ));
        }
        if task_template.networks.is_empty() {
            task_template.networks = task_spec::networks_from_docker(nets)?;
        }
    }
    Ok(ServiceSpec {
        name: d.name,
        labels: d.labels.unwrap_or_default(),
        task_template,
        mode: mode_from_docker(d.mode.as_ref())?,
        update_config: d
            .update_config
            .as_ref()
            .map(|u| update_from_docker("UpdateConfig", u))
            .transpose()?,
        rollback_config: d
            .rollback_config
            .as_ref()
            .map(|u| update_from_docker("RollbackConfig", u))
            .transpose()?,
        endpoint_spec: d
            .endpoint_spec
            .as_ref()
            .map(endpoint_from_docker)
            .transpose()?,
    })
}

fn mode_from_docker(m: Option<&DockerMode>) -> Result<ServiceMode, MappingError> {
    let Some(m) = m else {
        return Ok(ServiceMode::default());
    };
    let given = [
        m.replicated.is_some(),
        m.global.is_some(),
        m.replicated_job.is_some(),
        m.global_job.is_some(),
    ];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(MappingError::invalid("Mode", "more than one mode given"));
    }
    Ok(if let Some(r) = &m.replicated {
        ServiceMode::Replicated {
            replicas: r.replicas.unwrap_or(1),
        }
    } else if m.global.is_some() {
        ServiceMode::Global
    } else if let Some(j) = &m.replicated_job {
        ServiceMode::ReplicatedJob {
            max_concurrent: j.max_concurrent.unwrap_or(1),
            total_completions: j.total_completions.unwrap_or(1),
        }
    } else if m.global_job.is_some() {
        ServiceMode::GlobalJob
    } else {
        ServiceMode::default()
    })
}

fn update_from_docker(field: &str, u: &DockerUpdateConfig) -> Result<UpdateConfig, MappingError> {
    let d = UpdateConfig::default();
    Ok(UpdateConfig {
        parallelism: u.parallelism,
        delay: u.delay.map(duration).unwrap_or(d.delay),
        failure_action: match u.failure_action.as_deref() {
            None | Some("" | "pause") => FailureAction::Pause,
            Some("continue") => FailureAction::Continue,
            Some("rollback") => FailureAction::Rollback,
            Some(other) => {
                return Err(MappingError::invalid(
                    &format!("{field}.FailureAction"),
                    format!("invalid failure action {other:?}: pause, continue or rollback"),
                ));
            }
        },
        monitor: match u.monitor {
            None | Some(0) => d.monitor,
            Some(n) => duration(n),
        },
        max_failure_ratio: u.max_failure_ratio,
        order: match u.order.as_deref() {
            None | Some("" | "stop-first") => UpdateOrder::StopFirst,
            Some("start-first") => UpdateOrder::StartFirst,
            Some(other) => {
                return Err(MappingError::invalid(
                    &format!("{field}.Order"),
                    format!("invalid order {other:?}: stop-first or start-first"),
                ));
            }
        },
    })
}

fn endpoint_from_docker(e: &DockerEndpointSpec) -> Result<EndpointSpec, MappingError> {
    let mode = match e.mode.as_deref() {
        None | Some("" | "vip") => ResolutionMode::Vip,
        Some("dnsrr") => ResolutionMode::Dnsrr,
        Some(other) => {
            return Err(MappingError::invalid(
                "EndpointSpec.Mode",
                format!("invalid mode {other:?}: vip or dnsrr"),
            ));
        }
    };
    let mut ports = Vec::new();
    for (i, p) in e.ports.iter().flatten().enumerate() {
        ports.push(PortConfig {
            name: p.name.clone(),
            protocol: match p.protocol.as_str() {
                "" | "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                "sctp" => Protocol::Sctp,
                other => {
                    return Err(MappingError::invalid(
                        &format!("EndpointSpec.Ports[{i}].Protocol"),
                        format!("invalid protocol {other:?}"),
                    ));
                }
            },
            target_port: p.target_port,
            published_port: p.published_port,
            publish_mode: match p.publish_mode.as_str() {
                "" | "ingress" => PublishMode::Ingress,
                "host" => PublishMode::Host,
                other => {
                    return Err(MappingError::invalid(
                        &format!("EndpointSpec.Ports[{i}].PublishMode"),
                        format!("invalid publish mode {other:?}"),
                    ));
                }
            },
        });
    }
    Ok(EndpointSpec { mode, ports })
}

fn ports_to_docker(ports: &[PortConfig]) -> Option<Vec<DockerPort>> {
    (!ports.is_empty()).then(|| {
        ports
            .iter()
            .map(|p| DockerPort {
                name: p.name.clone(),
                protocol: p.protocol.to_string(),
                target_port: p.target_port,
                published_port: p.published_port,
                publish_mode: p.publish_mode.to_string(),
            })
            .collect()
    })
}

fn endpoint_to_docker(e: &EndpointSpec) -> DockerEndpointSpec {
    DockerEndpointSpec {
        mode: Some(e.mode.to_string()),
        ports: ports_to_docker(&e.ports),
    }
}

fn update_to_docker(u: &UpdateConfig) -> DockerUpdateConfig {
    DockerUpdateConfig {
        parallelism: u.parallelism,
        delay: Some(nanos(u.delay)),
        failure_action: Some(u.failure_action.to_string()),
        monitor: Some(nanos(u.monitor)),
        max_failure_ratio: u.max_failure_ratio,
        order: Some(u.order.to_string()),
    }
}

/// Docker's spec from the model's.
pub(crate) fn spec_to_docker(s: &ServiceSpec) -> DockerServiceSpec {
    let mode = match s.mode {
        ServiceMode::Replicated { replicas } => DockerMode {
            replicated: Some(DockerReplicated {
                replicas: Some(replicas),
            }),
            ..DockerMode::default()
        },
        ServiceMode::Global => DockerMode {
            global: Some(json!({})),
            ..DockerMode::default()
        },
        ServiceMode::ReplicatedJob {
            max_concurrent,
            total_completions,
        } => DockerMode {
            replicated_job: Some(DockerReplicatedJob {
                max_concurrent: Some(max_concurrent),
                total_completions: Some(total_completions),
            }),
            ..DockerMode::default()
        },
        ServiceMode::GlobalJob => DockerMode {
            global_job: Some(json!({})),
            ..DockerMode::default()
        },
    };
    DockerServiceSpec {
        name: s.name.clone(),
        labels: Some(s.labels.clone()),
        task_template: task_spec::to_docker(&s.task_template),
        mode: Some(mode),
        update_config: s.update_config.as_ref().map(update_to_docker),
        rollback_config: s.rollback_config.as_ref().map(update_to_docker),
        networks: None,
        endpoint_spec: Some(endpoint_to_docker(
            &s.endpoint_spec.clone().unwrap_or_default(),
        )),
    }
}

/// Running, desired and completed task counts (`GET /services?status=true`).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct ServiceStatus {
    pub(crate) running: u64,
    pub(crate) desired: u64,
    pub(crate) completed: u64,
}

/// A service as `GET /services/{id}` answers.
pub(crate) fn to_docker(s: &Service, status: Option<ServiceStatus>) -> Value {
    let mut rest = vec![("Spec", json!(spec_to_docker(&s.spec)))];
    if let Some(p) = &s.previous_spec {
        rest.push(("PreviousSpec", json!(spec_to_docker(p))));
    }
    let endpoint = match &s.endpoint {
        Some(e) => {
            let mut v = json!({ "Spec": endpoint_to_docker(&e.spec) });
            if let Some(ports) = ports_to_docker(&e.ports) {
                v["Ports"] = json!(ports);
            }
            if !e.virtual_ips.is_empty() {
                v["VirtualIPs"] = e
                    .virtual_ips
                    .iter()
                    .map(|ip| json!({ "NetworkID": ip.network_id.as_str(), "Addr": ip.addr }))
                    .collect();
            }
            v
        }
        None => json!({ "Spec": {} }),
    };
    rest.push(("Endpoint", endpoint));
    if let Some(u) = &s.update_status {
        let mut v = json!({
            "State": u.state.to_string(),
            "StartedAt": rfc3339(u.started_at),
            "Message": u.message,
        });
        if let Some(c) = u.completed_at {
            v["CompletedAt"] = rfc3339(c).into();
        }
        rest.push(("UpdateStatus", v));
    }
    if let Some(st) = status {
        rest.push((
            "ServiceStatus",
            json!({
                "RunningTasks": st.running,
                "DesiredTasks": st.desired,
                "CompletedTasks": st.completed,
            }),
        ));
    }
    if let Some(j) = &s.job_status {
        let mut v = json!({ "JobIteration": { "Index": j.job_iteration.index() } });
        if let Some(t) = j.last_execution {
            v["LastExecution"] = rfc3339(t).into();
        }
        rest.push(("JobStatus", v));
    }
    object(s.id.as_str(), &s.meta, rest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use swarm_core::model::{ConfigId, SecretId};

    /// The body of the recorded `docker service create` (fixtures docker-28.2/10-service-create.http).
    const RECORDED_CREATE: &str = r#"{"Name":"web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"swarm-test-busybox:latest","Args":["sh","-c","trap \"exit 0\" TERM; while true; do sleep 1; done"],"Init":false,"DNSConfig":{},"Secrets":[{"File":{"Name":"db-password","UID":"0","GID":"0","Mode":292},"SecretID":"0avi6f0jemxisxjo2w8j5rey4","SecretName":"db-password"}],"Configs":[{"File":{"Name":"/etc/app.yml","UID":"0","GID":"0","Mode":292},"ConfigID":"syq026lt0fhgm0lupu61noq8y","ConfigName":"app-config"}]},"Resources":{"Limits":{},"Reservations":{}},"Placement":{"Constraints":["node.role==manager"]},"Networks":[{"Target":"v7yxdaqzpg7pmnce4tk6fbnqm"}],"ForceUpdate":0},"Mode":{"Replicated":{"Replicas":3}},"UpdateConfig":{"Parallelism":1,"Delay":1000000000,"FailureAction":"pause","Monitor":5000000000,"MaxFailureRatio":0,"Order":"stop-first"},"EndpointSpec":{"Mode":"vip"}}"#;

    /// The spec of the recorded `service update` post-back, with the fields dockerd added
    /// (`Isolation`, `Runtime`) and `Env` (fixtures docker-28.2/16-service-rollback.http).
    const RECORDED_UPDATE: &str = r#"{"Name":"web","Labels":{},"TaskTemplate":{"ContainerSpec":{"Image":"swarm-test-busybox:latest","Args":["sh","-c","x"],"Env":["VERSION=2"],"Init":false,"DNSConfig":{},"Isolation":"default"},"Resources":{"Limits":{},"Reservations":{}},"Placement":{"Constraints":["node.role==manager"]},"Networks":[{"Target":"v7yxdaqzpg7pmnce4tk6fbnqm"}],"ForceUpdate":0,"Runtime":"container"},"Mode":{"Replicated":{"Replicas":5}},"UpdateConfig":{"Parallelism":1,"Delay":1000000000,"FailureAction":"pause","Monitor":5000000000,"MaxFailureRatio":0,"Order":"start-first"},"EndpointSpec":{"Mode":"vip"}}"#;

    fn parse(body: &str) -> ServiceSpec {
        spec_from_docker(serde_json::from_str(body).unwrap()).unwrap()
    }

    #[test]
    fn recorded_create_maps_field_by_field() {
        let s = parse(RECORDED_CREATE);
        assert_eq!(s.name, "web");
        assert!(s.labels.is_empty());
        let c = &s.task_template.container;
        assert_eq!(c.image, "swarm-test-busybox:latest");
        assert!(c.command.is_empty());
        assert_eq!(c.args[0], "sh");
        assert_eq!(
            c.args[2],
            "trap \"exit 0\" TERM; while true; do sleep 1; done"
        );
        assert_eq!(c.secrets.len(), 1);
        assert_eq!(
            c.secrets[0].secret_id,
            SecretId::new("0avi6f0jemxisxjo2w8j5rey4")
        );
        assert_eq!(c.secrets[0].secret_name, "db-password");
        assert_eq!(c.secrets[0].target.name, "db-password");
        assert_eq!(c.secrets[0].target.mode, 0o444);
        assert_eq!(
            c.configs[0].config_id,
            ConfigId::new("syq026lt0fhgm0lupu61noq8y")
        );
        assert_eq!(c.configs[0].target.name, "/etc/app.yml");
        assert_eq!(s.task_template.resources.limits, None);
        assert_eq!(s.task_template.resources.reservations, None);
        assert_eq!(
            s.task_template.placement.constraints,
            ["node.role==manager".to_owned()]
        );
        assert_eq!(
            s.task_template.networks[0].target,
            "v7yxdaqzpg7pmnce4tk6fbnqm"
        );
        assert_eq!(s.mode, ServiceMode::Replicated { replicas: 3 });
        let u = s.update_config.clone().unwrap();
        assert_eq!(u.parallelism, 1);
        assert_eq!(u.delay, Duration::from_secs(1));
        assert_eq!(u.monitor, Duration::from_secs(5));
        assert_eq!(u.failure_action, FailureAction::Pause);
        assert_eq!(u.order, UpdateOrder::StopFirst);
        assert_eq!(s.endpoint_spec.unwrap().mode, ResolutionMode::Vip);
    }

    #[test]
    fn recorded_update_post_back_is_accepted() {
        let s = parse(RECORDED_UPDATE);
        assert_eq!(s.task_template.container.env, ["VERSION=2".to_owned()]);
        assert_eq!(s.mode, ServiceMode::Replicated { replicas: 5 });
        assert_eq!(s.update_config.unwrap().order, UpdateOrder::StartFirst);
    }

    #[test]
    fn what_we_write_reads_back_to_the_same_spec() {
        for body in [RECORDED_CREATE, RECORDED_UPDATE] {
            let s = parse(body);
            let written = serde_json::to_string(&spec_to_docker(&s)).unwrap();
            assert_eq!(parse(&written), s, "{written}");
            let v: Value = serde_json::from_str(&written).unwrap();
            assert_eq!(v["TaskTemplate"]["ContainerSpec"]["Init"], false);
            assert_eq!(v["TaskTemplate"]["ContainerSpec"]["Isolation"], "default");
            assert_eq!(v["Mode"]["Replicated"]["Replicas"], s.mode_replicas());
            assert_eq!(v["EndpointSpec"]["Mode"], "vip");
        }
    }

    trait Replicas {
        fn mode_replicas(&self) -> u64;
    }
    impl Replicas for ServiceSpec {
        fn mode_replicas(&self) -> u64 {
            match self.mode {
                ServiceMode::Replicated { replicas } => replicas,
                _ => 0,
            }
        }
    }

    #[test]
    fn settings_the_model_lacks_are_refused_by_name() {
        let body = RECORDED_CREATE.replace(r#""Init":false"#, r#""Init":true"#);
        let e = spec_from_docker(serde_json::from_str(&body).unwrap()).unwrap_err();
        assert!(
            e.to_string().contains("TaskTemplate.ContainerSpec.Init"),
            "{e}"
        );
        let body = RECORDED_CREATE.replace(r#""Init":false"#, r#""Hosts":["10.0.0.1 db"]"#);
        let e = spec_from_docker(serde_json::from_str(&body).unwrap()).unwrap_err();
        assert!(e.to_string().contains("Hosts"), "{e}");
        let body = RECORDED_CREATE.replace(r#""Init":false"#, r#""Bogus":1"#);
        let e = serde_json::from_str::<DockerServiceSpec>(&body).unwrap_err();
        assert!(e.to_string().contains("Bogus"), "{e}");
    }
}
