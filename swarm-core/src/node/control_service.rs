//! The control API on a manager: each call reads the state, runs its control step and writes
//! the outcome. Any manager serves it (the store passes writes and linearizable reads to the
//! leader); membership changes follow from the records (the leader's reconcile loop).

use crate::manager::control::{
    self, ClusterView, ControlError, leave_node, remove_node, rotate_join_token, rotate_unlock_key,
    set_node_role, update_cluster, update_node,
};
use crate::manager::state::StateError;
use crate::manager::writes::ManagerWrites;
use crate::model::{Cluster, Node};
use crate::node::error::NodeError;
use crate::node::manager_core::{MAX_CONFLICT_RETRIES, ManagerCore};
use crate::node::wire::{ControlCall, ControlReply, NodeReply, RefusalKind, RemoteRefusal};
use std::time::SystemTime;

impl ManagerCore {
    /// Serves a control call from another manager.
    pub(crate) async fn serve_control(&self, call: ControlCall) -> NodeReply {
        match self.exec_control(call).await {
            Ok(reply) => NodeReply::Control(reply),
            Err(e) => NodeReply::Refused(to_refusal(&e)),
        }
    }

    /// Runs a control call here.
    pub(crate) async fn exec_control(&self, call: ControlCall) -> Result<ControlReply, NodeError> {
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
            let writes = step(view, SystemTime::now(), &mut || self.rng.next())
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

/// A local error as the refusal sent to a remote caller.
pub(crate) fn to_refusal(e: &NodeError) -> RemoteRefusal {
    let kind = match e {
        NodeError::Control(c) if c.is_conflict() => RefusalKind::Conflict,
        NodeError::Control(ControlError::NodeNotFound { .. }) => RefusalKind::NotFound,
        NodeError::Control(c) if c.is_retryable() => RefusalKind::Unavailable,
        NodeError::Control(_) | NodeError::RootRotation(_) => RefusalKind::Refused,
        NodeError::State(StateError::Conflict { .. }) => RefusalKind::Conflict,
        NodeError::Remote(r) => r.kind.clone(),
        e if e.is_retryable() => RefusalKind::Unavailable,
        _ => RefusalKind::Internal,
    };
    RemoteRefusal {
        kind,
        message: e.to_string(),
    }
}
