//! The end of a root rotation: the new root alone, join tokens re-pinned.

use crate::manager::control::ClusterView;
use crate::manager::root_rotation::rotation_error::{MAX_NAMED_PENDING_NODES, RotationError};
use crate::manager::root_rotation::rotation_progress::root_rotation_progress;
use crate::manager::state::{RootCaSlot, StoredRootCa};
use crate::manager::writes::{ManagerWrite, ManagerWrites};
use crate::model::{MAX_RETIRED_ROOTS, RetiredRoot};
use std::time::SystemTime;
use swarm_secrets::{ClusterCa, JoinTokens, Role};

/// Finishes the root rotation in progress once every counted node renewed from the new root
/// (SwarmKit's `finishRootRotation`). `new_ca` is the rotation's new root, loaded from
/// [`RootCaSlot::Rotation`].
///
/// Contract:
/// * no rotation is [`RotationError::NotInProgress`]; a `new_ca` that is not the rotation's
///   new root is [`RotationError::WrongRoot`];
/// * a node still on the old root, as [`root_rotation_progress`] counts them (down nodes
///   included), refuses the call with [`RotationError::NodesOnOldRoot`] naming the first
///   [`MAX_NAMED_PENDING_NODES`] in id order with their state;
/// * otherwise the writes are, in one transaction: the cluster object at the version read
///   with no rotation, fresh worker and manager join tokens pinning the new root (new secrets
///   from the operating system's random source, as SwarmKit generates new tokens when a
///   rotation completes: every token pinning the old root stops working), the old root's
///   digest appended to `join_tokens.retired_roots` with `now` (the newest
///   [`MAX_RETIRED_ROOTS`] kept) so that its tokens are refused as
///   [`RootRotated`](crate::manager::ca_server::JoinError::RootRotated), and
///   `meta.updated_at = now`; [`ManagerWrite::PutRootCa`] of the new root in
///   [`RootCaSlot::Current`]; [`ManagerWrite::DeleteRootCa`] of [`RootCaSlot::Rotation`].
///   Retired token fingerprints stay as they are.
///
/// From the next read on, [`trusted_roots`](super::trusted_roots) holds the new root alone:
/// certificates of the old root are refused.
pub fn finish_root_rotation(
    view: ClusterView<'_>,
    new_ca: &ClusterCa,
    now: SystemTime,
) -> Result<ManagerWrites, RotationError> {
    let cluster = view.cluster;
    let progress = root_rotation_progress(view).ok_or(RotationError::NotInProgress)?;
    if new_ca.digest() != progress.new_root {
        return Err(RotationError::WrongRoot {
            expected: progress.new_root,
            given: new_ca.digest(),
        });
    }
    if !progress.can_finish() {
        let mut nodes = progress.on_old_root;
        let more = nodes.len().saturating_sub(MAX_NAMED_PENDING_NODES);
        nodes.truncate(MAX_NAMED_PENDING_NODES);
        return Err(RotationError::NodesOnOldRoot { nodes, more });
    }
    let fresh =
        JoinTokens::generate(progress.new_root).map_err(|source| RotationError::Secrets {
            what: "join tokens for the new root CA".to_owned(),
            source,
        })?;
    let mut changed = cluster.clone();
    changed.root_rotation = None;
    let tokens = &mut changed.join_tokens;
    tokens.worker = fresh.token(Role::Worker).expose().to_string();
    tokens.manager = fresh.token(Role::Manager).expose().to_string();
    tokens.retired_roots.push(RetiredRoot {
        ca_digest: progress.old_root,
        retired_at: now,
    });
    let excess = tokens.retired_roots.len().saturating_sub(MAX_RETIRED_ROOTS);
    tokens.retired_roots.drain(..excess);
    changed.meta.updated_at = now;
    Ok(ManagerWrites {
        writes: vec![
            ManagerWrite::UpdateCluster {
                cluster: changed,
                expected_version: cluster.meta.version,
            },
            ManagerWrite::PutRootCa {
                slot: RootCaSlot::Current,
                root: StoredRootCa::from_ca(new_ca),
            },
            ManagerWrite::DeleteRootCa {
                cluster: cluster.id.clone(),
                slot: RootCaSlot::Rotation,
            },
        ],
        membership: Vec::new(),
    })
}
