//! What a sealed delivery is bound to.

use serde::{Deserialize, Serialize};

use super::{DELIVERY_SALT, DELIVERY_VERSION};
use crate::error::{Result, SecretsError};
use crate::limits::{MAX_DELIVERY_LABEL_BYTES, MAX_DELIVERY_TASK_IDS};
use crate::node_id::NodeId;

/// What a sealed delivery is bound to: the recipient node, the tasks that reference the item,
/// and the item itself (e.g. `secret/<id>@<version>`). Task ids are kept sorted and unique, so
/// their order does not matter. Deserializing checks it as [`DeliveryBinding::new`] does and
/// refuses one that is not normalised.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BindingFields")]
pub struct DeliveryBinding {
    node_id: NodeId,
    task_ids: Vec<String>,
    item: String,
}

impl DeliveryBinding {
    /// Validates and normalises a binding.
    pub fn new<I, S>(node_id: NodeId, task_ids: I, item: impl Into<String>) -> Result<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let mut ids = Vec::new();
        for id in task_ids {
            let id = id.into();
            check_label("task id", &id)?;
            ids.push(id);
            if ids.len() > MAX_DELIVERY_TASK_IDS {
                return Err(SecretsError::invalid(
                    "task ids",
                    format!("more than {MAX_DELIVERY_TASK_IDS}"),
                ));
            }
        }
        ids.sort();
        ids.dedup();
        let item = item.into();
        check_label("item", &item)?;
        Ok(DeliveryBinding {
            node_id,
            task_ids: ids,
            item,
        })
    }

    /// The recipient node.
    pub fn node_id(&self) -> &NodeId {
        &self.node_id
    }

    /// The tasks, sorted.
    pub fn task_ids(&self) -> &[String] {
        &self.task_ids
    }

    /// The item label.
    pub fn item(&self) -> &str {
        &self.item
    }

    pub(super) fn associated_data(&self) -> Result<Vec<u8>> {
        postcard::to_stdvec(&(DELIVERY_SALT, DELIVERY_VERSION, self))
            .map_err(|e| SecretsError::malformed("delivery binding", e.to_string()))
    }
}

/// A binding's fields as they travel, checked by `TryFrom` before they become a
/// [`DeliveryBinding`].
#[derive(Deserialize)]
struct BindingFields {
    node_id: NodeId,
    task_ids: Vec<String>,
    item: String,
}

impl TryFrom<BindingFields> for DeliveryBinding {
    type Error = SecretsError;

    fn try_from(fields: BindingFields) -> Result<Self> {
        let normalised =
            DeliveryBinding::new(fields.node_id, fields.task_ids.iter().cloned(), fields.item)?;
        if normalised.task_ids != fields.task_ids {
            return Err(SecretsError::malformed(
                "delivery binding",
                "task ids are not sorted and unique",
            ));
        }
        Ok(normalised)
    }
}

fn check_label(field: &'static str, s: &str) -> Result<()> {
    if s.is_empty() || s.len() > MAX_DELIVERY_LABEL_BYTES {
        return Err(SecretsError::invalid(
            field,
            format!(
                "must be 1..={MAX_DELIVERY_LABEL_BYTES} bytes, got {}",
                s.len()
            ),
        ));
    }
    Ok(())
}
