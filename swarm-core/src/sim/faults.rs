//! The fault schedule: partitions (two-way, one-way, isolation), message loss, delay and
//! duplication, crashes and restarts of nodes with their disk kept, leader kills, a manager's
//! disk that fails a write (the manager is then stopped like a crashed one) or appends slowly
//! for a while; drawn from the seed between workload steps.

use crate::sim::cluster::{SimCluster, addr};
use crate::sim::sim_rng::SimRng;
use std::time::Duration;
use swarm_store::testkit::inproc::LinkFaults;

/// The highest message loss the schedule sets, in percent.
pub(crate) const MAX_DROP_PERCENT: u64 = 10;
/// The longest delay the schedule adds to a message.
pub(crate) const MAX_DELAY: Duration = Duration::from_millis(80);
/// The highest duplication probability the schedule sets, in percent.
pub(crate) const MAX_DUPLICATE_PERCENT: u64 = 5;
/// The longest delay a slow disk adds to one append of the Raft log.
pub(crate) const MAX_SLOW_APPEND: Duration = Duration::from_millis(200);
/// The longest a disk stays slow.
pub(crate) const MAX_SLOW_PERIOD: Duration = Duration::from_secs(10);

/// Injects faults into a cluster and undoes them for the liveness phase.
#[derive(Debug, Default)]
pub(crate) struct Nemesis {
    /// Faults injected so far.
    pub(crate) injected: u64,
}

impl Nemesis {
    /// Draws and injects one fault; returns the trace line.
    pub(crate) async fn strike(&mut self, rng: &SimRng, cluster: &mut SimCluster) -> String {
        let names: Vec<String> = cluster.nodes.keys().cloned().collect();
        let net = cluster.net.network().clone();
        let id = |name: &str| cluster.net.net_id(&addr(name));
        self.injected += 1;
        match rng.below(100) {
            0..15 => {
                let (Some(a), Some(b)) = (rng.pick(&names), rng.pick(&names)) else {
                    return "fault: no nodes".to_owned();
                };
                if a == b {
                    return format!("fault: partition {a} from itself (none)");
                }
                net.partition(id(a), id(b));
                format!("fault: partition {a} <-> {b}")
            }
            15..25 => {
                let (Some(a), Some(b)) = (rng.pick(&names), rng.pick(&names)) else {
                    return "fault: no nodes".to_owned();
                };
                if a == b {
                    return format!("fault: partition {a} from itself (none)");
                }
                net.partition_one_way(id(a), id(b));
                format!("fault: partition {a} -> {b} (one way)")
            }
            25..35 => match rng.pick(&names) {
                Some(a) => {
                    net.isolate(id(a));
                    format!("fault: isolate {a}")
                }
                None => "fault: no nodes".to_owned(),
            },
            35..47 => {
                net.heal();
                "fault: heal partitions".to_owned()
            }
            47..61 => {
                let drop = rng.below(MAX_DROP_PERCENT + 1);
                let delay_ms = rng.below(u64::try_from(MAX_DELAY.as_millis()).unwrap_or(0) + 1);
                let dup = rng.below(MAX_DUPLICATE_PERCENT + 1);
                let faults = LinkFaults::none()
                    .with_drop_probability(drop as f64 / 100.0)
                    .with_delay(Duration::ZERO, Duration::from_millis(delay_ms))
                    .with_duplicate_probability(dup as f64 / 100.0);
                match net.set_default_faults(faults) {
                    Ok(()) => {
                        format!("fault: links drop {drop}% delay <= {delay_ms} ms dup {dup}%")
                    }
                    Err(e) => format!("fault: links refused ({e})"),
                }
            }
            61..68 => {
                net.clear_faults();
                "fault: links clean".to_owned()
            }
            68..78 => {
                // A crash: a worker, or a manager while a majority of the others runs.
                let Some(name) = rng.pick(&names).cloned() else {
                    return "fault: no nodes".to_owned();
                };
                if !self.may_crash(cluster, &name) {
                    return format!("fault: crash {name} skipped (quorum)");
                }
                cluster.crash(&name).await;
                format!("fault: crash {name}")
            }
            78..86 => match cluster.leader() {
                Some(leader) if self.may_crash(cluster, &leader) => {
                    cluster.crash(&leader).await;
                    format!("fault: kill leader {leader}")
                }
                Some(leader) => format!("fault: kill leader {leader} skipped (quorum)"),
                None => "fault: kill leader (none leads)".to_owned(),
            },
            86..89 => {
                // A write of the disk fails: a manager, while a majority of the others runs
                // soundly; it is stopped once the write failed (see `reap`).
                let Some(name) = rng.pick(&names).cloned() else {
                    return "fault: no nodes".to_owned();
                };
                let manager = cluster.nodes.get(&name).is_some_and(|n| n.manager);
                if !manager {
                    return format!("fault: disk of {name} fails (not a manager, none)");
                }
                if !self.may_crash(cluster, &name) {
                    return format!("fault: disk of {name} fails skipped (quorum)");
                }
                match cluster.disk_faults(&name) {
                    Some(faults) => {
                        faults.fail_next_write();
                        format!("fault: disk of {name} fails its next write")
                    }
                    None => format!("fault: disk of {name} fails (no memory disk, none)"),
                }
            }
            89..91 => {
                let Some(name) = rng.pick(&names).cloned() else {
                    return "fault: no nodes".to_owned();
                };
                let max_ms = u64::try_from(MAX_SLOW_APPEND.as_millis()).unwrap_or(0);
                let delay_ms = 1 + rng.below(max_ms);
                let period_s = 1 + rng.below(MAX_SLOW_PERIOD.as_secs());
                match cluster.disk_faults(&name) {
                    Some(faults) if cluster.nodes.get(&name).is_some_and(|n| n.manager) => {
                        faults.slow_appends(delay_ms, Duration::from_secs(period_s));
                        format!(
                            "fault: disk of {name} slow (appends +{delay_ms} ms for {period_s} s)"
                        )
                    }
                    _ => format!("fault: disk of {name} slow (not a manager, none)"),
                }
            }
            _ => {
                let crashed = cluster.crashed();
                match rng.pick(&crashed) {
                    Some(name) => match cluster.restart(name).await {
                        Ok(()) => format!("fault: restart {name}"),
                        Err(e) => format!("fault: restart {name} failed ({e})"),
                    },
                    None => "fault: restart (none crashed)".to_owned(),
                }
            }
        }
    }

    /// Whether crashing `name` leaves the Raft group a running majority: a worker always; a
    /// manager (or a node being promoted or demoted) only while a manager leads and the
    /// others of the group are a majority of it.
    fn may_crash(&self, cluster: &SimCluster, name: &str) -> bool {
        let Some(node) = cluster.nodes.get(name) else {
            return false;
        };
        if !cluster.runs_soundly(name) {
            return false;
        }
        let Some(members) = cluster.quorum_members() else {
            return !node.manager && node.member.is_none();
        };
        if !members.contains(name) {
            return true;
        }
        let running = members.iter().filter(|m| cluster.runs_soundly(m)).count();
        running.saturating_sub(1) > members.len() / 2
    }

    /// Stops every running node whose disk failed a write (its Raft member stopped on the
    /// storage error), as a crash: its disk keeps what was written before. Returns the
    /// trace lines.
    pub(crate) async fn reap(&mut self, cluster: &mut SimCluster) -> Vec<String> {
        let failed: Vec<String> = cluster
            .running()
            .map(|(name, _)| name.clone())
            .filter(|name| cluster.disk_faults(name).is_some_and(|f| f.failed()))
            .collect();
        let mut lines = Vec::new();
        for name in failed {
            cluster.crash(&name).await;
            lines.push(format!("disk: {name} failed a write, stopped"));
        }
        lines
    }

    /// Ends every fault: partitions healed, links clean, disks sound (a manager whose disk
    /// failed a write stopped), crashed nodes restarted.
    pub(crate) async fn calm(&mut self, cluster: &mut SimCluster) -> Vec<String> {
        let net = cluster.net.network().clone();
        net.heal();
        net.clear_faults();
        let mut lines = vec!["calm: partitions healed, links clean".to_owned()];
        let names: Vec<String> = cluster.nodes.keys().cloned().collect();
        for name in names {
            // Disarmed at once; a disk whose write already failed stays failed until restart.
            if cluster.disk_faults(&name).is_some_and(|f| f.disarm())
                && cluster.nodes.get(&name).is_some_and(|n| n.node.is_some())
            {
                cluster.crash(&name).await;
                lines.push(format!("calm: {name}'s disk failed a write, stopped"));
            }
        }
        for name in cluster.crashed() {
            match cluster.restart(&name).await {
                Ok(()) => lines.push(format!("calm: restart {name}")),
                Err(e) => lines.push(format!("calm: restart {name} failed ({e})")),
            }
        }
        lines
    }
}
