//! Rules for secret and config specs.

use crate::model::SecretSpec;
use crate::model::{ConfigSpec, MAX_CONFIG_DATA_BYTES};
use crate::validate::Validate;
use crate::validate::error::{ObjectKind, Report, Rule, ValidationErrors};
use crate::validate::names::{check_labels, check_object_name};
use crate::validate::quantity::Quantity;
use std::collections::BTreeMap;
use swarm_secrets::limits::MAX_SECRET_BYTES;

impl Validate for SecretSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        check_blob(
            ObjectKind::Secret,
            &self.name,
            &self.labels,
            self.data.len(),
            MAX_SECRET_BYTES,
        )
    }
}

impl Validate for ConfigSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        check_blob(
            ObjectKind::Config,
            &self.name,
            &self.labels,
            self.data.len(),
            MAX_CONFIG_DATA_BYTES,
        )
    }
}

fn check_blob(
    kind: ObjectKind,
    name: &str,
    labels: &BTreeMap<String, String>,
    data_len: usize,
    max_data_len: usize,
) -> Result<(), ValidationErrors> {
    let mut r = Report::new(kind, name);
    check_object_name(&mut r, "name", name);
    check_labels(&mut r, "labels", labels);
    if data_len == 0 {
        r.push("data", Rule::Empty);
    } else if data_len > max_data_len {
        r.push(
            "data",
            Rule::AboveMaximum {
                value: Quantity::Bytes(i64::try_from(data_len).unwrap_or(i64::MAX)),
                maximum: Quantity::Bytes(i64::try_from(max_data_len).unwrap_or(i64::MAX)),
            },
        );
    }
    r.finish()
}
