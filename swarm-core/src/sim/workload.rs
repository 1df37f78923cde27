//! The workload: control calls drawn from the seed (services created, scaled, updated,
//! rolled back, removed; secrets created and removed; nodes drained and reactivated), each
//! recorded in the [`Ledger`](crate::sim::ledger::Ledger).

use crate::model::{
    FileTarget, NodeAvailability, RestartCondition, SecretReference, SecretSpec, ServiceMode,
    ServiceSpec,
};
use crate::node::{Control, NodeError};
use crate::sim::cluster::{IMAGE_CRASHES, IMAGE_FLAKY_START, IMAGE_RUNS, SimCluster};
use crate::sim::config::MAX_CONTROL_CALL;
use crate::sim::ledger::{Ledger, LedgerSecret, LedgerService, Outcome};
use crate::sim::sim_rng::SimRng;
use std::collections::BTreeSet;
use std::time::Duration;

/// The most replicas the workload asks of one service.
pub(crate) const MAX_REPLICAS: u64 = 5;
/// The most services the workload keeps at once (it removes instead of creating beyond).
pub(crate) const MAX_SERVICES: usize = 8;

/// Runs `call` within [`MAX_CONTROL_CALL`]; `Err` names what happened.
async fn within<T>(
    call: impl std::future::Future<Output = Result<T, NodeError>>,
) -> Result<T, String> {
    match tokio::time::timeout(MAX_CONTROL_CALL, call).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(short(&e)),
        Err(_) => Err("no answer".to_owned()),
    }
}

/// An error's kind, without the details that carry ids or addresses.
fn short(e: &NodeError) -> String {
    let text = e.to_string();
    text.split(':').next().unwrap_or("error").to_owned()
}

/// The workload's state: the ledger and the counters that name new objects.
#[derive(Debug, Default)]
pub(crate) struct Workload {
    pub(crate) ledger: Ledger,
    next_service: u64,
    next_secret: u64,
    next_env: u64,
}

impl Workload {
    /// Draws one control call, makes it through `control` and records it; returns the
    /// trace line.
    pub(crate) async fn step(
        &mut self,
        rng: &SimRng,
        cluster: &SimCluster,
        control: &Control,
    ) -> String {
        let live: Vec<String> = self
            .ledger
            .services
            .iter()
            .filter(|(_, s)| s.removed.is_none())
            .map(|(n, _)| n.clone())
            .collect();
        let roll = rng.below(100);
        if roll < 30 && live.len() < MAX_SERVICES {
            self.create_service(rng, control).await
        } else if roll < 48 {
            match rng.pick(&live) {
                Some(name) => self.scale(rng, control, name).await,
                None => self.create_service(rng, control).await,
            }
        } else if roll < 58 {
            match rng.pick(&live) {
                Some(name) => self.update(control, name).await,
                None => "update: no service".to_owned(),
            }
        } else if roll < 62 {
            match rng.pick(&live) {
                Some(name) => self.rollback(control, name).await,
                None => "rollback: no service".to_owned(),
            }
        } else if roll < 72 {
            match rng.pick(&live) {
                Some(name) => self.remove_service(control, name).await,
                None => "remove: no service".to_owned(),
            }
        } else if roll < 82 {
            self.create_secret(control).await
        } else if roll < 86 {
            let secrets: Vec<String> = self
                .ledger
                .secrets
                .iter()
                .filter(|(_, s)| s.removed.is_none())
                .map(|(n, _)| n.clone())
                .collect();
            match rng.pick(&secrets) {
                Some(name) => self.remove_secret(control, name).await,
                None => "remove secret: none".to_owned(),
            }
        } else {
            self.availability(rng, cluster, control).await
        }
    }

    async fn create_service(&mut self, rng: &SimRng, control: &Control) -> String {
        self.next_service += 1;
        let name = format!("svc-{}", self.next_service);
        let image = match rng.below(100) {
            0..60 => IMAGE_RUNS,
            60..85 => IMAGE_FLAKY_START,
            _ => IMAGE_CRASHES,
        };
        let global = rng.percent(20);
        let replicas = 1 + rng.below(MAX_REPLICAS);
        let mut spec = ServiceSpec::new(&name, image);
        spec.mode = if global {
            ServiceMode::Global
        } else {
            ServiceMode::Replicated { replicas }
        };
        if image == IMAGE_CRASHES {
            let policy = &mut spec.task_template.restart_policy;
            policy.condition = RestartCondition::Any;
            policy.delay = Duration::from_secs(1);
            policy.max_attempts = 2;
        }
        let secrets: Vec<&String> = self
            .ledger
            .secrets
            .iter()
            .filter(|(_, s)| s.created == Outcome::Done && s.removed.is_none())
            .map(|(n, _)| n)
            .collect();
        if let Some(secret) = rng.pick(&secrets).filter(|_| rng.percent(50)) {
            spec.task_template.container.secrets = vec![SecretReference {
                secret_id: "".into(),
                secret_name: (*secret).clone(),
                target: FileTarget::new(secret.as_str()),
            }];
        }
        let mode = if global {
            "global".to_owned()
        } else {
            format!("replicas={replicas}")
        };
        let result = within(control.create_service(&spec)).await;
        let created = self.ledger.ack(result.is_ok());
        self.ledger.services.insert(
            name.clone(),
            LedgerService {
                created,
                removed: None,
                replicas: if global {
                    BTreeSet::new()
                } else {
                    BTreeSet::from([replicas])
                },
                ever: if global {
                    BTreeSet::new()
                } else {
                    BTreeSet::from([replicas])
                },
                global,
                image: image.to_owned(),
                updated: false,
            },
        );
        format!("create service {name} {mode} {image}: {}", outcome(&result))
    }

    async fn scale(&mut self, rng: &SimRng, control: &Control, name: &str) -> String {
        let replicas = rng.below(MAX_REPLICAS + 1);
        let result = within(control.scale_service(name, replicas)).await;
        let ok = result.is_ok();
        let Some(service) = self.ledger.services.get_mut(name) else {
            return format!("scale {name}: not in the ledger");
        };
        service.ever.insert(replicas);
        if service.global {
            return format!("scale {name} (global) to {replicas}: {}", outcome(&result));
        }
        if ok {
            self.ledger.acknowledged += 1;
            if let Some(s) = self.ledger.services.get_mut(name) {
                s.created = Outcome::Done;
                s.replicas = BTreeSet::from([replicas]);
            }
        } else {
            service.replicas.insert(replicas);
        }
        format!("scale {name} to {replicas}: {}", outcome(&result))
    }

    async fn update(&mut self, control: &Control, name: &str) -> String {
        self.next_env += 1;
        let result = async {
            let service = within(control.service(name)).await?;
            let mut spec = service.spec.clone();
            spec.task_template.container.env = vec![format!("SIM_VERSION={}", self.next_env)];
            within(control.update_service(name, service.meta.version, &spec)).await
        }
        .await;
        if let Some(s) = self.ledger.services.get_mut(name) {
            s.updated = true;
        }
        self.ledger.ack(result.is_ok());
        format!("update {name}: {}", outcome(&result))
    }

    async fn rollback(&mut self, control: &Control, name: &str) -> String {
        let result = within(control.rollback_service(name)).await;
        if let Some(s) = self.ledger.services.get_mut(name) {
            // The previous spec may carry any replica count asked before.
            s.updated = true;
            let ever = s.ever.clone();
            s.replicas.extend(ever);
        }
        self.ledger.ack(result.is_ok());
        format!("rollback {name}: {}", outcome(&result))
    }

    async fn remove_service(&mut self, control: &Control, name: &str) -> String {
        let result = within(control.remove_service(name)).await;
        let removed = self.ledger.ack(result.is_ok());
        if let Some(s) = self.ledger.services.get_mut(name) {
            s.removed = Some(removed);
        }
        format!("remove service {name}: {}", outcome(&result))
    }

    async fn create_secret(&mut self, control: &Control) -> String {
        self.next_secret += 1;
        let name = format!("sec-{}", self.next_secret);
        let spec = SecretSpec::new(&name, format!("value of {name}").into_bytes());
        let result = within(control.create_secret(&spec)).await;
        let created = self.ledger.ack(result.is_ok());
        self.ledger.secrets.insert(
            name.clone(),
            LedgerSecret {
                created,
                removed: None,
            },
        );
        format!("create secret {name}: {}", outcome(&result))
    }

    async fn remove_secret(&mut self, control: &Control, name: &str) -> String {
        let result = within(control.remove_secret(name)).await;
        // Refused while a service uses it: then it stays.
        let in_use = matches!(&result, Err(e) if e.contains("in use") || e.contains("used"));
        if !in_use {
            let removed = self.ledger.ack(result.is_ok());
            if let Some(s) = self.ledger.secrets.get_mut(name) {
                s.removed = Some(removed);
            }
        }
        format!("remove secret {name}: {}", outcome(&result))
    }

    async fn availability(
        &mut self,
        rng: &SimRng,
        cluster: &SimCluster,
        control: &Control,
    ) -> String {
        let names: Vec<&String> = cluster.nodes.keys().collect();
        let Some(name) = rng.pick(&names) else {
            return "availability: no node".to_owned();
        };
        let availability = if rng.percent(50) {
            NodeAvailability::Drain
        } else {
            NodeAvailability::Active
        };
        let result = within(control.set_availability(name, availability)).await;
        self.ledger.ack(result.is_ok());
        format!("node {name} {availability:?}: {}", outcome(&result))
    }
}

/// A call's outcome for the trace: `ok` or the error's kind.
fn outcome<T>(result: &Result<T, String>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("error ({e})"),
    }
}
