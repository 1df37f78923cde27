//! `deploy.restart_policy`, and the legacy `restart:` docker falls back to.

use crate::model::RestartCondition;
use crate::stack::compose::merge::over;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};
use std::time::Duration;

/// A restart policy as written; unset fields take the model's defaults (condition `any`, delay
/// 5 s, unlimited attempts, no window) at conversion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeRestartPolicy {
    /// `none`, `on-failure` or `any`.
    pub condition: Option<RestartCondition>,
    /// Wait before restarting.
    pub delay: Option<Duration>,
    /// Restarts allowed (in `window`).
    pub max_attempts: Option<u64>,
    /// The window attempts are counted in.
    pub window: Option<Duration>,
}

fn condition(node: Node<'_>, text: &str) -> Result<RestartCondition, StackError> {
    match text {
        "none" => Ok(RestartCondition::None),
        "on-failure" => Ok(RestartCondition::OnFailure),
        "any" | "" => Ok(RestartCondition::Any),
        other => Err(node.error(format!(
            "invalid restart condition {other:?} (none, on-failure or any)"
        ))),
    }
}

impl ComposeRestartPolicy {
    /// Reads `deploy.restart_policy:`.
    pub(crate) fn parse(node: Node<'_>) -> Result<Self, StackError> {
        let mut r = ComposeRestartPolicy::default();
        for (key, value) in node.entries(false)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "condition" => r.condition = Some(condition(child, &child.string()?)?),
                "delay" => r.delay = Some(child.duration()?),
                "max_attempts" => r.max_attempts = Some(child.u64()?),
                "window" => r.window = Some(child.duration()?),
                _ => return Err(child.error("unknown option")),
            }
        }
        Ok(r)
    }

    /// Reads the legacy `restart:` (`no`, `always`, `unless-stopped`, `on-failure[:N]`) as
    /// docker's fallback: `no` (or empty) gives no policy, so the default applies.
    pub(crate) fn parse_legacy(node: Node<'_>) -> Result<Option<Self>, StackError> {
        let text = node.string()?;
        let (name, count) = match text.split_once(':') {
            Some((n, c)) => {
                let c: u64 = c.parse().map_err(|_| {
                    node.error(format!(
                        "invalid restart policy: maximum retry count must be an integer: {c:?}"
                    ))
                })?;
                (n, Some(c))
            }
            None => (text.as_str(), None),
        };
        if count.is_some() && name != "on-failure" {
            return Err(node.error(format!(
                "invalid restart policy: maximum retry count can only be used with 'on-failure', not {name:?}"
            )));
        }
        let max_attempts = count.filter(|c| *c > 0);
        match name {
            "no" | "" => Ok(None),
            "always" | "unless-stopped" => Ok(Some(ComposeRestartPolicy {
                condition: Some(RestartCondition::Any),
                max_attempts,
                ..Default::default()
            })),
            "on-failure" => Ok(Some(ComposeRestartPolicy {
                condition: Some(RestartCondition::OnFailure),
                max_attempts,
                ..Default::default()
            })),
            other => Err(node.error(format!(
                "invalid restart policy: unknown policy '{other}' (must be one of 'no', 'always', 'on-failure', or 'unless-stopped')"
            ))),
        }
    }

    /// Merges a later file's policy field by field.
    pub(crate) fn merge_from(&mut self, later: ComposeRestartPolicy) {
        over(&mut self.condition, later.condition);
        over(&mut self.delay, later.delay);
        over(&mut self.max_attempts, later.max_attempts);
        over(&mut self.window, later.window);
    }
}
