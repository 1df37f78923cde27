//! The fault schedule: partitions, crashes and restarts, lossy, slow and duplicating links, each
//! undone after a while.

use super::FAULT_PHASE;
use super::sim::Sim;
use std::sync::Arc;
use std::time::Duration;
use swarm_store::MemberId;
use swarm_store::testkit::SplitMix64;
use swarm_store::testkit::inproc::LinkFaults;
use tokio::time::Instant;

/// Something the fault schedule undoes later.
#[derive(Debug)]
pub enum Undo {
    Rejoin(u64),
    HealLink(u64, u64),
    HealAll,
    Restart(u64),
    ClearFaults,
}

pub async fn nemesis(sim: Arc<Sim>) -> Result<(), String> {
    let mut rng = SplitMix64::derive(sim.seed, 7);
    let n = sim.scenario.members;
    let max_down = ((n - 1) / 2) as usize;
    let end = Instant::now() + FAULT_PHASE;
    let mut undo: Vec<(Instant, Undo)> = Vec::new();
    while Instant::now() < end {
        tokio::time::sleep(Duration::from_millis(rng.between(100, 500))).await;
        // Undo what is due.
        let now = Instant::now();
        let (due, later): (Vec<_>, Vec<_>) = undo.into_iter().partition(|(at, _)| *at <= now);
        undo = later;
        for (_, u) in due {
            sim.note(format!("undo {u:?}"));
            match u {
                Undo::Rejoin(id) => sim.net.rejoin(MemberId(id)),
                Undo::HealLink(a, b) => sim.net.heal_link(MemberId(a), MemberId(b)),
                Undo::HealAll => sim.net.heal(),
                Undo::Restart(id) => {
                    sim.start(id).await?;
                }
                Undo::ClearFaults => sim.net.clear_faults(),
            }
        }
        let hold = Instant::now() + Duration::from_millis(rng.between(200, 1500));
        let pick = |rng: &mut SplitMix64| 1 + rng.below(n);
        match rng.below(6) {
            0 => {
                if let Some(leader) = sim.some_leader() {
                    sim.note(format!("isolate leader {leader}"));
                    sim.net.isolate(MemberId(leader));
                    undo.push((hold, Undo::Rejoin(leader)));
                }
            }
            1 | 2 => {
                // Crash the leader or a random member, keeping a majority up.
                let victim = if rng.chance(0.5) {
                    sim.some_leader()
                } else {
                    Some(pick(&mut rng))
                };
                if let Some(id) = victim {
                    if sim.down_ids().len() < max_down && sim.store(id).is_some() {
                        sim.note(format!("crash {id}"));
                        sim.crash(id).await;
                        undo.push((hold, Undo::Restart(id)));
                    }
                }
            }
            3 => {
                let drop = rng.below(25) as f64 / 100.0;
                let delay_max = Duration::from_millis(rng.below(40));
                let dup = if sim.scenario.duplicates {
                    rng.below(15) as f64 / 100.0
                } else {
                    0.0
                };
                let faults = LinkFaults::none()
                    .with_drop_probability(drop)
                    .with_delay(Duration::ZERO, delay_max)
                    .with_duplicate_probability(dup);
                sim.note(format!("links: {faults:?}"));
                sim.net.set_default_faults(faults)?;
                undo.push((hold, Undo::ClearFaults));
            }
            4 => {
                // A random minority split away from the rest.
                let mut ids: Vec<u64> = (1..=n).collect();
                for i in (1..ids.len()).rev() {
                    ids.swap(i, rng.below(i as u64 + 1) as usize);
                }
                let cut = 1 + rng.below(max_down as u64) as usize;
                let (minority, majority) = ids.split_at(cut);
                let minority: Vec<MemberId> = minority.iter().map(|&i| MemberId(i)).collect();
                let majority: Vec<MemberId> = majority.iter().map(|&i| MemberId(i)).collect();
                sim.note(format!("split {minority:?} from {majority:?}"));
                sim.net.split(&[&minority, &majority]);
                undo.push((hold, Undo::HealAll));
            }
            _ => {
                let (a, b) = (pick(&mut rng), pick(&mut rng));
                if a != b {
                    sim.note(format!("one-way partition {a} -> {b}"));
                    sim.net.partition_one_way(MemberId(a), MemberId(b));
                    undo.push((hold, Undo::HealLink(a, b)));
                }
            }
        }
    }
    Ok(())
}
