//! The clients: random writes, compare-and-swaps and reads through random members, each recorded
//! in the history.

use super::sim::Sim;
use super::{COLLECTION, KEYS};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use swarm_store::StoreError;
use swarm_store::testkit::SplitMix64;
use swarm_store::testkit::check::{Op, OpId, Output};
use swarm_store::transport::TransportError;

/// Records one client operation around `run`.
pub async fn record<F>(sim: &Sim, client: u64, key: &str, op: Op<u64>, run: F)
where
    F: std::future::Future<Output = Result<Output<u64>, bool>>,
{
    sim.trace(|| format!("client {client} invokes {op:?} on {key}"));
    let id: OpId = {
        let at = sim.tick();
        sim.history
            .lock()
            .unwrap()
            .invoke(client, key.to_owned(), op, at)
    };
    let result = run.await;
    sim.trace(|| format!("client {client} gets {result:?}"));
    let at = sim.tick();
    let mut history = sim.history.lock().unwrap();
    match result {
        Ok(output) => history.complete(id, output, at).unwrap(),
        // Definitely no effect.
        Err(true) => history.fail(id).unwrap(),
        // May or may not have taken effect: stays pending.
        Err(false) => {}
    }
}

/// Whether a write's error proves it had no effect. The store only returns `NotLeader` /
/// `NoLeader` after every attempt was refused before being proposed (openraft's
/// `ForwardToLeader` means "rejected before its entry was appended"), `Shutdown` when its member
/// had stopped before anything of the write left it, and the in-process network's "not
/// running" means the request was never delivered. Everything else (timeouts, lost
/// connections, a member stopping mid-way) leaves the write pending: it may or may not have
/// taken effect.
pub fn no_effect(e: &StoreError) -> bool {
    if std::env::var("SWARM_ERRORS").is_ok() {
        eprintln!("write error: {e:?}");
    }
    match e {
        StoreError::NotLeader { .. } | StoreError::NoLeader | StoreError::Shutdown => true,
        StoreError::Transport(TransportError::Unreachable { detail, .. }) => {
            detail == "member is not running"
        }
        _ => false,
    }
}

pub async fn client(sim: Arc<Sim>, client: u64, stop: Arc<AtomicBool>) {
    let mut rng = SplitMix64::derive(sim.seed, 1000 + client);
    let mut counter = 0u64;
    // The last (value, version) this client saw per key, for compare-and-swap.
    let mut seen: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    while !stop.load(Ordering::SeqCst) {
        let ids = sim.running_ids();
        if ids.is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
            continue;
        }
        let member = ids[rng.below(ids.len() as u64) as usize];
        sim.trace(|| format!("client {client} picks member {member}"));
        let Some(store) = sim.store(member) else {
            continue;
        };
        let kv = store.collection::<u64>(COLLECTION);
        let key = format!("k{}", rng.below(KEYS));
        counter += 1;
        let value = (client << 32) | counter;
        match rng.below(10) {
            0..=3 => {
                record(&sim, client, &key, Op::Write(value), async {
                    match kv.put(&key, &value).await {
                        Ok(_) => Ok(Output::Done),
                        Err(e) => Err(no_effect(&e)),
                    }
                })
                .await;
            }
            4..=5 => match seen.get(&key).copied() {
                Some((old, version)) => {
                    let op = Op::Cas {
                        expected: Some(old),
                        new: Some(value),
                    };
                    let mut learned = None;
                    record(&sim, client, &key, op, async {
                        match kv.update(&key, &value, version).await {
                            Ok(v) => {
                                learned = Some((value, v));
                                Ok(Output::Cas(true))
                            }
                            // The precondition was evaluated by the state machine: no effect.
                            Err(StoreError::Conflict { .. } | StoreError::NotFound { .. }) => {
                                Ok(Output::Cas(false))
                            }
                            Err(e) => Err(no_effect(&e)),
                        }
                    })
                    .await;
                    if let Some(l) = learned {
                        seen.insert(key.clone(), l);
                    } else {
                        seen.remove(&key);
                    }
                }
                None => {
                    let op = Op::Cas {
                        expected: None,
                        new: Some(value),
                    };
                    record(&sim, client, &key, op, async {
                        match kv.create(&key, &value).await {
                            Ok(_) => Ok(Output::Cas(true)),
                            Err(StoreError::AlreadyExists { .. }) => Ok(Output::Cas(false)),
                            Err(e) => Err(no_effect(&e)),
                        }
                    })
                    .await;
                }
            },
            _ => {
                let mut learned = None;
                let stale = sim.scenario.stale_reads;
                record(&sim, client, &key, Op::Read, async {
                    let result = if stale {
                        kv.get_local(&key)
                    } else {
                        kv.get(&key).await
                    };
                    match result {
                        Ok(doc) => {
                            learned = doc.as_ref().map(|d| (d.value, d.version));
                            Ok(Output::Read(doc.map(|d| d.value)))
                        }
                        Err(_) => Err(true),
                    }
                })
                .await;
                match learned {
                    Some(l) => seen.insert(key.clone(), l),
                    None => seen.remove(&key),
                };
            }
        }
        tokio::time::sleep(Duration::from_millis(rng.below(25))).await;
    }
}
