//! What a placeholder can name: the task, its service and the node it runs on.

use super::error::TemplateError;
use super::eval::render;
use super::limits::MAX_TEMPLATE_BYTES;
use super::parse::parse;
use crate::model::{NodeDescription, NodeId, Platform, ServiceId, ServiceSpec, Task, TaskId};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The values a task template's placeholders expand to (SwarmKit's `template.Context`).
///
/// | placeholder | value |
/// |---|---|
/// | `{{.Service.ID}}` | [`service_id`](Self::service_id) |
/// | `{{.Service.Name}}` | [`service_name`](Self::service_name) |
/// | `{{.Service.Labels}}` | every label, as Go prints a map: `map[k1:v1 k2:v2]` |
/// | `{{index .Service.Labels "k"}}` | label `k`, empty when missing |
/// | `{{.Service.Labels.k}}` | label `k`; an error when missing (as SwarmKit's templates) |
/// | `{{.Node.ID}}` | [`node_id`](Self::node_id) |
/// | `{{.Node.Hostname}}` | [`node_hostname`](Self::node_hostname) |
/// | `{{.Node.Platform.OS}}`, `{{.Node.Platform.Architecture}}` | [`node_platform`](Self::node_platform) |
/// | `{{.Task.ID}}` | [`task_id`](Self::task_id) |
/// | `{{.Task.Name}}` | [`task_name`](Self::task_name) |
/// | `{{.Task.Slot}}` | [`task_slot`](Self::task_slot), or the node's id when there is none |
///
/// Field names are case-sensitive, as Go's.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TemplateContext {
    /// The service's id.
    pub service_id: ServiceId,
    /// The service's name.
    pub service_name: String,
    /// The service's labels.
    pub service_labels: BTreeMap<String, String>,
    /// The id of the node that runs the task.
    pub node_id: NodeId,
    /// That node's hostname; empty when its description is unknown.
    pub node_hostname: String,
    /// That node's OS and architecture; empty when its description is unknown.
    pub node_platform: Platform,
    /// The task's id.
    pub task_id: TaskId,
    /// The task's name: `<service name>.<slot>.<task id>` for a task with a slot (replicated
    /// modes), `<service name>.<node id>.<task id>` for one without (global modes).
    pub task_name: String,
    /// The task's replica slot; `None` for global modes (slot 0 counts as none, as SwarmKit's).
    pub task_slot: Option<u64>,
}

impl TemplateContext {
    /// The context of `task`, made from `service` and run on node `node_id`, whose
    /// description is `node` when known.
    ///
    /// ```
    /// use std::time::SystemTime;
    /// use swarm_core::agent::TemplateContext;
    /// use swarm_core::model::{NodeId, ServiceMode, ServiceSpec, Task};
    ///
    /// let service = ServiceSpec::new("web", "nginx:1.27");
    /// let mut task = Task::new("t1".into(), "s1".into(), service.task_template.clone(),
    ///     SystemTime::UNIX_EPOCH);
    /// task.slot = Some(3);
    /// let ctx = TemplateContext::new(&task, &service, &NodeId::new("n1"), None);
    /// assert_eq!(ctx.task_name, "web.3.t1");
    ///
    /// task.slot = None; // a global service's task
    /// let ctx = TemplateContext::new(&task, &service, &NodeId::new("n1"), None);
    /// assert_eq!(ctx.task_name, "web.n1.t1");
    /// ```
    pub fn new(
        task: &Task,
        service: &ServiceSpec,
        node_id: &NodeId,
        node: Option<&NodeDescription>,
    ) -> Self {
        Self::build(task, &service.name, &service.labels, node_id, node)
    }

    /// The context of `task` on this node from the service name and labels the task carries
    /// ([`Task::service_annotations`]): what an agent, which holds tasks but not services,
    /// uses.
    pub fn for_task(task: &Task, node_id: &NodeId, node: Option<&NodeDescription>) -> Self {
        let service = &task.service_annotations;
        Self::build(task, &service.name, &service.labels, node_id, node)
    }

    fn build(
        task: &Task,
        service_name: &str,
        service_labels: &BTreeMap<String, String>,
        node_id: &NodeId,
        node: Option<&NodeDescription>,
    ) -> Self {
        let task_slot = task.slot.filter(|slot| *slot != 0);
        let instance = match task_slot {
            Some(slot) => slot.to_string(),
            None => node_id.to_string(),
        };
        TemplateContext {
            service_id: task.service_id.clone(),
            service_name: service_name.to_owned(),
            service_labels: service_labels.clone(),
            node_id: node_id.clone(),
            node_hostname: node.map(|n| n.hostname.clone()).unwrap_or_default(),
            node_platform: node.map(|n| n.platform.clone()).unwrap_or_default(),
            task_id: task.id.clone(),
            task_name: format!("{service_name}.{instance}.{}", task.id),
            task_slot,
        }
    }

    /// `text` with its placeholders replaced; errors name `field`, the spec field that holds
    /// `text`.
    ///
    /// Text without `{{` is returned borrowed, unchanged, without being parsed or checked
    /// against the limits. A template longer than
    /// [`MAX_TEMPLATE_BYTES`](crate::agent::MAX_TEMPLATE_BYTES), with more than
    /// [`MAX_PLACEHOLDERS_PER_TEXT`](crate::agent::MAX_PLACEHOLDERS_PER_TEXT) placeholders or
    /// whose expansion passes [`MAX_EXPANDED_BYTES`](crate::agent::MAX_EXPANDED_BYTES) is
    /// refused.
    ///
    /// ```
    /// use swarm_core::agent::{TemplateContext, TemplateError};
    ///
    /// let mut ctx = TemplateContext::default();
    /// ctx.service_labels.insert("tier".into(), "front".into());
    /// let tier = ctx.expand("container.hostname", r#"{{index .Service.Labels "tier"}}-1"#);
    /// assert_eq!(tier.unwrap(), "front-1");
    /// let err = ctx.expand("container.env[0]", "{{.Service.Mode}}").unwrap_err();
    /// assert!(matches!(err, TemplateError::UnknownField { .. }));
    /// assert_eq!(err.to_string(),
    ///     "container.env[0]: unknown field .Service.Mode in {{.Service.Mode}}");
    /// ```
    pub fn expand<'t>(&self, field: &str, text: &'t str) -> Result<Cow<'t, str>, TemplateError> {
        if !text.contains("{{") {
            return Ok(Cow::Borrowed(text));
        }
        if text.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError::TooLong {
                field: field.to_owned(),
                len_bytes: text.len(),
                max_bytes: MAX_TEMPLATE_BYTES,
            });
        }
        let pieces = parse(text, field)?;
        render(self, &pieces, field, text.len()).map(Cow::Owned)
    }
}
