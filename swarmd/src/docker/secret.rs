//! Secrets: `POST /secrets/create` and the document of `GET /secrets` (never the data).

use crate::docker::mapping_error::MappingError;
use crate::docker::meta::object;
use crate::docker::unmodeled::require_default;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use swarm_core::manager::control::SecretInfo;
use swarm_core::model::SecretSpec;

/// Docker's `SecretSpec`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerSecretSpec {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) data: String,
    #[serde(default)]
    pub(crate) driver: Option<Value>,
    #[serde(default)]
    pub(crate) templating: Option<Value>,
}

/// The model's secret spec from Docker's (data is base64).
pub(crate) fn spec_from_docker(d: DockerSecretSpec) -> Result<SecretSpec, MappingError> {
    require_default("Driver", d.driver.as_ref(), &[])?;
    require_default("Templating", d.templating.as_ref(), &[])?;
    let mut spec = SecretSpec::new(d.name, decode_data(&d.data)?);
    spec.labels = d.labels.unwrap_or_default();
    Ok(spec)
}

/// The `Data` field of a secret or config spec: base64, as Docker sends it.
pub(crate) fn decode_data(data: &str) -> Result<Vec<u8>, MappingError> {
    base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .map_err(|e| MappingError::invalid("Data", format!("not base64: {e}")))
}

/// A secret as `GET /secrets` answers.
pub(crate) fn to_docker(s: &SecretInfo) -> Value {
    object(
        s.id.as_str(),
        &s.meta,
        vec![("Spec", json!({ "Name": s.name, "Labels": s.labels }))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_create_body_maps() {
        // fixtures docker-28.2/08-secret-create.http
        let d: DockerSecretSpec =
            serde_json::from_str(r#"{"Name":"db-password","Labels":{},"Data":"cEBzcw=="}"#)
                .unwrap();
        let spec = spec_from_docker(d).unwrap();
        assert_eq!(spec.name, "db-password");
        assert!(spec.labels.is_empty());
        assert_eq!(spec, SecretSpec::new("db-password", b"p@ss".to_vec()));
        let bad: DockerSecretSpec =
            serde_json::from_str(r#"{"Name":"x","Data":"eA==","Driver":{"Name":"vault"}}"#)
                .unwrap();
        assert!(
            spec_from_docker(bad)
                .unwrap_err()
                .to_string()
                .contains("Driver")
        );
    }
}
