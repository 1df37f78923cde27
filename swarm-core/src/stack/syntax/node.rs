//! A YAML value with the file and field path it was read from, so every error names both.

use crate::stack::error::StackError;
use crate::stack::syntax::duration::parse_go_duration;
use serde_norway::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A value of a compose file and where it is: `file` and the dotted `path`
/// (`services.web.ports[1]`).
#[derive(Clone, Copy)]
pub(crate) struct Node<'a> {
    /// The value.
    pub(crate) value: &'a Value,
    /// The field path of the value.
    pub(crate) path: &'a str,
    /// The compose file.
    pub(crate) file: &'a str,
}

/// An owned field path, for children whose path is built on the fly.
pub(crate) fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

/// The path of the `index`th item of the list at `parent`.
pub(crate) fn item_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// The text of a scalar mapping key (YAML allows numbers and booleans as keys).
pub(crate) fn key_text(key: &Value) -> Option<String> {
    match key {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What a YAML value is, for "must be a …" messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

impl<'a> Node<'a> {
    /// The node of a whole file.
    pub(crate) fn root(value: &'a Value, file: &'a str) -> Node<'a> {
        Node {
            value,
            path: "",
            file,
        }
    }

    /// An error about this node.
    pub(crate) fn error(&self, message: impl Into<String>) -> StackError {
        StackError::Invalid {
            file: self.file.to_owned(),
            field: self.path.to_owned(),
            message: message.into(),
        }
    }

    /// An error saying what this node must be and what it is.
    pub(crate) fn type_error(&self, expected: &str) -> StackError {
        self.error(format!("must be {expected}, not {}", kind(self.value)))
    }

    /// Whether the value is YAML null (`key:` with nothing after it).
    pub(crate) fn is_null(&self) -> bool {
        self.value.is_null()
    }

    /// The entries of a mapping, keys as text, in file order.
    /// Null reads as an empty mapping when `null_is_empty`.
    pub(crate) fn entries(
        &self,
        null_is_empty: bool,
    ) -> Result<Vec<(String, &'a Value)>, StackError> {
        match self.value {
            Value::Mapping(m) => m
                .iter()
                .map(|(k, v)| {
                    key_text(k).map(|k| (k, v)).ok_or_else(|| {
                        self.error(format!("mapping keys must be strings, not {}", kind(k)))
                    })
                })
                .collect(),
            Value::Null if null_is_empty => Ok(Vec::new()),
            _ => Err(self.type_error("a mapping")),
        }
    }

    /// The items of a list.
    pub(crate) fn items(&self) -> Result<&'a [Value], StackError> {
        match self.value {
            Value::Sequence(s) => Ok(s),
            _ => Err(self.type_error("a list")),
        }
    }

    /// A string; a number reads as its text (`user: 1000`).
    pub(crate) fn string(&self) -> Result<String, StackError> {
        match self.value {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(self.type_error("a string")),
        }
    }

    /// A string or number as text, or `None` for null (mapping values such as `QUX:`).
    pub(crate) fn scalar_or_null(&self) -> Result<Option<String>, StackError> {
        match self.value {
            Value::Null => Ok(None),
            Value::Bool(b) => Ok(Some(b.to_string())),
            _ => self.string().map(Some),
        }
    }

    /// A non-negative integer; a string of digits (what interpolation leaves) is read too.
    pub(crate) fn u64(&self) -> Result<u64, StackError> {
        match self.value {
            Value::Number(n) => n
                .as_u64()
                .ok_or_else(|| self.error(format!("must be a non-negative integer, not {n}"))),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| self.error(format!("must be a non-negative integer, not {s:?}"))),
            _ => Err(self.type_error("a non-negative integer")),
        }
    }

    /// An integer (possibly negative); strings of digits are read too.
    pub(crate) fn i64(&self) -> Result<i64, StackError> {
        match self.value {
            Value::Number(n) => n
                .as_i64()
                .ok_or_else(|| self.error(format!("must be an integer, not {n}"))),
            Value::String(s) => s
                .trim()
                .parse()
                .map_err(|_| self.error(format!("must be an integer, not {s:?}"))),
            _ => Err(self.type_error("an integer")),
        }
    }

    /// A number; numeric strings are read too.
    pub(crate) fn f64(&self) -> Result<f64, StackError> {
        let parsed = match self.value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => return Err(self.type_error("a number")),
        };
        parsed
            .filter(|f: &f64| f.is_finite())
            .ok_or_else(|| self.error("must be a finite number"))
    }

    /// A boolean; after interpolation the YAML 1.1 words (`yes`, `off`, …) are read as docker does.
    pub(crate) fn bool(&self) -> Result<bool, StackError> {
        match self.value {
            Value::Bool(b) => Ok(*b),
            Value::String(s) => match s.to_ascii_lowercase().as_str() {
                "y" | "yes" | "true" | "on" => Ok(true),
                "n" | "no" | "false" | "off" => Ok(false),
                _ => Err(self.error(format!("invalid boolean: {s}"))),
            },
            _ => Err(self.type_error("a boolean")),
        }
    }

    /// A Go duration string (`"10s"`, `"1m30s"`).
    pub(crate) fn duration(&self) -> Result<Duration, StackError> {
        let text = match self.value {
            Value::String(s) => s,
            _ => return Err(self.type_error("a duration string such as \"10s\"")),
        };
        parse_go_duration(text)
            .map_err(|why| self.error(format!("invalid duration {text:?}: {why}")))
    }

    /// A list of strings (numbers read as text).
    pub(crate) fn string_list(&self) -> Result<Vec<String>, StackError> {
        let items = self.items()?;
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            let p = item_path(self.path, i);
            out.push(self.at(item, &p).string()?);
        }
        Ok(out)
    }

    /// One string or a list of strings.
    pub(crate) fn string_or_list(&self) -> Result<Vec<String>, StackError> {
        match self.value {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Sequence(_) => self.string_list(),
            _ => Err(self.type_error("a string or a list of strings")),
        }
    }

    /// A mapping, or a list of `key<sep>value` strings, as docker's `MappingWithEquals`
    /// (`allow_nil`: a bare `KEY` or `KEY:` maps to `None`) or `Mapping`/`Labels` (they map to
    /// `""`); null is empty.
    pub(crate) fn map_or_list(
        &self,
        sep: char,
        allow_nil: bool,
    ) -> Result<BTreeMap<String, Option<String>>, StackError> {
        let mut out = BTreeMap::new();
        match self.value {
            Value::Mapping(_) => {
                for (key, value) in self.entries(false)? {
                    let p = child_path(self.path, &key);
                    let v = self.at(value, &p).scalar_or_null()?;
                    let v = if allow_nil {
                        v
                    } else {
                        Some(v.unwrap_or_default())
                    };
                    out.insert(key, v);
                }
            }
            Value::Sequence(items) => {
                for (i, item) in items.iter().enumerate() {
                    let p = item_path(self.path, i);
                    let text = self.at(item, &p).string()?;
                    match text.split_once(sep) {
                        Some((k, v)) => out.insert(k.to_owned(), Some(v.to_owned())),
                        None if allow_nil => out.insert(text, None),
                        None => out.insert(text, Some(String::new())),
                    };
                }
            }
            Value::Null => {}
            _ => return Err(self.type_error("a mapping or a list of strings")),
        }
        Ok(out)
    }

    /// [`map_or_list`](Self::map_or_list) for labels: every key has a (possibly empty) value.
    pub(crate) fn labels(&self) -> Result<BTreeMap<String, String>, StackError> {
        Ok(self
            .map_or_list('=', false)?
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect())
    }

    /// A node for `value` at `path` in the same file.
    pub(crate) fn at<'b>(&self, value: &'b Value, path: &'b str) -> Node<'b>
    where
        'a: 'b,
    {
        Node {
            value,
            path,
            file: self.file,
        }
    }
}
