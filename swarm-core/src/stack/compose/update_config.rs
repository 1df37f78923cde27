//! `deploy.update_config` and `deploy.rollback_config`.

use crate::model::{FailureAction, UpdateOrder};
use crate::stack::compose::merge::over;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};
use std::time::Duration;

/// A rolling update or rollback policy as written; unset fields take the model's defaults
/// ([`UpdateConfig::default`](crate::model::UpdateConfig)) at conversion.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComposeUpdateConfig {
    /// Tasks replaced at once (0: all).
    pub parallelism: Option<u64>,
    /// Wait between batches.
    pub delay: Option<Duration>,
    /// `pause`, `continue` or `rollback`.
    pub failure_action: Option<FailureAction>,
    /// How long a new task is watched.
    pub monitor: Option<Duration>,
    /// Failures tolerated, 0 to 1.
    pub max_failure_ratio: Option<f64>,
    /// `stop-first` or `start-first`.
    pub order: Option<UpdateOrder>,
}

impl ComposeUpdateConfig {
    /// Reads `update_config:` or `rollback_config:`.
    pub(crate) fn parse(node: Node<'_>) -> Result<Self, StackError> {
        let mut u = ComposeUpdateConfig::default();
        for (key, value) in node.entries(false)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "parallelism" => u.parallelism = Some(child.u64()?),
                "delay" => u.delay = Some(child.duration()?),
                "monitor" => u.monitor = Some(child.duration()?),
                "max_failure_ratio" => u.max_failure_ratio = Some(child.f64()?),
                "failure_action" => {
                    u.failure_action = Some(match child.string()?.as_str() {
                        "pause" => FailureAction::Pause,
                        "continue" => FailureAction::Continue,
                        "rollback" => FailureAction::Rollback,
                        other => {
                            return Err(child.error(format!(
                                "unrecognized update failure action {other} (pause, continue or rollback)"
                            )));
                        }
                    })
                }
                "order" => {
                    u.order = Some(match child.string()?.as_str() {
                        "stop-first" => UpdateOrder::StopFirst,
                        "start-first" => UpdateOrder::StartFirst,
                        other => {
                            return Err(child.error(format!(
                                "unrecognized update order {other} (stop-first or start-first)"
                            )));
                        }
                    })
                }
                _ => return Err(child.error("unknown option")),
            }
        }
        Ok(u)
    }

    /// Merges a later file's policy field by field.
    pub(crate) fn merge_from(&mut self, later: ComposeUpdateConfig) {
        over(&mut self.parallelism, later.parallelism);
        over(&mut self.delay, later.delay);
        over(&mut self.failure_action, later.failure_action);
        over(&mut self.monitor, later.monitor);
        over(&mut self.max_failure_ratio, later.max_failure_ratio);
        over(&mut self.order, later.order);
    }
}
