//! `service ls` filters and `service inspect` lookup (SwarmKit's controlapi `ListServices`
//! and the docker daemon's filters).

use crate::manager::cluster_state::ClusterState;
use crate::manager::control::error::ControlError;
use crate::manager::control::object_query::find_object;
use crate::model::{Service, ServiceMode};
use std::collections::BTreeMap;
use std::fmt;

/// The kind of a [`ServiceMode`], without its numbers: what `service ls --filter mode=` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServiceModeKind {
    /// [`ServiceMode::Replicated`].
    Replicated,
    /// [`ServiceMode::Global`].
    Global,
    /// [`ServiceMode::ReplicatedJob`].
    ReplicatedJob,
    /// [`ServiceMode::GlobalJob`].
    GlobalJob,
}

impl ServiceModeKind {
    /// The kind of `mode`.
    ///
    /// ```
    /// use swarm_core::manager::control::ServiceModeKind;
    /// use swarm_core::model::ServiceMode;
    ///
    /// let kind = ServiceModeKind::of(&ServiceMode::Replicated { replicas: 3 });
    /// assert_eq!(kind, ServiceModeKind::Replicated);
    /// assert_eq!(kind.to_string(), "replicated");
    /// ```
    pub fn of(mode: &ServiceMode) -> ServiceModeKind {
        match mode {
            ServiceMode::Replicated { .. } => ServiceModeKind::Replicated,
            ServiceMode::Global => ServiceModeKind::Global,
            ServiceMode::ReplicatedJob { .. } => ServiceModeKind::ReplicatedJob,
            ServiceMode::GlobalJob => ServiceModeKind::GlobalJob,
        }
    }
}

impl fmt::Display for ServiceModeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServiceModeKind::Replicated => "replicated",
            ServiceModeKind::Global => "global",
            ServiceModeKind::ReplicatedJob => "replicated-job",
            ServiceModeKind::GlobalJob => "global-job",
        })
    }
}

/// Filters of `service ls`. Within one field the values are alternatives (any may match);
/// across fields all must match; an empty field matches every service. Names are prefixes,
/// as the docker daemon reads `--filter name=`.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceFilter {
    /// Id prefixes.
    pub id_prefixes: Vec<String>,
    /// Name prefixes.
    pub name_prefixes: Vec<String>,
    /// Service labels that must all be present: a key with `None` matches any value, with
    /// `Some(v)` only `v`.
    pub labels: BTreeMap<String, Option<String>>,
    /// Modes.
    pub modes: Vec<ServiceModeKind>,
}

impl ServiceFilter {
    /// Whether `service` passes every filter.
    pub fn matches(&self, service: &Service) -> bool {
        let any = |empty: bool, hit: bool| empty || hit;
        any(
            self.id_prefixes.is_empty(),
            self.id_prefixes
                .iter()
                .any(|p| service.id.as_str().starts_with(p.as_str())),
        ) && any(
            self.name_prefixes.is_empty(),
            self.name_prefixes
                .iter()
                .any(|p| service.spec.name.starts_with(p.as_str())),
        ) && any(
            self.modes.is_empty(),
            self.modes
                .contains(&ServiceModeKind::of(&service.spec.mode)),
        ) && labels_match(&self.labels, &service.spec.labels)
    }
}

/// Whether every wanted label is present (`None`: any value).
pub(crate) fn labels_match(
    wanted: &BTreeMap<String, Option<String>>,
    have: &BTreeMap<String, String>,
) -> bool {
    wanted
        .iter()
        .all(|(key, want)| match (have.get(key), want) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(have), Some(want)) => have == want,
        })
}

/// `service ls`: the services that pass `filter`, in id order.
///
/// Contract: exactly the services for which [`ServiceFilter::matches`] holds, each once,
/// sorted by id; pure.
pub fn list_services<'a>(state: &'a ClusterState, filter: &ServiceFilter) -> Vec<&'a Service> {
    state
        .services()
        .values()
        .filter(|s| filter.matches(s))
        .collect()
}

/// `service inspect`: the one service `query` names, tried as an exact id, then an exact
/// name, then an id prefix ([`ControlError::NotFound`], [`ControlError::Ambiguous`]).
pub fn find_service<'a>(state: &'a ClusterState, query: &str) -> Result<&'a Service, ControlError> {
    find_object(state.services(), query)
}
