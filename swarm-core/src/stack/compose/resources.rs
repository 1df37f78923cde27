//! `deploy.resources`: limits and reservations.

use crate::model::GenericResource;
use crate::stack::compose::file_parse::FileParse;
use crate::stack::compose::merge::over;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path, item_path};
use crate::stack::syntax::units::{parse_nano_cpus, parse_ram_bytes};
use serde_norway::Value;

/// An amount of resources as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeResourceAmounts {
    /// `cpus` (`"0.5"`) in nano-CPUs.
    pub nano_cpus: Option<i64>,
    /// `memory` (`"512M"`) in bytes.
    pub memory_bytes: Option<i64>,
    /// `generic_resources` (reservations only): discrete kinds and counts.
    pub generic: Vec<GenericResource>,
}

/// `deploy.resources` as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeResources {
    /// Hard limits.
    pub limits: Option<ComposeResourceAmounts>,
    /// Reservations.
    pub reservations: Option<ComposeResourceAmounts>,
}

fn cpus(node: Node<'_>) -> Result<i64, StackError> {
    let text = node.string()?;
    parse_nano_cpus(&text).map_err(|why| node.error(why))
}

fn memory(node: Node<'_>) -> Result<i64, StackError> {
    match node.value {
        Value::Number(_) => node.i64(),
        _ => {
            let text = node.string()?;
            parse_ram_bytes(&text).map_err(|why| node.error(why))
        }
    }
}

fn generic_resources(node: Node<'_>) -> Result<Vec<GenericResource>, StackError> {
    let mut out = Vec::new();
    for (i, item) in node.items()?.iter().enumerate() {
        let p = item_path(node.path, i);
        let child = node.at(item, &p);
        for (key, value) in child.entries(false)? {
            let kp = child_path(&p, &key);
            let spec = child.at(value, &kp);
            if key != "discrete_resource_spec" {
                return Err(spec.error("unknown option"));
            }
            let (mut kind, mut amount) = (None, None);
            for (k, v) in spec.entries(false)? {
                let fp = child_path(&kp, &k);
                let field = spec.at(v, &fp);
                match k.as_str() {
                    "kind" => kind = Some(field.string()?),
                    "value" => amount = Some(field.i64()?),
                    _ => return Err(field.error("unknown option")),
                }
            }
            match (kind, amount) {
                (Some(kind), Some(value)) => out.push(GenericResource::Discrete { kind, value }),
                _ => return Err(spec.error("needs a kind and a value")),
            }
        }
    }
    Ok(out)
}

impl ComposeResourceAmounts {
    fn parse(
        node: Node<'_>,
        reservation: bool,
        cx: &mut FileParse<'_>,
    ) -> Result<Self, StackError> {
        let mut a = ComposeResourceAmounts::default();
        for (key, value) in node.entries(true)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "cpus" => a.nano_cpus = Some(cpus(child)?),
                "memory" => a.memory_bytes = Some(memory(child)?),
                "pids" if !reservation => cx.not_supported(&p),
                "generic_resources" if reservation => a.generic = generic_resources(child)?,
                _ => return Err(child.error("unknown option")),
            }
        }
        Ok(a)
    }

    fn merge_from(&mut self, later: ComposeResourceAmounts) {
        over(&mut self.nano_cpus, later.nano_cpus);
        over(&mut self.memory_bytes, later.memory_bytes);
        self.generic.extend(later.generic);
    }
}

impl ComposeResources {
    /// Reads `deploy.resources:`.
    pub(crate) fn parse(node: Node<'_>, cx: &mut FileParse<'_>) -> Result<Self, StackError> {
        let mut r = ComposeResources::default();
        for (key, value) in node.entries(true)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "limits" => r.limits = Some(ComposeResourceAmounts::parse(child, false, cx)?),
                "reservations" => {
                    r.reservations = Some(ComposeResourceAmounts::parse(child, true, cx)?)
                }
                _ => return Err(child.error("unknown option")),
            }
        }
        Ok(r)
    }

    /// Merges a later file's resources field by field.
    pub(crate) fn merge_from(&mut self, later: ComposeResources) {
        for (base, later) in [
            (&mut self.limits, later.limits),
            (&mut self.reservations, later.reservations),
        ] {
            match (base.as_mut(), later) {
                (Some(b), Some(l)) => b.merge_from(l),
                (None, Some(l)) => *base = Some(l),
                (_, None) => {}
            }
        }
    }
}
