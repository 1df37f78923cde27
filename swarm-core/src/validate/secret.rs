//! Rules for secret and config specs.

use crate::model::{ConfigSpec, SecretSpec};
use crate::runtime::FileKind;
use crate::validate::Validate;
use crate::validate::error::{ObjectKind, Report, Rule, ValidationErrors};
use crate::validate::names::{check_labels, check_object_name};
use crate::validate::quantity::Quantity;
use std::collections::BTreeMap;

impl Validate for SecretSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        check_blob(FileKind::Secret, &self.name, &self.labels, self.data.len())
    }
}

impl Validate for ConfigSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        check_blob(FileKind::Config, &self.name, &self.labels, self.data.len())
    }
}

/// The rules of a secret or config: its name, its labels, and data of 1 byte up to the limit
/// of its kind ([`FileKind::max_payload_bytes`], the limit runtimes hold the files to).
fn check_blob(
    file_kind: FileKind,
    name: &str,
    labels: &BTreeMap<String, String>,
    data_len: usize,
) -> Result<(), ValidationErrors> {
    let kind = match file_kind {
        FileKind::Secret => ObjectKind::Secret,
        FileKind::Config => ObjectKind::Config,
    };
    let max_data_len = file_kind.max_payload_bytes();
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
