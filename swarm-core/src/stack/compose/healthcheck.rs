//! A service's `healthcheck:`.

use crate::stack::compose::file_parse::FileParse;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};
use serde_norway::Value;
use std::time::Duration;

/// A service's health check as written; unset fields take Docker's defaults at conversion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeHealthcheck {
    /// The test: a string becomes `["CMD-SHELL", string]`, a list is used as written.
    pub test: Option<Vec<String>>,
    /// Time between checks.
    pub interval: Option<Duration>,
    /// Time after which a check fails.
    pub timeout: Option<Duration>,
    /// Consecutive failures that make the task unhealthy.
    pub retries: Option<u64>,
    /// Grace period after start.
    pub start_period: Option<Duration>,
    /// `disable: true`: the image's health check is turned off (`["NONE"]`).
    pub disable: Option<bool>,
}

impl ComposeHealthcheck {
    /// Reads `healthcheck:`.
    pub(crate) fn parse(node: Node<'_>, cx: &mut FileParse<'_>) -> Result<Self, StackError> {
        let mut h = ComposeHealthcheck::default();
        for (key, value) in node.entries(false)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "test" => {
                    h.test = Some(match value {
                        Value::String(s) => vec!["CMD-SHELL".to_owned(), s.clone()],
                        _ => child.string_list()?,
                    })
                }
                "interval" => h.interval = Some(child.duration()?),
                "timeout" => h.timeout = Some(child.duration()?),
                "retries" => h.retries = Some(child.u64()?),
                "start_period" => h.start_period = Some(child.duration()?),
                "start_interval" => cx.not_supported(&p),
                "disable" => h.disable = Some(child.bool()?),
                _ => return Err(child.error("unknown option")),
            }
        }
        Ok(h)
    }

    /// Merges a later file's health check field by field.
    pub(crate) fn merge_from(&mut self, later: ComposeHealthcheck) {
        crate::stack::compose::merge::over(&mut self.test, later.test);
        crate::stack::compose::merge::over(&mut self.interval, later.interval);
        crate::stack::compose::merge::over(&mut self.timeout, later.timeout);
        crate::stack::compose::merge::over(&mut self.retries, later.retries);
        crate::stack::compose::merge::over(&mut self.start_period, later.start_period);
        crate::stack::compose::merge::over(&mut self.disable, later.disable);
    }
}
