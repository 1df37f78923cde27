//! `docker stack deploy` on a running cluster.

use crate::manager::control::ControlError;
use crate::model::{SecretSpec, Version};
use crate::node::{Control, NodeError};
use crate::stack::cluster::deploy_options::DeployOptions;
use crate::stack::cluster::deploy_report::DeployReport;
use crate::stack::cluster::stack_deploy_error::StackDeployError;
use crate::stack::cluster::stack_step::{StackAction, StackStep};
use crate::stack::objects::stack_objects::StackObjects;
use crate::stack::plan::existing_stack::ExistingStack;
use crate::stack::plan::object_kind::StackObjectKind;
use crate::stack::plan::plan_conflict::PlanConflict;
use crate::stack::plan::plan_deploy::plan_deploy;

/// A stack secret that exists: the managers compare its value when the deploy sends the spec
/// again.
struct KnownSecret {
    id: String,
    version: Version,
    spec: SecretSpec,
}

/// The existing secrets of the stack, by the specs the files give, with their (unknown) data
/// taken to be the files' (checked by the managers before anything changes).
fn assume_same_values(existing: &mut ExistingStack, objects: &StackObjects) -> Vec<KnownSecret> {
    let mut known = Vec::new();
    for wanted in &objects.secrets {
        if let Some(secret) = existing
            .secrets
            .iter_mut()
            .find(|s| s.spec.name == wanted.name)
        {
            secret.spec.data = wanted.data.clone();
            known.push(KnownSecret {
                id: secret.id.as_str().to_owned(),
                version: secret.meta.version,
                spec: wanted.clone(),
            });
        }
    }
    known
}

fn step(action: StackAction, kind: StackObjectKind, name: &str, id: &str) -> StackStep {
    StackStep {
        action,
        kind,
        name: name.to_owned(),
        id: id.to_owned(),
    }
}

/// `docker stack deploy`: makes the cluster run `objects` (from [`convert`](crate::stack::convert))
/// as stack `objects.stack`, through `control`.
///
/// 1. Reads the cluster's services, networks, secrets and configs
///    ([`ExistingStack::from_control`]) and plans with [`plan_deploy`].
/// 2. Refuses, changing nothing, when external objects are missing
///    ([`StackDeployError::MissingExternal`], docker's `service web: secret not found: tls`)
///    or objects clash ([`StackDeployError::Conflicts`]: a service or network of the name
///    outside the stack, a config of the stack with other data).
/// 3. Sends the spec of each stack secret and config that exists again, as docker does: the
///    managers change labels only and refuse another value, which is reported as
///    [`PlanConflict::DataChanged`] naming it, before anything else changes.
/// 4. Creates the networks, secrets and configs the stack lacks, then, in name order, creates
///    the new services and updates those whose spec changed (a rolling update, with the
///    version read in step 1: a concurrent change is refused naming the service). Services
///    whose spec is unchanged are not touched (docker sends every spec again; the outcome is
///    the same, no task is replaced).
/// 5. With [`DeployOptions::prune`], removes the stack's services the files no longer name.
///
/// The returned report renders as docker's output ([`DeployReport::render`]). A control call
/// that fails stops the deploy ([`StackDeployError::Control`] naming the object); deploying
/// again goes on from where it stopped.
///
/// ```no_run
/// # async fn demo(control: swarm_core::node::Control) -> Result<(), Box<dyn std::error::Error>> {
/// use std::collections::BTreeMap;
/// use std::path::Path;
/// use swarm_core::stack::{ComposeFile, DeployOptions, convert, deploy, load};
///
/// let yaml = "services:\n  web:\n    image: nginx:1.27\n    deploy:\n      replicas: 2\n";
/// let project = load(&[ComposeFile::new("stack.yml", yaml)], &BTreeMap::new(), &|p: &Path| std::fs::read(p))?;
/// let objects = convert(&project, "shop")?;
/// let report = deploy(&control, &objects, &DeployOptions::default()).await?;
/// print!("{}", report.render()); // Creating network shop_default, Creating service shop_web
/// # Ok(()) }
/// ```
pub async fn deploy(
    control: &Control,
    objects: &StackObjects,
    options: &DeployOptions,
) -> Result<DeployReport, StackDeployError> {
    let mut existing = ExistingStack::from_control(control)
        .await
        .map_err(StackDeployError::control("read the cluster's objects"))?;
    let known_secrets = assume_same_values(&mut existing, objects);
    let plan = plan_deploy(objects, &existing, options.prune);
    if !plan.missing_external.is_empty() {
        return Err(StackDeployError::MissingExternal(plan.missing_external));
    }
    if !plan.conflicts.is_empty() {
        return Err(StackDeployError::Conflicts(plan.conflicts));
    }

    for secret in &known_secrets {
        match control
            .update_secret(&secret.id, secret.version, &secret.spec)
            .await
        {
            Ok(()) => {}
            Err(NodeError::Control(ControlError::OnlyLabelsMayChange { .. })) => {
                return Err(StackDeployError::Conflicts(vec![
                    PlanConflict::DataChanged {
                        kind: StackObjectKind::Secret,
                        name: secret.spec.name.clone(),
                    },
                ]));
            }
            Err(e) => {
                return Err(StackDeployError::Control {
                    action: format!("update secret {}", secret.spec.name),
                    source: e,
                });
            }
        }
    }
    for wanted in &objects.configs {
        let Some(config) = existing.configs.iter().find(|c| c.spec.name == wanted.name) else {
            continue;
        };
        if config.spec.labels != wanted.labels {
            control
                .update_config(config.id.as_str(), config.meta.version, wanted)
                .await
                .map_err(StackDeployError::control(format!(
                    "update config {}",
                    wanted.name
                )))?;
        }
    }

    let mut report = DeployReport {
        stack: objects.stack.clone(),
        warnings: objects.warnings.clone(),
        steps: Vec::new(),
        unchanged_services: plan.unchanged.clone(),
    };
    report.warnings.extend(
        objects
            .not_supported
            .iter()
            .map(|origin| format!("{origin}: not supported yet, not applied")),
    );
    for spec in &plan.create.networks {
        let id = control
            .create_network(spec)
            .await
            .map_err(StackDeployError::control(format!(
                "create network {}",
                spec.name
            )))?;
        report.steps.push(step(
            StackAction::Create,
            StackObjectKind::Network,
            &spec.name,
            id.as_str(),
        ));
    }
    for spec in &plan.create.secrets {
        let id = control
            .create_secret(spec)
            .await
            .map_err(StackDeployError::control(format!(
                "create secret {}",
                spec.name
            )))?;
        report.steps.push(step(
            StackAction::Create,
            StackObjectKind::Secret,
            &spec.name,
            id.as_str(),
        ));
    }
    for spec in &plan.create.configs {
        let id = control
            .create_config(spec)
            .await
            .map_err(StackDeployError::control(format!(
                "create config {}",
                spec.name
            )))?;
        report.steps.push(step(
            StackAction::Create,
            StackObjectKind::Config,
            &spec.name,
            id.as_str(),
        ));
    }
    for spec in &objects.services {
        if let Some(new) = plan.create.services.iter().find(|s| s.name == spec.name) {
            let id = control
                .create_service(new)
                .await
                .map_err(StackDeployError::control(format!(
                    "create service {}",
                    new.name
                )))?;
            report.steps.push(step(
                StackAction::Create,
                StackObjectKind::Service,
                &new.name,
                id.as_str(),
            ));
        } else if let Some(update) = plan.update.iter().find(|u| u.spec.name == spec.name) {
            control
                .update_service(update.id.as_str(), update.version, &update.spec)
                .await
                .map_err(StackDeployError::control(format!(
                    "update service {}",
                    update.spec.name
                )))?;
            report.steps.push(step(
                StackAction::Update,
                StackObjectKind::Service,
                &update.spec.name,
                update.id.as_str(),
            ));
        }
    }
    for removal in &plan.remove {
        control
            .remove_service(removal.id.as_str())
            .await
            .map_err(StackDeployError::control(format!(
                "remove service {}",
                removal.name
            )))?;
        report.steps.push(step(
            StackAction::Remove,
            StackObjectKind::Service,
            &removal.name,
            removal.id.as_str(),
        ));
    }
    Ok(report)
}
