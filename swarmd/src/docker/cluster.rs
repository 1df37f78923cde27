//! The swarm: `POST /swarm/init`, `/swarm/join`, `/swarm/update` and the document of
//! `GET /swarm` (the cluster object, with the join tokens).
//!
//! Raft timings: the API speaks ticks; a tick is SwarmKit's one second
//! ([`RAFT_TICK`]), and 0 means "the default" (what `swarm init` sends).

use crate::docker::mapping_error::MappingError;
use crate::docker::meta::object;
use crate::docker::time_text::{duration, nanos};
use crate::docker::unmodeled::require_default;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;
use swarm_core::model::{Cluster, ClusterSpec, NodeAvailability};

/// The length of one Raft tick in the API's `ElectionTick` / `HeartbeatTick` (SwarmKit's).
pub(crate) const RAFT_TICK: Duration = Duration::from_secs(1);

/// Docker's `SwarmSpec`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerSwarmSpec {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) orchestration: Option<DockerOrchestration>,
    #[serde(default)]
    pub(crate) raft: Option<DockerRaft>,
    #[serde(default)]
    pub(crate) dispatcher: Option<DockerDispatcher>,
    #[serde(default, rename = "CAConfig")]
    pub(crate) ca_config: Option<DockerCaConfig>,
    #[serde(default)]
    pub(crate) task_defaults: Option<Value>,
    #[serde(default)]
    pub(crate) encryption_config: Option<DockerEncryption>,
}

/// `{"TaskHistoryRetentionLimit": n}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerOrchestration {
    #[serde(default)]
    pub(crate) task_history_retention_limit: Option<i64>,
}

/// Docker's `RaftConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerRaft {
    #[serde(default)]
    pub(crate) snapshot_interval: Option<u64>,
    #[serde(default)]
    pub(crate) keep_old_snapshots: Option<Value>,
    #[serde(default)]
    pub(crate) log_entries_for_slow_followers: Option<Value>,
    #[serde(default)]
    pub(crate) election_tick: u64,
    #[serde(default)]
    pub(crate) heartbeat_tick: u64,
}

/// `{"HeartbeatPeriod": ns}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerDispatcher {
    #[serde(default)]
    pub(crate) heartbeat_period: Option<i64>,
}

/// Docker's `CAConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerCaConfig {
    #[serde(default)]
    pub(crate) node_cert_expiry: Option<i64>,
    #[serde(default, rename = "ExternalCAs")]
    pub(crate) external_cas: Option<Value>,
    #[serde(default, rename = "SigningCACert")]
    pub(crate) signing_ca_cert: Option<Value>,
    #[serde(default, rename = "SigningCAKey")]
    pub(crate) signing_ca_key: Option<Value>,
    #[serde(default)]
    pub(crate) force_rotate: Option<Value>,
}

/// `{"AutoLockManagers": b}`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerEncryption {
    #[serde(default)]
    pub(crate) auto_lock_managers: bool,
}

/// Docker's `InitRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerInitRequest {
    #[serde(default)]
    pub(crate) listen_addr: String,
    #[serde(default)]
    pub(crate) advertise_addr: String,
    #[serde(default)]
    pub(crate) data_path_addr: Option<Value>,
    #[serde(default)]
    pub(crate) data_path_port: Option<u64>,
    #[serde(default)]
    pub(crate) force_new_cluster: bool,
    #[serde(default)]
    pub(crate) spec: DockerSwarmSpec,
    #[serde(default)]
    pub(crate) auto_lock_managers: bool,
    #[serde(default)]
    pub(crate) availability: String,
    #[serde(default)]
    pub(crate) default_addr_pool: Option<Value>,
    #[serde(default)]
    pub(crate) subnet_size: Option<u64>,
}

/// Docker's `UnlockRequest`. No `Debug`: the key is never printed; wiped when dropped.
#[derive(Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerUnlockRequest {
    #[serde(default)]
    pub(crate) unlock_key: String,
}

impl Drop for DockerUnlockRequest {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.unlock_key);
    }
}

/// Docker's `JoinRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerJoinRequest {
    #[serde(default)]
    pub(crate) listen_addr: String,
    #[serde(default)]
    pub(crate) advertise_addr: String,
    #[serde(default)]
    pub(crate) data_path_addr: Option<Value>,
    #[serde(default)]
    pub(crate) remote_addrs: Vec<String>,
    #[serde(default)]
    pub(crate) join_token: String,
    #[serde(default)]
    pub(crate) availability: String,
}

/// The availability of `swarm init` / `join` (`""` is active).
pub(crate) fn availability_from_docker(a: &str) -> Result<NodeAvailability, MappingError> {
    match a {
        "" | "active" => Ok(NodeAvailability::Active),
        "pause" => Ok(NodeAvailability::Pause),
        "drain" => Ok(NodeAvailability::Drain),
        other => Err(MappingError::invalid(
            "Availability",
            format!("invalid availability {other:?}"),
        )),
    }
}

/// The init request's fields the model lacks, at their defaults only.
pub(crate) fn check_init(r: &DockerInitRequest) -> Result<(), MappingError> {
    require_default("DataPathAddr", r.data_path_addr.as_ref(), &[])?;
    require_default("DefaultAddrPool", r.default_addr_pool.as_ref(), &[])?;
    if !matches!(r.data_path_port, None | Some(0) | Some(4789)) {
        return Err(MappingError::invalid(
            "DataPathPort",
            "not supported by swarmd (only the default 4789)",
        ));
    }
    if !matches!(r.subnet_size, None | Some(0) | Some(24)) {
        return Err(MappingError::invalid(
            "SubnetSize",
            "not supported by swarmd (only the default 24)",
        ));
    }
    Ok(())
}

/// The model's cluster spec from Docker's, over `base` (the defaults at init, the current
/// spec at update: a section the request leaves out keeps its value).
pub(crate) fn spec_from_docker(
    d: &DockerSwarmSpec,
    base: &ClusterSpec,
) -> Result<ClusterSpec, MappingError> {
    require_default("TaskDefaults", d.task_defaults.as_ref(), &[])?;
    let mut spec = base.clone();
    if !d.name.is_empty() {
        spec.name = d.name.clone();
    }
    if let Some(l) = &d.labels {
        spec.labels = l.clone();
    }
    if let Some(o) = &d.orchestration {
        if let Some(n) = o.task_history_retention_limit {
            spec.orchestration.task_history_retention_limit = u64::try_from(n).map_err(|_| {
                MappingError::invalid(
                    "Orchestration.TaskHistoryRetentionLimit",
                    "a negative limit (keep all) is not supported by swarmd",
                )
            })?;
        }
    }
    if let Some(r) = &d.raft {
        require_default("Raft.KeepOldSnapshots", r.keep_old_snapshots.as_ref(), &[])?;
        if let Some(v) = r.log_entries_for_slow_followers.as_ref() {
            if !(v.as_u64() == Some(500) || v.as_u64() == Some(0)) {
                return Err(MappingError::invalid(
                    "Raft.LogEntriesForSlowFollowers",
                    "not supported by swarmd (only the default 500)",
                ));
            }
        }
        if let Some(n) = r.snapshot_interval.filter(|n| *n > 0) {
            spec.raft.snapshot_interval_entries = n;
        }
        if r.election_tick > 0 {
            spec.raft.election_timeout = RAFT_TICK.saturating_mul(tick(r.election_tick));
        }
        if r.heartbeat_tick > 0 {
            spec.raft.heartbeat_interval = RAFT_TICK.saturating_mul(tick(r.heartbeat_tick));
        }
    }
    if let Some(p) = d.dispatcher.as_ref().and_then(|d| d.heartbeat_period) {
        if p > 0 {
            spec.dispatcher.heartbeat_period = duration(p);
        }
    }
    if let Some(c) = &d.ca_config {
        require_default("CAConfig.ExternalCAs", c.external_cas.as_ref(), &[])?;
        require_default("CAConfig.SigningCACert", c.signing_ca_cert.as_ref(), &[])?;
        require_default("CAConfig.SigningCAKey", c.signing_ca_key.as_ref(), &[])?;
        require_default("CAConfig.ForceRotate", c.force_rotate.as_ref(), &[])?;
        if let Some(e) = c.node_cert_expiry.filter(|e| *e > 0) {
            spec.ca_config.node_cert_expiry = duration(e);
        }
    }
    if let Some(e) = &d.encryption_config {
        spec.encryption.auto_lock_managers = e.auto_lock_managers;
    }
    Ok(spec)
}

fn tick(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn ticks(d: Duration) -> u64 {
    d.as_secs() / RAFT_TICK.as_secs().max(1)
}

/// Docker's `SwarmSpec` from the model's.
pub(crate) fn spec_to_docker(s: &ClusterSpec) -> Value {
    json!({
        "Name": s.name,
        "Labels": s.labels,
        "Orchestration": { "TaskHistoryRetentionLimit": s.orchestration.task_history_retention_limit },
        "Raft": {
            "SnapshotInterval": s.raft.snapshot_interval_entries,
            "KeepOldSnapshots": 0,
            "LogEntriesForSlowFollowers": 500,
            "ElectionTick": ticks(s.raft.election_timeout),
            "HeartbeatTick": ticks(s.raft.heartbeat_interval),
        },
        "Dispatcher": { "HeartbeatPeriod": nanos(s.dispatcher.heartbeat_period) },
        "CAConfig": { "NodeCertExpiry": nanos(s.ca_config.node_cert_expiry) },
        "TaskDefaults": {},
        "EncryptionConfig": { "AutoLockManagers": s.encryption.auto_lock_managers },
    })
}

/// The cluster as `GET /swarm` answers; the join tokens only when `with_tokens` (the
/// `Cluster` part of `/info` has none).
pub(crate) fn to_docker(c: &Cluster, with_tokens: bool) -> Value {
    let mut rest = vec![
        ("Spec", spec_to_docker(&c.spec)),
        ("RootRotationInProgress", c.root_rotation.is_some().into()),
        ("DefaultAddrPool", Value::Null),
        ("SubnetSize", 24.into()),
        ("DataPathPort", 4789.into()),
    ];
    if with_tokens {
        rest.push((
            "JoinTokens",
            json!({ "Worker": c.join_tokens.worker, "Manager": c.join_tokens.manager }),
        ));
    }
    object(c.id.as_str(), &c.meta, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body of the recorded `docker swarm init` (fixtures docker-28.2/01-swarm-init.http).
    const RECORDED_INIT: &str = r#"{"ListenAddr":"0.0.0.0:2377","AdvertiseAddr":"127.0.0.1","DataPathAddr":"","DataPathPort":0,"ForceNewCluster":false,"Spec":{"Labels":null,"Orchestration":{},"Raft":{"ElectionTick":0,"HeartbeatTick":0},"Dispatcher":{},"CAConfig":{},"TaskDefaults":{},"EncryptionConfig":{"AutoLockManagers":false}},"AutoLockManagers":false,"Availability":"","DefaultAddrPool":[],"SubnetSize":24}"#;

    #[test]
    fn recorded_init_gives_the_default_spec() {
        let r: DockerInitRequest = serde_json::from_str(RECORDED_INIT).unwrap();
        check_init(&r).unwrap();
        assert_eq!(r.listen_addr, "0.0.0.0:2377");
        assert_eq!(r.advertise_addr, "127.0.0.1");
        let spec = spec_from_docker(&r.spec, &ClusterSpec::default()).unwrap();
        assert_eq!(spec, ClusterSpec::default());
        assert_eq!(
            availability_from_docker(&r.availability).unwrap(),
            NodeAvailability::Active
        );
    }

    #[test]
    fn swarm_update_spec_maps_field_by_field() {
        // The spec `docker swarm update --task-history-limit 3 --autolock` posts back.
        let d: DockerSwarmSpec = serde_json::from_str(
            r#"{"Name":"default","Labels":{},"Orchestration":{"TaskHistoryRetentionLimit":3},"Raft":{"SnapshotInterval":10000,"KeepOldSnapshots":0,"LogEntriesForSlowFollowers":500,"ElectionTick":10,"HeartbeatTick":1},"Dispatcher":{"HeartbeatPeriod":5000000000},"CAConfig":{"NodeCertExpiry":7776000000000000},"TaskDefaults":{},"EncryptionConfig":{"AutoLockManagers":true}}"#,
        )
        .unwrap();
        let spec = spec_from_docker(&d, &ClusterSpec::default()).unwrap();
        assert_eq!(spec.orchestration.task_history_retention_limit, 3);
        assert_eq!(spec.dispatcher.heartbeat_period, Duration::from_secs(5));
        assert_eq!(spec.raft.election_timeout, Duration::from_secs(10));
        assert_eq!(spec.raft.heartbeat_interval, Duration::from_secs(1));
        assert!(spec.encryption.auto_lock_managers);
        let back = spec_to_docker(&spec);
        assert_eq!(back["Orchestration"]["TaskHistoryRetentionLimit"], 3);
        assert_eq!(back["Raft"]["ElectionTick"], 10);
        assert_eq!(back["Dispatcher"]["HeartbeatPeriod"], 5_000_000_000_i64);
        assert_eq!(back["EncryptionConfig"]["AutoLockManagers"], true);
    }

    #[test]
    fn external_ca_is_refused_by_name() {
        let d: DockerSwarmSpec = serde_json::from_str(
            r#"{"CAConfig":{"ExternalCAs":[{"Protocol":"cfssl","URL":"https://ca"}]}}"#,
        )
        .unwrap();
        let e = spec_from_docker(&d, &ClusterSpec::default()).unwrap_err();
        assert!(e.to_string().contains("CAConfig.ExternalCAs"), "{e}");
    }
}
