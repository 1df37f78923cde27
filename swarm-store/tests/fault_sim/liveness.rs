//! The liveness phase after the faults: everything healed and restarted, a leader, a write
//! through every member, and every member converging on the same documents.

use super::sim::Sim;
use super::{COLLECTION, KEYS, LIVENESS_ATTEMPTS, RECOVERY_DEADLINE};
use std::collections::BTreeMap;
use std::time::Duration;
use swarm_store::StoreError;
use swarm_store::testkit::check::{Op, Output};
use tokio::time::Instant;

/// Waits until all running members agree on a running leader.
pub async fn wait_for_agreed_leader(sim: &Sim, deadline: Instant) -> Result<u64, String> {
    loop {
        if let Some(l) = sim.agreed_leader() {
            return Ok(l);
        }
        if Instant::now() >= deadline {
            return Err("no agreed leader after the faults stopped".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Retries `f` until it succeeds, up to [`LIVENESS_ATTEMPTS`].
pub async fn eventually<T, F, Fut>(what: &str, mut f: F) -> Result<T, String>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, StoreError>>,
{
    let mut last = String::new();
    for _ in 0..LIVENESS_ATTEMPTS {
        match f().await {
            Ok(v) => return Ok(v),
            Err(e) => last = e.to_string(),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "{what} kept failing after the faults stopped: {last}"
    ))
}

pub async fn liveness(sim: &Sim) -> Result<(), String> {
    sim.note("liveness: heal, clear faults, restart everyone".into());
    sim.net.heal();
    sim.net.clear_faults();
    for id in sim.down_ids() {
        sim.start(id).await?;
    }
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    let leader = wait_for_agreed_leader(sim, deadline).await?;
    sim.note(format!("liveness: leader {leader}"));

    // A write through every member succeeds.
    for id in 1..=sim.scenario.members {
        let kv = sim.store(id).unwrap().collection::<u64>(COLLECTION);
        let key = format!("final-{id}");
        let value = id;
        let at = sim.tick();
        let op = sim
            .history
            .lock()
            .unwrap()
            .invoke(0, key.clone(), Op::Write(value), at);
        eventually(&format!("a write through member {id}"), || {
            kv.put(&key, &value)
        })
        .await?;
        let at = sim.tick();
        sim.history
            .lock()
            .unwrap()
            .complete(op, Output::Done, at)
            .unwrap();
    }

    // Linearizable reads of every key through every member, recorded.
    let keys: Vec<String> = (0..KEYS)
        .map(|k| format!("k{k}"))
        .chain((1..=sim.scenario.members).map(|id| format!("final-{id}")))
        .collect();
    let mut final_values: BTreeMap<String, Option<u64>> = BTreeMap::new();
    for id in 1..=sim.scenario.members {
        let kv = sim.store(id).unwrap().collection::<u64>(COLLECTION);
        for key in &keys {
            let at = sim.tick();
            let op = sim
                .history
                .lock()
                .unwrap()
                .invoke(0, key.clone(), Op::Read, at);
            let doc = eventually(&format!("a read through member {id}"), || kv.get(key)).await?;
            let value = doc.map(|d| d.value);
            let at = sim.tick();
            sim.history
                .lock()
                .unwrap()
                .complete(op, Output::Read(value), at)
                .unwrap();
            final_values.insert(key.clone(), value);
        }
    }

    // Every member converges: its local (stale-allowed) state equals the linearizable one.
    let leader_store = sim.store(leader).unwrap();
    let target = eventually("reading the revision", || leader_store.revision()).await?;
    let deadline = Instant::now() + RECOVERY_DEADLINE;
    for id in 1..=sim.scenario.members {
        let store = sim.store(id).unwrap();
        while store.local_revision() < target {
            if Instant::now() >= deadline {
                return Err(format!(
                    "member {id} stuck at revision {} < {target}",
                    store.local_revision()
                ));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let kv = store.collection::<u64>(COLLECTION);
        for key in &keys {
            let local = kv
                .get_local(key)
                .map_err(|e| format!("local read on member {id}: {e}"))?
                .map(|d| d.value);
            let expected = final_values[key];
            if local != expected && store.local_revision() == target {
                return Err(format!(
                    "member {id} diverged on {key}: {local:?}, cluster says {expected:?}"
                ));
            }
        }
    }
    Ok(())
}
