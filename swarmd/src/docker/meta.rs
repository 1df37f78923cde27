//! `Version{Index}` and the creation and update times every object carries.

use crate::docker::time_text::rfc3339;
use swarm_core::model::Meta;

/// The `Version`, `CreatedAt` and `UpdatedAt` fields of an object.
pub(crate) fn meta_fields(meta: &Meta) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert(
        "Version".into(),
        serde_json::json!({ "Index": meta.version.index() }),
    );
    m.insert("CreatedAt".into(), rfc3339(meta.created_at).into());
    m.insert("UpdatedAt".into(), rfc3339(meta.updated_at).into());
    m
}

/// Builds an object: `ID`, then the meta fields, then `rest` in order.
pub(crate) fn object(
    id: &str,
    meta: &Meta,
    rest: Vec<(&str, serde_json::Value)>,
) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    m.insert("ID".into(), id.into());
    m.extend(meta_fields(meta));
    for (k, v) in rest {
        m.insert(k.to_owned(), v);
    }
    serde_json::Value::Object(m)
}
