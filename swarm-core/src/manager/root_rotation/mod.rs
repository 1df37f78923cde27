//! Root CA rotation (`swarm ca --rotate`; SwarmKit's `manager/controlapi/ca_rotation.go` and
//! the root rotation reconciler of `ca/reconciler.go`), as pure steps over the cluster object
//! and the node records.
//!
//! | item | what |
//! | --- | --- |
//! | [`start_root_rotation`] | records the rotation and stores the new root: from then on joins and renewals issue from it and every node trusts both roots |
//! | [`must_renew_now`] | whether the dispatcher tells a node, in its heartbeat answer, to renew at once |
//! | [`root_rotation_progress`] | which nodes still hold a certificate of the old root, and whether the rotation can finish |
//! | [`finish_root_rotation`] | once every node renewed: the new root becomes the only root, join tokens re-pinned to it |
//! | [`trusted_roots`], [`cluster_trust`] | which roots to trust right now (both during a rotation) |
//! | [`RotationError`] | every refusal, naming the nodes or the roots |
//!
//! The sequence, with no node losing its connection:
//!
//! 1. `start`: the cluster object records a [`RootRotation`](crate::model::RootRotation) and
//!    the new root's certificate and key go to the `root_ca` collection beside the current
//!    one ([`RootCaSlot::Rotation`](crate::manager::state::RootCaSlot::Rotation)). Every
//!    TLS verifier is rebuilt from [`trusted_roots`]: both roots. The join tokens still pin
//!    the old root, so tokens handed out before the rotation keep working.
//! 2. Nodes renew: the dispatcher answers heartbeats of nodes for which [`must_renew_now`]
//!    holds with a renewal request; [`renew_certificate`] issues from the new root and the
//!    node installs a certificate both sides still accept. Joins issue from the new root too.
//! 3. `finish`, once [`root_rotation_progress`] says every node is on the new root: the new
//!    root replaces the current root record, the join tokens get fresh secrets pinning the
//!    new root (as SwarmKit generates new tokens when it completes a rotation), and the old
//!    root is remembered as retired so that its tokens are refused by name
//!    ([`JoinError::RootRotated`]). Verifiers are rebuilt from the new root alone.
//!
//! Unlike SwarmKit, the new root is not cross-signed by the old one: trust in both roots
//! during the rotation is what keeps connections up. Two consequences, both documented on
//! the steps: a second rotation cannot supersede one in progress (nodes already renewed from
//! the superseded root would stop being trusted), and every node, down ones included, must
//! renew or be removed before the rotation finishes (as in SwarmKit, which also waits for
//! every node in the store).
//!
//! [`renew_certificate`]: crate::manager::ca_server::renew_certificate
//! [`JoinError::RootRotated`]: crate::manager::ca_server::JoinError::RootRotated

mod pending_node;
mod renew_now;
mod rotation_error;
mod rotation_finish;
mod rotation_progress;
mod rotation_start;
#[cfg(test)]
mod rotation_tests;
mod trusted_roots;

pub use pending_node::PendingNode;
pub use renew_now::must_renew_now;
pub use rotation_error::{MAX_NAMED_PENDING_NODES, RotationError};
pub use rotation_finish::finish_root_rotation;
pub use rotation_progress::{RotationProgress, root_rotation_progress};
pub use rotation_start::start_root_rotation;
pub use trusted_roots::{cluster_trust, trusted_roots};
