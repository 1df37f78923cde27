//! The workload: control calls drawn from the seed (services and jobs created, scaled,
//! updated stop-first or start-first, updated to a failing image, rolled back, removed;
//! secrets and configs created and removed; nodes drained, paused, reactivated, promoted,
//! demoted, removed (forced or not) and new workers joined; the unlock key read and rotated),
//! each recorded in the [`Ledger`](crate::sim::ledger::Ledger).

use crate::model::{
    ConfigReference, ConfigSpec, FailureAction, FileTarget, HealthCheck, NodeAvailability,
    NodeRole, RestartCondition, SecretReference, SecretSpec, ServiceMode, ServiceSpec,
    UpdateConfig, UpdateOrder,
};
use crate::node::{Control, NodeError};
use crate::sim::cluster::{
    IMAGE_COMPLETES, IMAGE_CRASHES, IMAGE_FLAKY_START, IMAGE_RUNS, IMAGE_TURNS_UNHEALTHY,
    SimCluster, addr,
};
use crate::sim::config::{MAX_CONTROL_CALL, MAX_MANAGERS};
use crate::sim::ledger::{Ledger, LedgerNode, LedgerSecret, LedgerService, Outcome};
use crate::sim::sim_rng::SimRng;
use std::collections::BTreeSet;
use std::time::Duration;

/// The most replicas the workload asks of one service.
pub(crate) const MAX_REPLICAS: u64 = 5;
/// The most services the workload keeps at once (it removes instead of creating beyond).
pub(crate) const MAX_SERVICES: usize = 8;
/// The most completions a replicated job of the workload asks for.
pub(crate) const MAX_COMPLETIONS: u64 = 5;
/// The most workers that join after formation in one run.
pub(crate) const MAX_JOINS: u64 = 3;
/// The restart delay of the workload's services whose tasks crash.
pub(crate) const CRASH_RESTART_DELAY: Duration = Duration::from_secs(1);
/// The most restarts per slot of the workload's services whose tasks crash.
pub(crate) const CRASH_MAX_ATTEMPTS: u64 = 2;

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
    next_config: u64,
    next_env: u64,
}

impl Workload {
    /// Draws one control call, makes it through `control` and records it; returns the
    /// trace line.
    pub(crate) async fn step(
        &mut self,
        rng: &SimRng,
        cluster: &mut SimCluster,
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
        if roll < 24 && live.len() < MAX_SERVICES {
            self.create_service(rng, control).await
        } else if roll < 38 {
            let replicated: Vec<String> = self
                .ledger
                .services
                .iter()
                .filter(|(_, s)| s.removed.is_none() && !s.global && !s.job)
                .map(|(n, _)| n.clone())
                .collect();
            match rng.pick(&replicated) {
                Some(name) => self.scale(rng, control, name).await,
                None => self.create_service(rng, control).await,
            }
        } else if roll < 50 {
            match rng.pick(&live) {
                Some(name) => self.update(rng, control, name).await,
                None => "update: no service".to_owned(),
            }
        } else if roll < 54 {
            match rng.pick(&live) {
                Some(name) => self.rollback(control, name).await,
                None => "rollback: no service".to_owned(),
            }
        } else if roll < 62 {
            match rng.pick(&live) {
                Some(name) => self.remove_service(control, name).await,
                None => "remove: no service".to_owned(),
            }
        } else if roll < 69 {
            if rng.percent(50) {
                self.create_secret(control).await
            } else {
                self.create_config(control).await
            }
        } else if roll < 73 {
            let configs = rng.percent(50);
            let kept = if configs {
                &self.ledger.configs
            } else {
                &self.ledger.secrets
            };
            let names: Vec<String> = kept
                .iter()
                .filter(|(_, s)| s.removed.is_none())
                .map(|(n, _)| n.clone())
                .collect();
            match (rng.pick(&names), configs) {
                (Some(name), false) => self.remove_secret(control, name).await,
                (Some(name), true) => self.remove_config(control, name).await,
                (None, _) => "remove secret or config: none".to_owned(),
            }
        } else if roll < 84 {
            self.availability(rng, cluster, control).await
        } else if roll < 92 {
            self.role(rng, cluster, control).await
        } else if roll < 95 {
            self.remove_node(rng, cluster, control).await
        } else if roll < 98 {
            self.join(cluster, control).await
        } else {
            self.unlock_key(cluster, control).await
        }
    }

    /// Removes a worker (`node rm`): forced half the time and always for a crashed one; a
    /// node that is not down is refused without force. A removed node is stopped and
    /// forgotten (its machine gone).
    async fn remove_node(
        &mut self,
        rng: &SimRng,
        cluster: &mut SimCluster,
        control: &Control,
    ) -> String {
        let candidates: Vec<String> = cluster
            .nodes
            .iter()
            .filter(|(name, n)| {
                !n.manager
                    && n.member.is_none()
                    && self
                        .ledger
                        .nodes
                        .get(name.as_str())
                        .is_some_and(|l| l.role == [NodeRole::Worker] && l.removed.is_none())
            })
            .map(|(name, _)| name.clone())
            .collect();
        let Some(name) = rng.pick(&candidates).cloned() else {
            return "node rm: no worker".to_owned();
        };
        let crashed = cluster.nodes.get(&name).is_some_and(|n| n.node.is_none());
        let force = crashed || rng.percent(50);
        let result = within(control.remove_node(&name, force)).await;
        let refused = matches!(&result, Err(e) if e.contains("not down") || e.contains("demoted"));
        let removed = match &result {
            Ok(()) => true,
            Err(_) if refused => false,
            // Unanswered: removed if the cluster no longer knows it.
            Err(_) => within(control.node(&name))
                .await
                .is_err_and(|e| e.contains("not found") || e.contains("no node")),
        };
        if !refused {
            let outcome = self.ledger.ack(result.is_ok());
            if let Some(node) = self.ledger.nodes.get_mut(&name) {
                node.removed = Some(outcome);
            }
        }
        if removed {
            cluster.forget(&name).await;
        }
        format!(
            "node rm {name}{}: {}{}",
            if force { " --force" } else { "" },
            outcome(&result),
            if removed && result.is_err() {
                " (removed)"
            } else {
                ""
            }
        )
    }

    /// A new worker joins through a running manager (at most [`MAX_JOINS`] per run).
    async fn join(&mut self, cluster: &mut SimCluster, control: &Control) -> String {
        if cluster.joined >= MAX_JOINS {
            return "join: enough joined".to_owned();
        }
        let Some(via) = cluster
            .leader()
            .or_else(|| cluster.managers().first().map(|(name, _)| (*name).clone()))
        else {
            return "join: no manager runs".to_owned();
        };
        cluster.joined += 1;
        let name = format!("j{}", cluster.joined);
        let token = match within(control.join_token(NodeRole::Worker)).await {
            Ok(token) => token,
            Err(e) => return format!("join {name}: no token ({e})"),
        };
        let joined = tokio::time::timeout(
            MAX_CONTROL_CALL,
            cluster.join(&name, &via, token.as_str(), false),
        )
        .await
        .unwrap_or_else(|_| Err("no answer".to_owned()));
        match joined {
            Ok(()) => {
                self.ledger
                    .nodes
                    .insert(name.clone(), LedgerNode::new(NodeRole::Worker));
                format!("join {name} via {via}: ok")
            }
            Err(e) => {
                cluster.lost_joins.insert(addr(&name));
                format!(
                    "join {name} via {via}: error ({})",
                    e.split(':').next().unwrap_or("error")
                )
            }
        }
    }

    /// Reads the unlock key (none without autolock); with autolock, rotates it half the
    /// time.
    async fn unlock_key(&mut self, cluster: &mut SimCluster, control: &Control) -> String {
        if !cluster.autolock {
            let result = within(control.unlock_key()).await;
            return match result {
                Ok(None) => "unlock key: none (autolock off)".to_owned(),
                Ok(Some(_)) => {
                    cluster.broken = Some("an unlock key without autolock".to_owned());
                    "unlock key: a key without autolock".to_owned()
                }
                Err(e) => format!("unlock key: error ({e})"),
            };
        }
        match within(control.rotate_unlock_key()).await {
            Ok(Some(key)) => {
                cluster.learn_unlock_key(key.as_str().to_owned());
                self.ledger.ack(true);
                "rotate unlock key: ok".to_owned()
            }
            Ok(None) => {
                cluster.broken = Some("autolock on and a rotation gave no key".to_owned());
                "rotate unlock key: no key".to_owned()
            }
            // Unanswered: a restart reads the current key from a manager.
            Err(e) => format!("rotate unlock key: error ({e})"),
        }
    }

    async fn create_service(&mut self, rng: &SimRng, control: &Control) -> String {
        self.next_service += 1;
        let name = format!("svc-{}", self.next_service);
        let replicas = 1 + rng.below(MAX_REPLICAS);
        let (mode, image) = match rng.below(100) {
            0..15 => (ServiceMode::Global, running_image(rng)),
            15..25 => (
                ServiceMode::ReplicatedJob {
                    max_concurrent: 1 + rng.below(3),
                    total_completions: 1 + rng.below(MAX_COMPLETIONS),
                },
                job_image(rng),
            ),
            25..30 => (ServiceMode::GlobalJob, job_image(rng)),
            _ => (ServiceMode::Replicated { replicas }, running_image(rng)),
        };
        let global = mode.is_global();
        let job = mode.is_job();
        let counted = matches!(mode, ServiceMode::Replicated { .. });
        let mut spec = ServiceSpec::new(&name, image);
        spec.mode = mode;
        if image == IMAGE_CRASHES || image == IMAGE_TURNS_UNHEALTHY {
            limit_restarts(&mut spec, rng);
        }
        if image == IMAGE_TURNS_UNHEALTHY {
            spec.task_template.container.healthcheck = Some(HealthCheck {
                test: vec!["CMD".to_owned(), "probe".to_owned()],
                interval: Duration::from_secs(1),
                timeout: Duration::from_secs(1),
                retries: 1,
                start_period: Duration::ZERO,
            });
        }
        let secrets = self.live_names(false);
        if let Some(secret) = rng.pick(&secrets).filter(|_| rng.percent(50)) {
            spec.task_template.container.secrets = vec![SecretReference {
                secret_id: "".into(),
                secret_name: secret.clone(),
                target: FileTarget::new(secret.as_str()),
            }];
        }
        let configs = self.live_names(true);
        if let Some(config) = rng.pick(&configs).filter(|_| rng.percent(40)) {
            spec.task_template.container.configs = vec![ConfigReference {
                config_id: "".into(),
                config_name: config.clone(),
                target: FileTarget::new(config.as_str()),
            }];
        }
        let result = within(control.create_service(&spec)).await;
        let created = self.ledger.ack(result.is_ok());
        let counts = if counted {
            BTreeSet::from([replicas])
        } else {
            BTreeSet::new()
        };
        self.ledger.services.insert(
            name.clone(),
            LedgerService {
                created,
                removed: None,
                replicas: counts.clone(),
                ever: counts,
                global,
                job,
                image: image.to_owned(),
                updated: false,
                rolls_back_on_failure: false,
            },
        );
        format!("create service {name} {mode} {image}: {}", outcome(&result))
    }

    /// The secrets (`configs` false) or configs whose creation was acknowledged and whose
    /// removal was not asked for.
    fn live_names(&self, configs: bool) -> Vec<String> {
        let kept = if configs {
            &self.ledger.configs
        } else {
            &self.ledger.secrets
        };
        kept.iter()
            .filter(|(_, s)| s.created == Outcome::Done && s.removed.is_none())
            .map(|(n, _)| n.clone())
            .collect()
    }

    async fn scale(&mut self, rng: &SimRng, control: &Control, name: &str) -> String {
        let replicas = rng.below(MAX_REPLICAS + 1);
        let result = within(control.scale_service(name, replicas)).await;
        let ok = result.is_ok();
        let Some(service) = self.ledger.services.get_mut(name) else {
            return format!("scale {name}: not in the ledger");
        };
        if service.global || service.job {
            return format!(
                "scale {name} (not replicated) to {replicas}: {}",
                outcome(&result)
            );
        }
        service.ever.insert(replicas);
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

    /// An update: a new environment, half the time with a drawn update config (stop-first
    /// or start-first, failure action pause or rollback), and one time in five to the image
    /// that crashes, with failure action rollback.
    async fn update(&mut self, rng: &SimRng, control: &Control, name: &str) -> String {
        self.next_env += 1;
        let env = format!("SIM_VERSION={}", self.next_env);
        let failing = rng.percent(20);
        let config = rng.percent(50).then(|| UpdateConfig {
            parallelism: 1 + rng.below(2),
            monitor: Duration::from_millis(1_000 + 1_000 * rng.below(3)),
            order: if rng.percent(50) {
                UpdateOrder::StartFirst
            } else {
                UpdateOrder::StopFirst
            },
            failure_action: if rng.percent(50) {
                FailureAction::Rollback
            } else {
                FailureAction::Pause
            },
            ..UpdateConfig::default()
        });
        let rollback_order = rng.percent(30);
        let result = async {
            let service = within(control.service(name)).await?;
            let mut spec = service.spec.clone();
            spec.task_template.container.env = vec![env.clone()];
            if let Some(config) = &config {
                spec.update_config = Some(config.clone());
            }
            if rollback_order {
                spec.rollback_config = Some(UpdateConfig {
                    order: UpdateOrder::StartFirst,
                    ..UpdateConfig::default()
                });
            }
            if failing {
                spec.task_template.container.image = IMAGE_CRASHES.to_owned();
                limit_restarts(&mut spec, rng);
                let mut c = spec.update_config.clone().unwrap_or_default();
                c.failure_action = FailureAction::Rollback;
                c.monitor = crate::model::DEFAULT_UPDATE_MONITOR;
                spec.update_config = Some(c);
            }
            within(control.update_service(name, service.meta.version, &spec)).await
        }
        .await;
        if let Some(s) = self.ledger.services.get_mut(name) {
            s.updated = true;
            let rollback = failing
                || config
                    .as_ref()
                    .is_some_and(|c| c.failure_action == FailureAction::Rollback);
            s.rolls_back_on_failure |= rollback;
        }
        self.ledger.ack(result.is_ok());
        let what = match (&config, failing) {
            (_, true) => "to the crashing image, rollback on failure".to_owned(),
            (Some(c), false) => format!(
                "{} parallelism {} monitor {} ms on failure {}",
                c.order,
                c.parallelism,
                c.monitor.as_millis(),
                c.failure_action
            ),
            (None, false) => "default config".to_owned(),
        };
        format!("update {name} ({what}): {}", outcome(&result))
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

    async fn create_config(&mut self, control: &Control) -> String {
        self.next_config += 1;
        let name = format!("cfg-{}", self.next_config);
        let spec = ConfigSpec::new(&name, format!("value of {name}").into_bytes());
        let result = within(control.create_config(&spec)).await;
        let created = self.ledger.ack(result.is_ok());
        self.ledger.configs.insert(
            name.clone(),
            LedgerSecret {
                created,
                removed: None,
            },
        );
        format!("create config {name}: {}", outcome(&result))
    }

    async fn remove_config(&mut self, control: &Control, name: &str) -> String {
        let result = within(control.remove_config(name)).await;
        let in_use = matches!(&result, Err(e) if e.contains("in use") || e.contains("used"));
        if !in_use {
            let removed = self.ledger.ack(result.is_ok());
            if let Some(s) = self.ledger.configs.get_mut(name) {
                s.removed = Some(removed);
            }
        }
        format!("remove config {name}: {}", outcome(&result))
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
        let availability = match rng.below(100) {
            0..40 => NodeAvailability::Drain,
            40..60 => NodeAvailability::Pause,
            _ => NodeAvailability::Active,
        };
        let result = within(control.set_availability(name, availability)).await;
        let ok = result.is_ok();
        self.ledger.ack(ok);
        if let Some(node) = self.ledger.nodes.get_mut(name.as_str()) {
            node.set_availability(availability, ok);
        }
        format!("node {name} {availability:?}: {}", outcome(&result))
    }

    /// Promotes a running worker (while fewer than [`MAX_MANAGERS`] are managers) or demotes
    /// a running manager (while more than one is).
    async fn role(&mut self, rng: &SimRng, cluster: &SimCluster, control: &Control) -> String {
        let managers = cluster.nodes.values().filter(|n| n.manager).count();
        let promote = rng.percent(50);
        // Any manager may be demoted, the first one too: an agent cut off meanwhile tries
        // every manager it knew once its current ones fail (see RELIABILITY.md, seed 264).
        let candidates: Vec<&String> = cluster
            .nodes
            .iter()
            .filter(|(_, n)| n.node.is_some() && n.manager != promote)
            .map(|(name, _)| name)
            .collect();
        let allowed = if promote {
            managers < MAX_MANAGERS
        } else {
            managers > 1
        };
        let Some(name) = rng.pick(&candidates).filter(|_| allowed) else {
            return format!(
                "{}: no candidate",
                if promote { "promote" } else { "demote" }
            );
        };
        let (role, result) = if promote {
            (NodeRole::Manager, within(control.promote(name)).await)
        } else {
            (NodeRole::Worker, within(control.demote(name)).await)
        };
        let ok = result.is_ok();
        self.ledger.ack(ok);
        if let Some(node) = self.ledger.nodes.get_mut(name.as_str()) {
            node.set_role(role, ok);
        }
        format!("node {name} role {role:?}: {}", outcome(&result))
    }
}

/// A service's image: mostly one that runs, some that fail to start twice first, a few that
/// turn unhealthy, a few that crash.
fn running_image(rng: &SimRng) -> &'static str {
    match rng.below(100) {
        0..55 => IMAGE_RUNS,
        55..80 => IMAGE_FLAKY_START,
        80..90 => IMAGE_TURNS_UNHEALTHY,
        _ => IMAGE_CRASHES,
    }
}

/// A job's image: mostly one that completes, some that crash.
fn job_image(rng: &SimRng) -> &'static str {
    if rng.percent(80) {
        IMAGE_COMPLETES
    } else {
        IMAGE_CRASHES
    }
}

/// The restart policy of a service whose tasks crash: on any exit, after
/// [`CRASH_RESTART_DELAY`], at most [`CRASH_MAX_ATTEMPTS`] times, within a drawn window
/// (none half the time).
fn limit_restarts(spec: &mut ServiceSpec, rng: &SimRng) {
    let policy = &mut spec.task_template.restart_policy;
    policy.condition = RestartCondition::Any;
    policy.delay = CRASH_RESTART_DELAY;
    policy.max_attempts = CRASH_MAX_ATTEMPTS;
    policy.window = if rng.percent(50) {
        Duration::ZERO
    } else {
        Duration::from_secs(5 + rng.below(20))
    };
}

/// A call's outcome for the trace: `ok` or the error's kind.
fn outcome<T>(result: &Result<T, String>) -> String {
    match result {
        Ok(_) => "ok".to_owned(),
        Err(e) => format!("error ({e})"),
    }
}
