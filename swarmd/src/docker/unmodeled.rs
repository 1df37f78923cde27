//! Fields the model does not hold: accepted at their default value only.

use crate::docker::mapping_error::MappingError;
use serde_json::Value;

/// Whether `value` is a default: null, false, 0, "", an empty list, or an object whose
/// fields are all defaults.
pub(crate) fn is_default(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.values().all(is_default),
    }
}

/// Refuses `value` unless it is a default or one of the strings in `also` (Docker's names
/// of the default, e.g. `"default"` for `Isolation`).
pub(crate) fn require_default(
    field: &str,
    value: Option<&Value>,
    also: &[&str],
) -> Result<(), MappingError> {
    let Some(value) = value else { return Ok(()) };
    if is_default(value) || value.as_str().is_some_and(|s| also.contains(&s)) {
        return Ok(());
    }
    Err(MappingError::Unsupported {
        field: field.to_owned(),
        value: value.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn defaults_pass_and_settings_are_refused_by_name() {
        assert!(require_default("X.Init", Some(&json!(false)), &[]).is_ok());
        assert!(require_default("X.DNSConfig", Some(&json!({})), &[]).is_ok());
        assert!(require_default("X.Isolation", Some(&json!("default")), &["default"]).is_ok());
        let e = require_default("TaskTemplate.ContainerSpec.Init", Some(&json!(true)), &[])
            .unwrap_err();
        assert!(
            e.to_string().contains("TaskTemplate.ContainerSpec.Init"),
            "{e}"
        );
        assert!(require_default("X.Hosts", Some(&json!(["1.2.3.4 db"])), &[]).is_err());
    }
}
