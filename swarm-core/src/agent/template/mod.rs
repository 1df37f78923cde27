//! Task templates: Go-template placeholders in a task spec, expanded by the agent before it
//! hands the task to the runtime (SwarmKit's `template` package).
//!
//! A user may write `--hostname "{{.Node.Hostname}}-{{.Service.Name}}"` or
//! `-e TASK_SLOT={{.Task.Slot}}`; [`expand_task_spec`] replaces such placeholders in the
//! container's hostname, env values and mount sources and targets with the values of a
//! [`TemplateContext`] (the task, its service, the node it runs on).
//!
//! Only the subset SwarmKit's users write is parsed, not a general Go template engine:
//! field paths (`{{.Task.Name}}`), `index` on the service labels
//! (`{{index .Service.Labels "key"}}`, empty when the label is missing, as Go's) and the
//! `{{- ` / ` -}}` whitespace trimming. Anything else (other functions, pipelines, variables,
//! `if`, `range`) is refused with a [`TemplateError`] naming the spec field and the
//! placeholder. Input and output are bounded: [`MAX_TEMPLATE_BYTES`],
//! [`MAX_PLACEHOLDERS_PER_TEXT`], [`MAX_EXPANDED_BYTES`].

mod ast;
mod context;
mod error;
mod eval;
mod expand;
mod fault;
mod limits;
mod parse;
#[cfg(test)]
mod tests;

pub use context::TemplateContext;
pub use error::TemplateError;
pub use expand::expand_task_spec;
pub use limits::{
    MAX_EXPANDED_BYTES, MAX_PLACEHOLDERS_PER_TEXT, MAX_REPORTED_PLACEHOLDER_BYTES,
    MAX_TEMPLATE_BYTES,
};
