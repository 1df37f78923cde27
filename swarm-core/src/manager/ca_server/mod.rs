//! The certificate authority's side of joining and renewing (SwarmKit's `ca/server.go`
//! `IssueNodeCertificate`, with a join token or for an authenticated node) and the joining
//! node's pure check
//! (SwarmKit's `node/` join: the downloaded root CA against the token's digest).
//!
//! | item | what |
//! | --- | --- |
//! | [`join`] | the join step: token check, ids, certificate, node record, membership changes |
//! | [`renew_certificate`] | the renewal step: an authenticated node's new certificate, with its current role, from the issuing root |
//! | [`certificate_role`] | the role a node's next certificate carries |
//! | [`check_join_token`] | which role a token grants, or why it is refused (wrong, rotated, other cluster) |
//! | [`verify_downloaded_ca`] | the joining node's check of the root CA it downloaded |
//! | [`random_id`], [`new_cluster_id`] | SwarmKit-style 25-character base-36 ids from seeded randomness |
//! | [`JoinError`], [`RenewError`] | every refusal, naming the case and the node |

mod certificate_role;
mod downloaded_ca;
mod ids;
mod issuer;
mod join;
mod join_error;
pub(crate) mod node_record;
mod renew_error;
mod renewal;
#[cfg(test)]
mod renewal_tests;
mod token_check;

pub use certificate_role::certificate_role;
pub use downloaded_ca::verify_downloaded_ca;
pub use ids::{ID_CHARS, MAX_ID_DRAWS, new_cluster_id, random_id};
pub(crate) use ids::{new_node_id, new_raft_id};
pub use join::{JoinDecision, JoinRequest, JoinView, join};
pub use join_error::JoinError;
pub use node_record::MAX_ADVERTISE_ADDR_CHARS;
pub use renew_error::RenewError;
pub use renewal::{RenewDecision, RenewRequest, RenewView, renew_certificate};
pub use token_check::check_join_token;
pub(crate) use token_check::current_tokens;
