//! The control API on a manager: each call reads the state, runs its control step and writes
//! the outcome. Any manager serves reads and the node and cluster calls (the store passes writes
//! and linearizable reads to the leader); calls that create, change or remove services,
//! secrets, configs and networks run on the leader, one at a time (a follower passes them on),
//! so two managers cannot both create an object of one name; membership changes follow from
//! the records (the leader's reconcile loop).

use crate::manager::allocator;
use crate::manager::cluster_state::ClusterState;
use crate::manager::control::{
    self, ClusterView, ControlError, Created, leave_node, remove_node, rotate_join_token,
    rotate_unlock_key, set_node_role, update_cluster, update_node,
};
use crate::manager::logbroker::LogBrokerError;
use crate::manager::state::StateError;
use crate::manager::writes::ManagerWrites;
use crate::model::{Cluster, Node};
use crate::node::error::NodeError;
use crate::node::manager_core::{MAX_CONFLICT_RETRIES, ManagerCore};
use crate::node::wire::{
    ControlCall, ControlReply, NodeCall, NodeReply, RefusalKind, RemoteRefusal,
};
use std::time::SystemTime;

impl ManagerCore {
    /// Serves a control call from another manager.
    pub(crate) async fn serve_control(&self, call: ControlCall) -> NodeReply {
        match self.exec_control(call).await {
            Ok(reply) => NodeReply::Control(reply),
            Err(e) => NodeReply::Refused(to_refusal(&e)),
        }
    }

    /// Runs a control call: here, or on the leader for the calls that must run there
    /// ([`ControlCall::runs_on_leader`]).
    pub(crate) async fn exec_control(&self, call: ControlCall) -> Result<ControlReply, NodeError> {
        if call.runs_on_leader() && !self.is_leader() {
            return self.control_on_leader(call).await;
        }
        self.exec_control_here(call).await
    }

    /// Passes `call` to the leader, which runs it without passing it on again.
    async fn control_on_leader(&self, call: ControlCall) -> Result<ControlReply, NodeError> {
        let leader = self.store.leader().ok_or_else(|| {
            NodeError::Remote(RemoteRefusal {
                kind: RefusalKind::Unavailable,
                message: "no leader is known right now; try again".into(),
            })
        })?;
        let peer = format!("the leader (member {leader})");
        let reply = self
            .store_transport
            .call_node(
                leader,
                &peer,
                &NodeCall::LeaderControl(call),
                crate::node::control::REMOTE_CONTROL_TIMEOUT,
            )
            .await?;
        match reply {
            NodeReply::Control(reply) => Ok(reply),
            NodeReply::Refused(r) => Err(NodeError::Remote(r)),
            other => Err(NodeError::Protocol {
                peer,
                detail: format!("unexpected answer {other:?}"),
            }),
        }
    }

    /// Serves a control call another manager passed on because this one leads.
    pub(crate) async fn serve_leader_control(&self, call: ControlCall) -> NodeReply {
        if !self.is_leader() {
            return NodeReply::Refused(RemoteRefusal {
                kind: RefusalKind::Unavailable,
                message: "this manager no longer leads; try again".into(),
            });
        }
        match self.exec_control_here(call).await {
            Ok(reply) => NodeReply::Control(reply),
            Err(e) => NodeReply::Refused(to_refusal(&e)),
        }
    }

    /// Runs a control call on this manager.
    async fn exec_control_here(&self, call: ControlCall) -> Result<ControlReply, NodeError> {
        match call {
            ControlCall::ListNodes(filter) => {
                let nodes = self.state.nodes().await?;
                Ok(ControlReply::Nodes(
                    control::list_nodes(&nodes, &filter)
                        .into_iter()
                        .cloned()
                        .collect(),
                ))
            }
            ControlCall::InspectNode(query) => {
                let nodes = self.state.nodes().await?;
                let node = control::find_node(&nodes, &query)?;
                Ok(ControlReply::Node(Box::new(node.clone())))
            }
            ControlCall::InspectCluster => {
                Ok(ControlReply::Cluster(Box::new(self.cluster().await?)))
            }
            ControlCall::UnlockKey => {
                let cluster = self.cluster().await?;
                Ok(ControlReply::UnlockKey(
                    control::unlock_key(&cluster).map(|k| k.to_string()),
                ))
            }
            ControlCall::UpdateNode { query, update } => {
                self.decide(
                    |view, now, rng| update_node(view, &query, &update, now, rng),
                    false,
                )
                .await
            }
            ControlCall::SetRole { query, role } => {
                self.decide(
                    |view, now, rng| set_node_role(view, &query, role, now, rng),
                    true,
                )
                .await
            }
            ControlCall::RemoveNode { query, force } => {
                self.decide(|view, now, _| remove_node(view, &query, force, now), true)
                    .await
            }
            ControlCall::Leave { node, force } => {
                self.decide(|view, now, _| leave_node(view, &node, force, now), true)
                    .await
            }
            ControlCall::UpdateCluster(update) => {
                self.decide(
                    |view, now, _| update_cluster(view.cluster, &update, now),
                    false,
                )
                .await
            }
            ControlCall::RotateJoinToken(role) => {
                self.decide(
                    |view, now, _| rotate_join_token(view.cluster, role, now),
                    true,
                )
                .await
            }
            ControlCall::RotateUnlockKey => {
                self.decide(|view, now, _| rotate_unlock_key(view.cluster, now), true)
                    .await
            }
            ControlCall::CreateService(spec) => {
                self.create(|state, now, rng| control::create_service(state, &spec, now, rng))
                    .await
            }
            ControlCall::ListServices(filter) => {
                let state = self.state.load_state().await?;
                Ok(ControlReply::Services(
                    control::list_services(&state, &filter)
                        .into_iter()
                        .cloned()
                        .collect(),
                ))
            }
            ControlCall::InspectService(query) => {
                let state = self.state.load_state().await?;
                let service = control::find_service(&state, &query)?;
                Ok(ControlReply::Service(Box::new(service.clone())))
            }
            ControlCall::UpdateService {
                query,
                version,
                spec,
            } => {
                self.decide_state(
                    |state, now, _| control::update_service(state, &query, version, &spec, now),
                    false,
                )
                .await
            }
            ControlCall::ScaleService { query, replicas } => {
                self.decide_state(
                    |state, now, _| control::scale_service(state, &query, replicas, now),
                    true,
                )
                .await
            }
            ControlCall::RollbackService(query) => {
                self.decide_state(
                    |state, now, _| control::rollback_service(state, &query, now),
                    true,
                )
                .await
            }
            ControlCall::RemoveService(query) => {
                self.decide_state(|state, _, _| control::remove_service(state, &query), true)
                    .await
            }
            ControlCall::ListTasks(filter) => {
                let state = self.state.load_state().await?;
                let tasks = control::list_tasks(&state, &filter)?;
                Ok(ControlReply::Tasks(tasks.into_iter().cloned().collect()))
            }
            ControlCall::InspectTask(query) => {
                let state = self.state.load_state().await?;
                let task = control::find_task(&state, &query)?;
                Ok(ControlReply::Task(Box::new(task.clone())))
            }
            ControlCall::CreateSecret(spec) => {
                self.create(|state, now, rng| control::create_secret(state, &spec, now, rng))
                    .await
            }
            ControlCall::ListSecrets => {
                let state = self.state.load_state().await?;
                Ok(ControlReply::Secrets(control::list_secrets(&state)))
            }
            ControlCall::InspectSecret(query) => {
                let state = self.state.load_state().await?;
                Ok(ControlReply::Secret(control::find_secret(&state, &query)?))
            }
            ControlCall::UpdateSecret {
                query,
                version,
                spec,
            } => {
                self.decide_state(
                    |state, now, _| control::update_secret(state, &query, version, &spec, now),
                    false,
                )
                .await
            }
            ControlCall::RemoveSecret(query) => {
                self.decide_state(|state, _, _| control::remove_secret(state, &query), true)
                    .await
            }
            ControlCall::CreateConfig(spec) => {
                self.create(|state, now, rng| control::create_config(state, &spec, now, rng))
                    .await
            }
            ControlCall::ListConfigs => {
                let state = self.state.load_state().await?;
                Ok(ControlReply::Configs(
                    control::list_configs(&state).into_iter().cloned().collect(),
                ))
            }
            ControlCall::InspectConfig(query) => {
                let state = self.state.load_state().await?;
                let config = control::find_config(&state, &query)?;
                Ok(ControlReply::Config(Box::new(config.clone())))
            }
            ControlCall::UpdateConfig {
                query,
                version,
                spec,
            } => {
                self.decide_state(
                    |state, now, _| control::update_config(state, &query, version, &spec, now),
                    false,
                )
                .await
            }
            ControlCall::RemoveConfig(query) => {
                self.decide_state(|state, _, _| control::remove_config(state, &query), true)
                    .await
            }
            ControlCall::CreateNetwork(spec) => {
                self.create(|state, now, rng| control::create_network(state, &spec, now, rng))
                    .await
            }
            ControlCall::ListNetworks => {
                let state = self.state.load_state().await?;
                Ok(ControlReply::Networks(
                    control::list_networks(&state)
                        .into_iter()
                        .cloned()
                        .collect(),
                ))
            }
            ControlCall::InspectNetwork(query) => {
                let state = self.state.load_state().await?;
                let network = control::find_network(&state, &query)?;
                Ok(ControlReply::Network(Box::new(network.clone())))
            }
            ControlCall::RemoveNetwork(query) => {
                self.decide_state(|state, _, _| control::remove_network(state, &query), true)
                    .await
            }
            ControlCall::Resolve { network, name } => {
                let state = self.state.load_state().await?;
                Ok(ControlReply::Addresses(allocator::resolve(
                    &state, &network, &name,
                )?))
            }
            ControlCall::Logs(call) => self.log_call(call).await,
            ControlCall::RotateRootCa => {
                let cluster_id = swarm_secrets::ClusterId::new(self.cluster_id.as_str())
                    .map_err(crate::node::error::secrets("the cluster id"))?;
                let new_ca = swarm_secrets::ClusterCa::generate(
                    cluster_id,
                    swarm_secrets::CertPolicy::default(),
                )
                .map_err(crate::node::error::secrets("a new root CA"))?;
                let current = self.ca_in(crate::manager::state::RootCaSlot::Current)?;
                self.decide(
                    |view, now, _| {
                        crate::manager::root_rotation::start_root_rotation(
                            view.cluster,
                            current.cert_der().as_ref(),
                            &new_ca,
                            now,
                        )
                    },
                    false,
                )
                .await
            }
        }
    }

    async fn cluster(&self) -> Result<Cluster, NodeError> {
        self.state
            .cluster()
            .await?
            .ok_or_else(|| NodeError::Corrupt {
                path: self.config.data_dir.clone(),
                detail: "the store holds no cluster object".into(),
            })
    }

    /// Reads the state, runs `step` and applies its writes; on a version conflict with a
    /// concurrent write, re-reads and runs the step again when `retry` (steps that take no
    /// version from the caller), up to [`MAX_CONFLICT_RETRIES`] times.
    async fn decide<E: Into<NodeError>>(
        &self,
        step: impl Fn(ClusterView<'_>, SystemTime, &mut dyn FnMut() -> u64) -> Result<ManagerWrites, E>,
        retry: bool,
    ) -> Result<ControlReply, NodeError> {
        let _serial = self.control_lock.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let cluster = self.cluster().await?;
            let nodes: Vec<Node> = self.state.nodes().await?;
            let view = ClusterView {
                cluster: &cluster,
                nodes: &nodes,
            };
            let writes = step(view, crate::clock::now(), &mut || self.rng.next())
                .map_err(|e: E| -> NodeError { e.into() })?;
            match self.state.apply(&writes).await {
                Ok(_) => return Ok(ControlReply::Done),
                Err(e) if e.is_conflict() && retry && attempt < MAX_CONFLICT_RETRIES => {
                    tracing::debug!(error = %e, "control write conflicted; re-reading");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

impl ManagerCore {
    /// Reads the whole state ([`ManagerStore::load_state`]), runs `step` and applies its
    /// writes; on a version conflict with a concurrent write, re-reads and runs the step again
    /// when `retry` (steps that take no version from the caller), up to
    /// [`MAX_CONFLICT_RETRIES`] times.
    ///
    /// [`ManagerStore::load_state`]: crate::manager::state::ManagerStore::load_state
    async fn decide_state(
        &self,
        step: impl Fn(
            &ClusterState,
            SystemTime,
            &mut dyn FnMut() -> u64,
        ) -> Result<ManagerWrites, ControlError>,
        retry: bool,
    ) -> Result<ControlReply, NodeError> {
        self.decide_state_with(
            |state, now, rng| step(state, now, rng).map(|w| (w, ())),
            retry,
        )
        .await
        .map(|()| ControlReply::Done)
    }

    /// [`ManagerCore::decide_state`] for a create step: answers the new object's id.
    async fn create<I: std::fmt::Display>(
        &self,
        step: impl Fn(
            &ClusterState,
            SystemTime,
            &mut dyn FnMut() -> u64,
        ) -> Result<Created<I>, ControlError>,
    ) -> Result<ControlReply, NodeError> {
        self.decide_state_with(
            |state, now, rng| step(state, now, rng).map(|c| (c.writes, c.id)),
            true,
        )
        .await
        .map(|id| ControlReply::Created(id.to_string()))
    }

    async fn decide_state_with<T>(
        &self,
        step: impl Fn(
            &ClusterState,
            SystemTime,
            &mut dyn FnMut() -> u64,
        ) -> Result<(ManagerWrites, T), ControlError>,
        retry: bool,
    ) -> Result<T, NodeError> {
        let _serial = self.control_lock.lock().await;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let state = self.state.load_state().await?;
            let (writes, value) = step(&state, crate::clock::now(), &mut || self.rng.next())?;
            match self.state.apply(&writes).await {
                Ok(_) => return Ok(value),
                Err(e) if e.is_conflict() && retry && attempt < MAX_CONFLICT_RETRIES => {
                    tracing::debug!(error = %e, "control write conflicted; re-reading");
                }
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// A local error as the refusal sent to a remote caller.
pub(crate) fn to_refusal(e: &NodeError) -> RemoteRefusal {
    let kind = match e {
        NodeError::Control(c) if c.is_conflict() => RefusalKind::Conflict,
        NodeError::Control(
            ControlError::NodeNotFound { .. }
            | ControlError::NotFound { .. }
            | ControlError::NameNotResolved { .. },
        ) => RefusalKind::NotFound,
        NodeError::Control(c) if c.is_retryable() => RefusalKind::Unavailable,
        NodeError::Control(_) | NodeError::RootRotation(_) => RefusalKind::Refused,
        NodeError::State(StateError::Conflict { .. }) => RefusalKind::Conflict,
        NodeError::Remote(r) => r.kind.clone(),
        NodeError::Logs(
            LogBrokerError::UnknownSubscription { .. } | LogBrokerError::NotSubscribed { .. },
        ) => RefusalKind::NotFound,
        NodeError::Logs(
            LogBrokerError::ForeignNode { .. }
            | LogBrokerError::NotNodeTask { .. }
            | LogBrokerError::NotSelected { .. },
        ) => RefusalKind::PermissionDenied,
        NodeError::Logs(e) if !e.is_retryable() => RefusalKind::Refused,
        e if e.is_retryable() => RefusalKind::Unavailable,
        _ => RefusalKind::Internal,
    };
    RemoteRefusal {
        kind,
        message: e.to_string(),
    }
}
