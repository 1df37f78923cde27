//! `${VAR}` interpolation of every string in a compose file, as docker's `template` package:
//! `$VAR`, `${VAR}`, `${VAR:-default}` (unset or empty), `${VAR-default}` (unset),
//! `${VAR:?message}` (error when unset or empty), `${VAR?message}` (error when unset), `$$` for
//! a literal `$`. An unset variable without default reads as the empty string.

use crate::stack::error::StackError;
use crate::stack::syntax::node::{child_path, item_path, key_text};
use serde_norway::Value;
use std::collections::BTreeMap;

/// Why a string could not be interpolated.
#[derive(Debug, PartialEq)]
pub(crate) enum SubstitutionError {
    /// A `$` not followed by `$`, a name or a well-formed `{…}`.
    InvalidFormat,
    /// `${VAR:?message}` or `${VAR?message}` with the variable missing.
    Required {
        /// The variable.
        name: String,
        /// The message the file gives.
        message: String,
    },
}

fn is_name_start(c: char) -> bool {
    c == '_' || c.is_ascii_alphabetic()
}

fn is_name_char(c: char) -> bool {
    c == '_' || c.is_ascii_alphanumeric()
}

/// The value of one `${…}` body: `NAME` followed by nothing or an operator.
fn braced(body: &str, env: &BTreeMap<String, String>) -> Result<String, SubstitutionError> {
    if !body.starts_with(is_name_start) {
        return Err(SubstitutionError::InvalidFormat);
    }
    let name_len = body.find(|c| !is_name_char(c)).unwrap_or(body.len());
    let (name, op) = body.split_at(name_len);
    let value = env.get(name);
    let set_non_empty = value.filter(|v| !v.is_empty());
    let required = |message: &str| SubstitutionError::Required {
        name: name.to_owned(),
        message: message.to_owned(),
    };
    if op.is_empty() {
        Ok(value.cloned().unwrap_or_default())
    } else if let Some(default) = op.strip_prefix(":-") {
        Ok(set_non_empty.cloned().unwrap_or_else(|| default.to_owned()))
    } else if let Some(default) = op.strip_prefix('-') {
        Ok(value.cloned().unwrap_or_else(|| default.to_owned()))
    } else if let Some(message) = op.strip_prefix(":?") {
        set_non_empty.cloned().ok_or_else(|| required(message))
    } else if let Some(message) = op.strip_prefix('?') {
        value.cloned().ok_or_else(|| required(message))
    } else {
        Err(SubstitutionError::InvalidFormat)
    }
}

/// Interpolates one string.
pub(crate) fn substitute(
    template: &str,
    env: &BTreeMap<String, String>,
) -> Result<String, SubstitutionError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(dollar) = rest.find('$') {
        out.push_str(&rest[..dollar]);
        let after = &rest[dollar + 1..];
        if let Some(r) = after.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = after.strip_prefix('{') {
            let close = r.find('}').ok_or(SubstitutionError::InvalidFormat)?;
            out.push_str(&braced(&r[..close], env)?);
            rest = &r[close + 1..];
        } else if after.starts_with(is_name_start) {
            let len = after.find(|c| !is_name_char(c)).unwrap_or(after.len());
            out.push_str(env.get(&after[..len]).map(String::as_str).unwrap_or(""));
            rest = &after[len..];
        } else {
            return Err(SubstitutionError::InvalidFormat);
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// Interpolates every string value (not keys) of a parsed file in place; `path` is the field
/// path of `value`. The error names the file and the field.
pub(crate) fn interpolate_value(
    value: &mut Value,
    env: &BTreeMap<String, String>,
    file: &str,
    path: &str,
) -> Result<(), StackError> {
    let error = |message: String| StackError::Invalid {
        file: file.to_owned(),
        field: path.to_owned(),
        message,
    };
    match value {
        Value::String(s) => match substitute(s, env) {
            Ok(new) => *s = new,
            Err(SubstitutionError::InvalidFormat) => {
                return Err(error(format!(
                    "invalid interpolation format {s:?}: you may need to escape any $ with another $"
                )));
            }
            Err(SubstitutionError::Required { name, message }) => {
                return Err(error(format!(
                    "required variable {name} is missing a value: {message}"
                )));
            }
        },
        Value::Mapping(m) => {
            for (k, v) in m.iter_mut() {
                let key = key_text(k).unwrap_or_else(|| "?".to_owned());
                interpolate_value(v, env, file, &child_path(path, &key))?;
            }
        }
        Value::Sequence(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                interpolate_value(v, env, file, &item_path(path, i))?;
            }
        }
        Value::Tagged(t) => interpolate_value(&mut t.value, env, file, path)?,
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> BTreeMap<String, String> {
        [("TAG", "2e"), ("EMPTY", "")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn substitutes_every_form() {
        let s = |t| substitute(t, &env());
        assert_eq!(s("img:${TAG}"), Ok("img:2e".into()));
        assert_eq!(s("img:$TAG-x"), Ok("img:2e-x".into()));
        assert_eq!(s("${NOPE}"), Ok("".into()));
        assert_eq!(s("${NOPE:-d}|${EMPTY:-d}|${TAG:-d}"), Ok("d|d|2e".into()));
        assert_eq!(s("${NOPE-d}|${EMPTY-d}"), Ok("d|".into()));
        assert_eq!(s("$$TAG $${TAG}"), Ok("$TAG ${TAG}".into()));
        assert_eq!(s("${EMPTY?m}"), Ok("".into()));
        assert_eq!(
            s("${EMPTY:?must be set}"),
            Err(SubstitutionError::Required {
                name: "EMPTY".into(),
                message: "must be set".into()
            })
        );
        assert!(matches!(
            s("${NOPE?}"),
            Err(SubstitutionError::Required { .. })
        ));
        assert_eq!(s("${"), Err(SubstitutionError::InvalidFormat));
        assert_eq!(s("${TAG"), Err(SubstitutionError::InvalidFormat));
        assert_eq!(s("$ x"), Err(SubstitutionError::InvalidFormat));
        assert_eq!(s("${1X}"), Err(SubstitutionError::InvalidFormat));
        assert_eq!(s("${TAG+x}"), Err(SubstitutionError::InvalidFormat));
        assert_eq!(s("end$"), Err(SubstitutionError::InvalidFormat));
    }
}
