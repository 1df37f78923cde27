//! Comparing a stack's converted objects with what the cluster holds.

use crate::model::{Service, ServiceSpec};
use crate::stack::objects::labels::NAMESPACE_LABEL;
use crate::stack::objects::stack_objects::StackObjects;
use crate::stack::plan::deploy_plan::DeployPlan;
use crate::stack::plan::existing_stack::ExistingStack;
use crate::stack::plan::missing_external::MissingExternal;
use crate::stack::plan::object_kind::StackObjectKind;
use crate::stack::plan::plan_conflict::PlanConflict;
use crate::stack::plan::service_removal::ServiceRemoval;
use crate::stack::plan::service_update::ServiceUpdate;
use std::collections::{BTreeMap, BTreeSet};

fn in_stack(labels: &BTreeMap<String, String>, stack: &str) -> bool {
    labels.get(NAMESPACE_LABEL).is_some_and(|s| s == stack)
}

/// A stored spec as the converter would have made it: references by name, not id (the
/// control API stores network ids and secret and config ids).
fn as_converted(stored: &ServiceSpec, network_names: &BTreeMap<&str, &str>) -> ServiceSpec {
    let mut spec = stored.clone();
    for n in &mut spec.task_template.networks {
        if let Some(name) = network_names.get(n.target.as_str()) {
            n.target = (*name).to_owned();
        }
    }
    for r in &mut spec.task_template.container.secrets {
        r.secret_id = Default::default();
    }
    for r in &mut spec.task_template.container.configs {
        r.config_id = Default::default();
    }
    spec
}

fn missing(
    kind: StackObjectKind,
    refs: &BTreeMap<String, BTreeSet<String>>,
    exists: impl Fn(&str) -> bool,
) -> Vec<MissingExternal> {
    refs.iter()
        .filter(|(name, _)| !exists(name))
        .map(|(name, services)| MissingExternal {
            kind,
            name: name.clone(),
            services: services.iter().cloned().collect(),
        })
        .collect()
}

/// Plans `docker stack deploy` of `objects` over what the cluster holds, without I/O.
///
/// * Networks of the stack are created when no network has their name (an existing one of the
///   stack is kept as it is, as docker does; one outside the stack is a conflict).
/// * Secrets and configs are created when none has their name; one with the name and the same
///   data is left alone; with other data it is a [`PlanConflict::DataChanged`] (a swarm only
///   lets labels change).
/// * Services are created when the stack has none of that name; a stack service whose spec
///   differs from the converted one (references compared by name, `force_update` kept) is
///   updated; one whose spec is the same is left alone (docker re-sends every spec; the
///   result is the same, no task is replaced). A service of that name outside the stack is a
///   conflict.
/// * With `prune`, stack services no longer in the files are removed (docker prunes services
///   only, never networks, secrets or configs).
/// * External networks (by name or id), secrets and configs (by name) the services use that
///   the cluster lacks are listed in `missing_external`.
///
/// ```
/// use std::collections::BTreeMap;
/// use std::path::Path;
/// use swarm_core::stack::{ComposeFile, ExistingStack, convert, load, plan_deploy};
///
/// let yaml = "services:\n  web:\n    image: nginx:1.27\n";
/// let project = load(&[ComposeFile::new("stack.yml", yaml)], &BTreeMap::new(), &|p: &Path| std::fs::read(p))?;
/// let objects = convert(&project, "demo")?;
/// let plan = plan_deploy(&objects, &ExistingStack::default(), false);
/// assert!(plan.is_deployable());
/// assert_eq!(plan.create.services[0].name, "demo_web");
/// assert_eq!(plan.create.networks[0].name, "demo_default");
/// # Ok::<(), swarm_core::stack::StackError>(())
/// ```
pub fn plan_deploy(objects: &StackObjects, existing: &ExistingStack, prune: bool) -> DeployPlan {
    let stack = objects.stack.as_str();
    let mut plan = DeployPlan::default();

    for spec in &objects.networks {
        match existing.networks.iter().find(|n| n.spec.name == spec.name) {
            None => plan.create.networks.push(spec.clone()),
            Some(n) if in_stack(&n.spec.labels, stack) => {}
            Some(_) => plan.conflicts.push(PlanConflict::NotInStack {
                kind: StackObjectKind::Network,
                name: spec.name.clone(),
            }),
        }
    }
    for spec in &objects.secrets {
        match existing.secrets.iter().find(|s| s.spec.name == spec.name) {
            None => plan.create.secrets.push(spec.clone()),
            Some(s) if s.spec.data == spec.data => {}
            Some(_) => plan.conflicts.push(PlanConflict::DataChanged {
                kind: StackObjectKind::Secret,
                name: spec.name.clone(),
            }),
        }
    }
    for spec in &objects.configs {
        match existing.configs.iter().find(|c| c.spec.name == spec.name) {
            None => plan.create.configs.push(spec.clone()),
            Some(c) if c.spec.data == spec.data => {}
            Some(_) => plan.conflicts.push(PlanConflict::DataChanged {
                kind: StackObjectKind::Config,
                name: spec.name.clone(),
            }),
        }
    }

    let network_names: BTreeMap<&str, &str> = existing
        .networks
        .iter()
        .map(|n| (n.id.as_str(), n.spec.name.as_str()))
        .collect();
    let stack_services: BTreeMap<&str, &Service> = existing
        .services
        .iter()
        .filter(|s| in_stack(&s.spec.labels, stack))
        .map(|s| (s.spec.name.as_str(), s))
        .collect();
    for spec in &objects.services {
        match stack_services.get(spec.name.as_str()) {
            Some(current) => {
                let mut wanted = spec.clone();
                wanted.task_template.force_update = current.spec.task_template.force_update;
                if as_converted(&current.spec, &network_names) == wanted {
                    plan.unchanged.push(spec.name.clone());
                } else {
                    plan.update.push(ServiceUpdate {
                        id: current.id.clone(),
                        version: current.meta.version,
                        spec: wanted,
                    });
                }
            }
            None if existing.services.iter().any(|s| s.spec.name == spec.name) => {
                plan.conflicts.push(PlanConflict::NotInStack {
                    kind: StackObjectKind::Service,
                    name: spec.name.clone(),
                });
            }
            None => plan.create.services.push(spec.clone()),
        }
    }
    if prune {
        let wanted: BTreeSet<&str> = objects.services.iter().map(|s| s.name.as_str()).collect();
        plan.remove = stack_services
            .iter()
            .filter(|(name, _)| !wanted.contains(*name))
            .map(|(name, s)| ServiceRemoval {
                id: s.id.clone(),
                name: (*name).to_owned(),
                version: s.meta.version,
            })
            .collect();
    }

    plan.missing_external.extend(missing(
        StackObjectKind::Network,
        &objects.external.networks,
        |name| {
            existing
                .networks
                .iter()
                .any(|n| n.spec.name == name || n.id.as_str() == name)
        },
    ));
    plan.missing_external.extend(missing(
        StackObjectKind::Secret,
        &objects.external.secrets,
        |name| existing.secrets.iter().any(|s| s.spec.name == name),
    ));
    plan.missing_external.extend(missing(
        StackObjectKind::Config,
        &objects.external.configs,
        |name| existing.configs.iter().any(|c| c.spec.name == name),
    ));
    plan
}
