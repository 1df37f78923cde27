//! Rules for a service spec.

use crate::model::ServiceMode;
use crate::model::ServiceSpec;
use crate::validate::Validate;
use crate::validate::endpoint::check_endpoint;
use crate::validate::error::{ObjectKind, Report, Rule, ValidationErrors};
use crate::validate::names::{check_dns_label_name, check_labels};
use crate::validate::quantity::Quantity;
use crate::validate::task_template::check_task_spec;
use crate::validate::update_config::check_update_config;

impl Validate for ServiceSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut r = Report::new(ObjectKind::Service, &self.name);
        check_dns_label_name(&mut r, "name", &self.name);
        check_labels(&mut r, "labels", &self.labels);
        check_mode(&mut r, &self.mode);
        check_task_spec(
            &mut r,
            "task_template",
            &self.task_template,
            Some(&self.mode),
        );
        if self.mode.is_job() {
            if self.update_config.is_some() {
                r.push("update_config", Rule::JobWithUpdateConfig);
            }
            if self.rollback_config.is_some() {
                r.push("rollback_config", Rule::JobWithUpdateConfig);
            }
        } else {
            if let Some(u) = &self.update_config {
                check_update_config(&mut r, "update_config", u, false);
            }
            if let Some(u) = &self.rollback_config {
                check_update_config(&mut r, "rollback_config", u, true);
            }
        }
        if let Some(ep) = &self.endpoint_spec {
            check_endpoint(&mut r, "endpoint_spec", ep);
        }
        r.finish()
    }
}

/// Most tasks one service may keep running at once (replicas, or a job's `max_concurrent`): a
/// typo like an extra zero should be an error, not a million-task rollout.
pub const MAX_SERVICE_TASKS: u64 = 1_000_000;

fn check_mode(r: &mut Report, mode: &ServiceMode) {
    let running = match *mode {
        ServiceMode::Replicated { replicas } => Some(("mode.replicated.replicas", replicas)),
        ServiceMode::ReplicatedJob { max_concurrent, .. } => {
            Some(("mode.replicated_job.max_concurrent", max_concurrent))
        }
        ServiceMode::Global | ServiceMode::GlobalJob => None,
    };
    if let Some((field, n)) = running.filter(|(_, n)| *n > MAX_SERVICE_TASKS) {
        r.push(
            field,
            Rule::AboveMaximum {
                value: Quantity::Count(n),
                maximum: Quantity::Count(MAX_SERVICE_TASKS),
            },
        );
    }
    if let ServiceMode::ReplicatedJob {
        max_concurrent,
        total_completions,
    } = *mode
    {
        if max_concurrent == 0 {
            r.push(
                "mode.replicated_job.max_concurrent",
                Rule::BelowMinimum {
                    value: Quantity::Count(0),
                    minimum: Quantity::Count(1),
                },
            );
        }
        if total_completions == 0 {
            r.push(
                "mode.replicated_job.total_completions",
                Rule::BelowMinimum {
                    value: Quantity::Count(0),
                    minimum: Quantity::Count(1),
                },
            );
        } else if max_concurrent > total_completions {
            r.push(
                "mode.replicated_job.max_concurrent",
                Rule::ConcurrencyAboveCompletions {
                    max_concurrent,
                    total_completions,
                },
            );
        }
    }
}
