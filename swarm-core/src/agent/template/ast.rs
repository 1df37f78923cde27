//! The parsed form of a template: text pieces and placeholders.

use std::borrow::Cow;
use std::fmt;

/// One piece of a parsed template, in order.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Piece<'a> {
    /// Text copied as it is (already trimmed by `{{-` and `-}}`).
    Text(&'a str),
    /// A placeholder to evaluate.
    Placeholder(Placeholder<'a>),
}

/// One `{{ ... }}`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Placeholder<'a> {
    /// The placeholder as written, `{{` to `}}`, quoted in errors.
    pub(super) source: &'a str,
    /// What it asks for.
    pub(super) command: Command<'a>,
}

/// The command inside a placeholder.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Command<'a> {
    /// `.Service.Name`: print a field.
    Field(FieldPath<'a>),
    /// `index <collection> [<key>]`.
    Index {
        /// The map indexed.
        collection: FieldPath<'a>,
        /// The key, if given (without one, `index` gives the map itself, as Go's).
        key: Option<Arg<'a>>,
    },
}

/// A key given to `index`.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Arg<'a> {
    /// A quoted string, escapes resolved.
    Literal(Cow<'a, str>),
    /// A field whose value is the key.
    Field(FieldPath<'a>),
}

/// A field path: `.Service.Name` is `["Service", "Name"]`, the bare `.` is empty.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct FieldPath<'a>(pub(super) Vec<&'a str>);

impl fmt::Display for FieldPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str(".");
        }
        for segment in &self.0 {
            write!(f, ".{segment}")?;
        }
        Ok(())
    }
}
