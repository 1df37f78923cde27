//! The cluster certificate authority's settings.

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// SwarmKit's default validity of node certificates: 90 days.
pub const DEFAULT_NODE_CERT_EXPIRY: Duration = Duration::from_secs(90 * 24 * 60 * 60);

/// The cluster certificate authority's settings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CaConfig {
    /// Validity of the certificates issued to nodes.
    pub node_cert_expiry: Duration,
}

impl Default for CaConfig {
    fn default() -> Self {
        CaConfig {
            node_cert_expiry: DEFAULT_NODE_CERT_EXPIRY,
        }
    }
}
