//! Rules for the cluster spec.

use crate::model::ClusterSpec;
use crate::validate::Validate;
use crate::validate::duration::check_duration;
use crate::validate::error::{ObjectKind, Report, Rule, ValidationErrors};
use crate::validate::names::{check_dns_label_name, check_labels};
use crate::validate::quantity::Quantity;
use std::time::Duration;

/// Shortest agent heartbeat period: 1 ms (simulations run far below SwarmKit's 5 s).
pub const MIN_HEARTBEAT_PERIOD: Duration = Duration::from_millis(1);
/// Shortest time between two rebalancing passes: 100 ms (a pass plans over the whole state).
pub const MIN_REBALANCE_INTERVAL: Duration = Duration::from_millis(100);
/// Shortest validity of a node certificate: 1 hour, as SwarmKit.
pub const MIN_NODE_CERT_EXPIRY: Duration = Duration::from_secs(60 * 60);
/// Longest validity of a node certificate: 10 years.
pub const MAX_NODE_CERT_EXPIRY: Duration = Duration::from_secs(10 * 365 * 24 * 60 * 60);

impl Validate for ClusterSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut r = Report::new(ObjectKind::Cluster, &self.name);
        check_dns_label_name(&mut r, "name", &self.name);
        check_labels(&mut r, "labels", &self.labels);

        let d = &self.dispatcher;
        check_min_duration(
            &mut r,
            "dispatcher.heartbeat_period",
            d.heartbeat_period,
            MIN_HEARTBEAT_PERIOD,
        );
        check_duration(&mut r, "dispatcher.heartbeat_period", d.heartbeat_period);
        if d.heartbeat_grace_multiplier == 0 {
            r.push(
                "dispatcher.heartbeat_grace_multiplier",
                Rule::BelowMinimum {
                    value: Quantity::Count(0),
                    minimum: Quantity::Count(1),
                },
            );
        }

        let o = &self.orchestration;
        let max_moves = swarm_sched::MAX_REBALANCE_MOVES as u64;
        if o.rebalance_max_moves > max_moves {
            r.push(
                "orchestration.rebalance_max_moves",
                Rule::AboveMaximum {
                    value: Quantity::Count(o.rebalance_max_moves),
                    maximum: Quantity::Count(max_moves),
                },
            );
        }
        check_min_duration(
            &mut r,
            "orchestration.rebalance_interval",
            o.rebalance_interval,
            MIN_REBALANCE_INTERVAL,
        );
        check_duration(
            &mut r,
            "orchestration.rebalance_interval",
            o.rebalance_interval,
        );

        let raft = &self.raft;
        if raft.snapshot_interval_entries == 0 {
            r.push(
                "raft.snapshot_interval_entries",
                Rule::BelowMinimum {
                    value: Quantity::Count(0),
                    minimum: Quantity::Count(1),
                },
            );
        }
        check_min_duration(
            &mut r,
            "raft.heartbeat_interval",
            raft.heartbeat_interval,
            MIN_HEARTBEAT_PERIOD,
        );
        check_duration(&mut r, "raft.heartbeat_interval", raft.heartbeat_interval);
        check_duration(&mut r, "raft.election_timeout", raft.election_timeout);
        if raft.election_timeout <= raft.heartbeat_interval {
            r.push(
                "raft.election_timeout",
                Rule::NotAboveHeartbeat {
                    timeout: Quantity::Duration(raft.election_timeout),
                    heartbeat: Quantity::Duration(raft.heartbeat_interval),
                },
            );
        }

        let expiry = self.ca_config.node_cert_expiry;
        check_min_duration(
            &mut r,
            "ca_config.node_cert_expiry",
            expiry,
            MIN_NODE_CERT_EXPIRY,
        );
        if expiry > MAX_NODE_CERT_EXPIRY {
            r.push(
                "ca_config.node_cert_expiry",
                Rule::AboveMaximum {
                    value: Quantity::Duration(expiry),
                    maximum: Quantity::Duration(MAX_NODE_CERT_EXPIRY),
                },
            );
        }
        r.finish()
    }
}

fn check_min_duration(r: &mut Report, field: &str, d: Duration, minimum: Duration) {
    if d < minimum {
        r.push(
            field,
            Rule::BelowMinimum {
                value: Quantity::Duration(d),
                minimum: Quantity::Duration(minimum),
            },
        );
    }
}
