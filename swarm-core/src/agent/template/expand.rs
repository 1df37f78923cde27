//! Expanding the templated fields of a task spec.

use super::context::TemplateContext;
use super::error::TemplateError;
use crate::model::TaskSpec;

/// `spec` with the placeholders of its templated fields replaced from `ctx`, as SwarmKit's
/// agent does before it hands a task to the runtime.
///
/// Expanded: `container.hostname`, the value of each `container.env` entry (the part after
/// the first `=`; the key, and a bare `KEY`, are left alone) and each mount's `source` and
/// `target`. Every other field is copied unchanged. The first error stops the expansion and
/// names the field (`container.env[2]`, `container.mounts[0].source`).
///
/// ```
/// use std::time::SystemTime;
/// use swarm_core::agent::{expand_task_spec, TemplateContext};
/// use swarm_core::model::{NodeDescription, NodeId, Platform, ServiceSpec, Task};
///
/// let mut service = ServiceSpec::new("web", "nginx:1.27");
/// let container = &mut service.task_template.container;
/// container.hostname = Some("{{.Node.Hostname}}-{{.Service.Name}}".into());
/// container.env = vec!["TASK_SLOT={{.Task.Slot}}".into(), "PLAIN=1".into()];
///
/// let mut task = Task::new("t1".into(), "s1".into(), service.task_template.clone(),
///     SystemTime::UNIX_EPOCH);
/// task.slot = Some(2);
/// let node = NodeDescription {
///     hostname: "node-a".into(),
///     platform: Platform::new("linux", "amd64"),
///     ..NodeDescription::default()
/// };
/// let ctx = TemplateContext::new(&task, &service, &NodeId::new("n1"), Some(&node));
///
/// let spec = expand_task_spec(&task.spec, &ctx).unwrap();
/// assert_eq!(spec.container.hostname.as_deref(), Some("node-a-web"));
/// assert_eq!(spec.container.env, ["TASK_SLOT=2", "PLAIN=1"]);
/// ```
pub fn expand_task_spec(spec: &TaskSpec, ctx: &TemplateContext) -> Result<TaskSpec, TemplateError> {
    let mut expanded = spec.clone();
    let container = &mut expanded.container;
    if let Some(hostname) = container.hostname.as_mut() {
        expand_in_place(ctx, hostname, || "container.hostname".to_owned())?;
    }
    for (i, entry) in container.env.iter_mut().enumerate() {
        if let Some((key, value)) = entry.split_once('=') {
            if value.contains("{{") {
                let value = ctx.expand(&format!("container.env[{i}]"), value)?;
                *entry = format!("{key}={value}");
            }
        }
    }
    for (i, mount) in container.mounts.iter_mut().enumerate() {
        expand_in_place(ctx, &mut mount.source, || {
            format!("container.mounts[{i}].source")
        })?;
        expand_in_place(ctx, &mut mount.target, || {
            format!("container.mounts[{i}].target")
        })?;
    }
    Ok(expanded)
}

/// Replaces `value` by its expansion; the field's name is built only for a template.
fn expand_in_place(
    ctx: &TemplateContext,
    value: &mut String,
    field: impl FnOnce() -> String,
) -> Result<(), TemplateError> {
    if !value.contains("{{") {
        return Ok(());
    }
    let expanded = ctx.expand(&field(), value)?.into_owned();
    *value = expanded;
    Ok(())
}
