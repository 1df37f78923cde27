//! Configs: `POST /configs/create` and the document of `GET /configs` (with the data, as
//! dockerd).

use crate::docker::mapping_error::MappingError;
use crate::docker::meta::object;
use crate::docker::unmodeled::require_default;
use base64::Engine;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use swarm_core::model::{Config, ConfigSpec};

/// Docker's `ConfigSpec`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerConfigSpec {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) data: String,
    #[serde(default)]
    pub(crate) templating: Option<Value>,
}

/// The model's config spec from Docker's (data is base64).
pub(crate) fn spec_from_docker(d: DockerConfigSpec) -> Result<ConfigSpec, MappingError> {
    require_default("Templating", d.templating.as_ref(), &[])?;
    let mut spec = ConfigSpec::new(d.name, super::secret::decode_data(&d.data)?);
    spec.labels = d.labels.unwrap_or_default();
    Ok(spec)
}

/// A config as `GET /configs` answers.
pub(crate) fn to_docker(c: &Config) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(c.spec.data.as_bytes());
    object(
        c.id.as_str(),
        &c.meta,
        vec![(
            "Spec",
            json!({ "Name": c.spec.name, "Labels": c.spec.labels, "Data": data }),
        )],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_create_body_maps_and_data_comes_back() {
        // fixtures docker-28.2/09-config-create.http
        let d: DockerConfigSpec =
            serde_json::from_str(r#"{"Name":"app-config","Labels":{},"Data":"a2V5OiB2YWx1ZQo="}"#)
                .unwrap();
        let spec = spec_from_docker(d).unwrap();
        assert_eq!(
            spec,
            ConfigSpec::new("app-config", b"key: value\n".to_vec())
        );
        let c = Config {
            id: "syq026".into(),
            spec,
            ..Config::default()
        };
        let v = to_docker(&c);
        assert_eq!(v["Spec"]["Data"], "a2V5OiB2YWx1ZQo=");
        assert_eq!(v["Spec"]["Name"], "app-config");
    }
}
