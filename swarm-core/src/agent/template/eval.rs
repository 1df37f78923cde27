//! Evaluating parsed placeholders against a context, within the output bound.

use super::ast::{Arg, Command, FieldPath, Piece};
use super::context::TemplateContext;
use super::error::TemplateError;
use super::fault::Fault;
use super::limits::MAX_EXPANDED_BYTES;
use crate::model::Platform;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// The value of a field.
enum Value<'c> {
    /// A string (all leaves, the slot included).
    Text(Cow<'c, str>),
    /// `.Service.Labels`, printed as Go prints a map: `map[k1:v1 k2:v2]`, keys sorted.
    Labels(&'c BTreeMap<String, String>),
    /// `.Node.Platform`, printed as Go prints the struct: `{<architecture> <os>}`.
    Platform(&'c Platform),
}

/// The expansion being written; never longer than [`MAX_EXPANDED_BYTES`].
struct Output {
    buf: String,
}

impl Output {
    fn push(&mut self, s: &str) -> Result<(), Fault> {
        if self.buf.len() + s.len() > MAX_EXPANDED_BYTES {
            return Err(Fault::OutputTooLarge);
        }
        self.buf.push_str(s);
        Ok(())
    }

    fn write(&mut self, value: &Value<'_>) -> Result<(), Fault> {
        match value {
            Value::Text(s) => self.push(s),
            Value::Labels(labels) => {
                self.push("map[")?;
                for (i, (key, value)) in labels.iter().enumerate() {
                    if i > 0 {
                        self.push(" ")?;
                    }
                    self.push(key)?;
                    self.push(":")?;
                    self.push(value)?;
                }
                self.push("]")
            }
            Value::Platform(platform) => {
                self.push("{")?;
                self.push(&platform.architecture)?;
                self.push(" ")?;
                self.push(&platform.os)?;
                self.push("}")
            }
        }
    }
}

/// Writes `pieces` with their placeholders replaced; errors name `field`. `template_bytes`
/// sizes the first allocation.
pub(super) fn render(
    ctx: &TemplateContext,
    pieces: &[Piece<'_>],
    field: &str,
    template_bytes: usize,
) -> Result<String, TemplateError> {
    let mut out = Output {
        buf: String::with_capacity(template_bytes.min(MAX_EXPANDED_BYTES)),
    };
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push(text).map_err(|f| f.into_error(field, ""))?,
            Piece::Placeholder(placeholder) => eval(ctx, &placeholder.command)
                .and_then(|value| out.write(&value))
                .map_err(|f| f.into_error(field, placeholder.source))?,
        }
    }
    Ok(out.buf)
}

fn eval<'c>(ctx: &'c TemplateContext, command: &Command<'_>) -> Result<Value<'c>, Fault> {
    match command {
        Command::Field(path) => resolve(ctx, path),
        Command::Index { collection, key } => {
            let Value::Labels(labels) = resolve(ctx, collection)? else {
                return Err(Fault::BadIndex(
                    "index needs a map as its first argument; the only one is .Service.Labels",
                ));
            };
            let key: Cow<'_, str> = match key {
                None => return Ok(Value::Labels(labels)),
                Some(Arg::Literal(key)) => Cow::Borrowed(key.as_ref()),
                Some(Arg::Field(path)) => match resolve(ctx, path)? {
                    Value::Text(key) => key,
                    _ => return Err(Fault::BadIndex("a key of index must be a string")),
                },
            };
            // A missing key gives the empty string, as Go's `index` on a map.
            let value = labels.get(key.as_ref()).map_or("", String::as_str);
            Ok(Value::Text(Cow::Borrowed(value)))
        }
    }
}

fn resolve<'c>(ctx: &'c TemplateContext, path: &FieldPath<'_>) -> Result<Value<'c>, Fault> {
    fn text(s: &str) -> Result<Value<'_>, Fault> {
        Ok(Value::Text(Cow::Borrowed(s)))
    }
    match path.0.as_slice() {
        [] => Err(Fault::Unsupported(
            "the whole context cannot be printed; name a field such as .Task.Name",
        )),
        ["Service"] | ["Node"] | ["Task"] => Err(Fault::Unsupported(
            "a group cannot be printed; name one of its fields",
        )),
        ["Service", "ID"] => text(ctx.service_id.as_str()),
        ["Service", "Name"] => text(&ctx.service_name),
        ["Service", "Labels"] => Ok(Value::Labels(&ctx.service_labels)),
        ["Service", "Labels", key] => match ctx.service_labels.get(*key) {
            Some(value) => text(value),
            None => Err(Fault::MissingLabel((*key).to_owned())),
        },
        ["Node", "ID"] => text(ctx.node_id.as_str()),
        ["Node", "Hostname"] => text(&ctx.node_hostname),
        ["Node", "Platform"] => Ok(Value::Platform(&ctx.node_platform)),
        ["Node", "Platform", "OS"] => text(&ctx.node_platform.os),
        ["Node", "Platform", "Architecture"] => text(&ctx.node_platform.architecture),
        ["Task", "ID"] => text(ctx.task_id.as_str()),
        ["Task", "Name"] => text(&ctx.task_name),
        // A task without a slot (global modes) gives its node's id, as SwarmKit's.
        ["Task", "Slot"] => match ctx.task_slot {
            Some(slot) => Ok(Value::Text(Cow::Owned(slot.to_string()))),
            None => text(ctx.node_id.as_str()),
        },
        _ => Err(Fault::UnknownField(path.to_string())),
    }
}
