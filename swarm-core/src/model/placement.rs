//! Where a service's tasks may run: constraints, spread preferences, per-node caps, platforms.

use crate::model::platform::Platform;
use serde::{Deserialize, Serialize};

/// A soft scheduling preference.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlacementPreference {
    /// Spread tasks evenly over the values of a node attribute, e.g. `node.labels.zone`.
    Spread {
        /// The attribute whose values tasks are spread over.
        spread_descriptor: String,
    },
}

/// The placement rules of a task template.
///
/// ```
/// use swarm_core::model::{Placement, PlacementPreference};
///
/// let p = Placement {
///     constraints: vec!["node.labels.ssd==true".into()],
///     preferences: vec![PlacementPreference::Spread { spread_descriptor: "node.labels.zone".into() }],
///     ..Placement::default()
/// };
/// let json = serde_json::to_string(&p).unwrap();
/// assert_eq!(serde_json::from_str::<Placement>(&json).unwrap(), p);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Placement {
    /// Hard constraints, each `key==value` or `key!=value` (e.g. `node.role==manager`); a node
    /// must satisfy all of them.
    pub constraints: Vec<String>,
    /// Soft preferences applied in order.
    pub preferences: Vec<PlacementPreference>,
    /// At most this many tasks of the service on one node; 0 means no limit.
    pub max_replicas: u64,
    /// Platforms the task can run on; empty means any.
    pub platforms: Vec<Platform>,
}
