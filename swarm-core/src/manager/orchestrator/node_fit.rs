//! A task's placement (constraints and platforms) checked against a node record.
//!
//! The constraint language is swarm-sched's ([`swarm_sched::Constraint`], the one parser);
//! this is its meaning on the cluster's node records, as the scheduler's engine gives it on
//! its own node view: values compare case-insensitively, architectures are normalised
//! (`x86_64` = `amd64`), a missing label is the empty string, `node.role` is the role the node
//! holds now ([`certificate_role`]: a node being demoted is still a manager) and `node.ip` is
//! the address its agent connects from.

use crate::manager::ca_server::certificate_role;
use crate::manager::orchestrator::placement_misfit::PlacementMisfit;
use crate::model::{Node, Placement, Platform};
use std::net::{IpAddr, SocketAddr};
use swarm_sched::{Constraint, ConstraintError, ConstraintKey, Operator, normalize_arch};

/// A placement parsed once, checked against many nodes.
///
/// ```
/// use swarm_core::manager::orchestrator::PlacementFilter;
/// use swarm_core::model::{Node, Placement};
///
/// let placement = Placement {
///     constraints: vec!["node.labels.zone==EU".into(), "node.role!=manager".into()],
///     ..Placement::default()
/// };
/// let filter = PlacementFilter::new(&placement);
/// let mut node = Node::default();
/// assert_eq!(
///     filter.check(&node).unwrap_err().to_string(),
///     "node does not meet constraint node.labels.zone==EU"
/// );
/// node.spec.labels.insert("zone".into(), "eu".into());
/// assert!(filter.fits(&node));
/// ```
#[derive(Clone, Debug)]
pub struct PlacementFilter {
    constraints: Result<Vec<Constraint>, ConstraintError>,
    platforms: Vec<Platform>,
}

impl PlacementFilter {
    /// Parses `placement`'s constraints. A constraint that does not parse makes every node
    /// unfit ([`PlacementMisfit::InvalidConstraint`]).
    pub fn new(placement: &Placement) -> Self {
        PlacementFilter {
            constraints: Constraint::parse_all(&placement.constraints),
            platforms: placement.platforms.clone(),
        }
    }

    /// Whether `node` meets every constraint and one of the platforms (none listed: any).
    pub fn check(&self, node: &Node) -> Result<(), PlacementMisfit> {
        let constraints = self
            .constraints
            .as_ref()
            .map_err(|e| PlacementMisfit::InvalidConstraint(e.clone()))?;
        if let Some(unmet) = constraints.iter().find(|c| !constraint_holds(c, node)) {
            return Err(PlacementMisfit::Constraint(unmet.clone()));
        }
        if !self.platforms.is_empty() {
            let have = node
                .description
                .as_ref()
                .map(|d| d.platform.clone())
                .unwrap_or_default();
            if !self.platforms.iter().any(|p| platform_matches(p, &have)) {
                return Err(PlacementMisfit::Platform {
                    os: have.os,
                    architecture: have.architecture,
                });
            }
        }
        Ok(())
    }

    /// [`PlacementFilter::check`] as a yes or no.
    pub fn fits(&self, node: &Node) -> bool {
        self.check(node).is_ok()
    }
}

/// Whether one constraint holds on `node` (see the module docs for the meaning of each key).
pub fn constraint_holds(constraint: &Constraint, node: &Node) -> bool {
    let description = node.description.as_ref();
    let lower = |s: &str| s.to_lowercase();
    let equal = match &constraint.key {
        ConstraintKey::NodeId => lower(node.id.as_str()) == lower(&constraint.value),
        ConstraintKey::Hostname => {
            lower(description.map_or("", |d| d.hostname.as_str())) == lower(&constraint.value)
        }
        ConstraintKey::Role => certificate_role(node).to_string() == lower(&constraint.value),
        ConstraintKey::Ip => match (constraint.ip, node_ip(node)) {
            (Some(block), Some(ip)) => block.contains(ip),
            _ => false,
        },
        ConstraintKey::PlatformOs => {
            lower(description.map_or("", |d| d.platform.os.as_str())) == lower(&constraint.value)
        }
        ConstraintKey::PlatformArch => {
            normalize_arch(description.map_or("", |d| d.platform.architecture.as_str()))
                == normalize_arch(&constraint.value)
        }
        ConstraintKey::NodeLabel(key) => {
            lower(node.spec.labels.get(key).map_or("", String::as_str)) == lower(&constraint.value)
        }
        ConstraintKey::EngineLabel(key) => {
            lower(
                description
                    .and_then(|d| d.engine.labels.get(key))
                    .map_or("", String::as_str),
            ) == lower(&constraint.value)
        }
    };
    equal == (constraint.op == Operator::Eq)
}

/// The address the node's agent connects from (`addr` or `addr:port`), if it parses.
fn node_ip(node: &Node) -> Option<IpAddr> {
    let addr = node.status.addr.as_str();
    addr.parse::<IpAddr>()
        .ok()
        .or_else(|| addr.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// Whether a node of platform `have` matches the accepted platform `want` (an empty field
/// of `want` matches anything).
fn platform_matches(want: &Platform, have: &Platform) -> bool {
    (want.os.is_empty() || want.os.to_lowercase() == have.os.to_lowercase())
        && (want.architecture.is_empty()
            || normalize_arch(&want.architecture) == normalize_arch(&have.architecture))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ManagerStatus, NodeDescription, NodeRole};

    fn node() -> Node {
        let mut node = Node {
            id: "Node-1".into(),
            ..Node::default()
        };
        let mut description = NodeDescription {
            hostname: "Web-1".into(),
            platform: Platform::new("linux", "x86_64"),
            ..NodeDescription::default()
        };
        description
            .engine
            .labels
            .insert("storage".into(), "SSD".into());
        node.description = Some(description);
        node.spec.labels.insert("zone".into(), "eu".into());
        node.status.addr = "10.1.2.3:4567".into();
        node
    }

    fn holds(text: &str, node: &Node) -> bool {
        constraint_holds(&Constraint::parse(text).unwrap(), node)
    }

    #[test]
    fn every_key_is_matched_on_the_node_record() {
        let n = node();
        for yes in [
            "node.id==node-1",
            "node.hostname==web-1",
            "node.role==worker",
            "node.ip==10.1.0.0/16",
            "node.platform.os==Linux",
            "node.platform.arch==amd64",
            "node.labels.zone==EU",
            "node.labels.missing!=x",
            "engine.labels.storage==ssd",
        ] {
            assert!(holds(yes, &n), "{yes}");
        }
        for no in [
            "node.id!=NODE-1",
            "node.hostname==web-2",
            "node.role==manager",
            "node.ip==10.2.0.0/16",
            "node.platform.arch==arm64",
            "node.labels.zone==us",
            "engine.labels.storage!=ssd",
        ] {
            assert!(!holds(no, &n), "{no}");
        }
        // The role is the one the node holds now: a member being demoted is still a manager.
        let mut demoting = node();
        demoting.manager_status = Some(ManagerStatus {
            raft_id: 3,
            ..ManagerStatus::default()
        });
        assert_eq!(demoting.spec.role, NodeRole::Worker);
        assert!(holds("node.role==manager", &demoting));
        // A node that never reported: empty hostname, no address.
        let bare = Node::default();
        assert!(holds("node.hostname!=web-1", &bare));
        assert!(!holds("node.ip==10.0.0.0/8", &bare));
        assert!(holds("node.ip!=10.0.0.0/8", &bare));
    }

    #[test]
    fn platforms_and_unparsable_constraints() {
        let n = node();
        let placement = |platforms: Vec<Platform>, constraints: Vec<String>| Placement {
            platforms,
            constraints,
            ..Placement::default()
        };
        let arm = PlacementFilter::new(&placement(vec![Platform::new("linux", "arm64")], vec![]));
        assert_eq!(
            arm.check(&n).unwrap_err().to_string(),
            "node platform linux/x86_64 is not among the task's platforms"
        );
        let any_linux = PlacementFilter::new(&placement(
            vec![Platform::new("windows", ""), Platform::new("LINUX", "")],
            vec![],
        ));
        assert!(any_linux.fits(&n));
        let broken = PlacementFilter::new(&placement(vec![], vec!["node.zone=eu".into()]));
        assert!(matches!(
            broken.check(&n),
            Err(PlacementMisfit::InvalidConstraint(_))
        ));
    }
}
