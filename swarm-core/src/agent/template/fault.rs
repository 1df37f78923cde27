//! What went wrong in one placeholder, before the spec field is known.

use super::error::TemplateError;
use super::limits::{MAX_EXPANDED_BYTES, MAX_REPORTED_PLACEHOLDER_BYTES};

/// A failure of the parser or evaluator; [`Fault::into_error`] adds the spec field and the
/// placeholder.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Fault {
    /// `{{` or a quoted string without its end.
    Unclosed,
    /// A field path the context does not have, as written (`.Service.Mode`).
    UnknownField(String),
    /// `.Service.Labels.<key>` with no such label.
    MissingLabel(String),
    /// `index` with wrong arguments.
    BadIndex(&'static str),
    /// Syntax outside the subset.
    Unsupported(&'static str),
    /// The expansion passed [`MAX_EXPANDED_BYTES`].
    OutputTooLarge,
}

impl Fault {
    /// The error for spec field `field`, quoting `placeholder`.
    pub(super) fn into_error(self, field: &str, placeholder: &str) -> TemplateError {
        let field = field.to_owned();
        let placeholder = quote(placeholder);
        match self {
            Fault::Unclosed => TemplateError::Unclosed { field, placeholder },
            Fault::UnknownField(path) => TemplateError::UnknownField {
                field,
                placeholder,
                path,
            },
            Fault::MissingLabel(key) => TemplateError::MissingLabel {
                field,
                placeholder,
                key,
            },
            Fault::BadIndex(reason) => TemplateError::BadIndex {
                field,
                placeholder,
                reason,
            },
            Fault::Unsupported(reason) => TemplateError::Unsupported {
                field,
                placeholder,
                reason,
            },
            Fault::OutputTooLarge => TemplateError::OutputTooLarge {
                field,
                max_bytes: MAX_EXPANDED_BYTES,
            },
        }
    }
}

/// `placeholder` cut to [`MAX_REPORTED_PLACEHOLDER_BYTES`] at a character boundary, with `…`
/// when cut.
fn quote(placeholder: &str) -> String {
    if placeholder.len() <= MAX_REPORTED_PLACEHOLDER_BYTES {
        return placeholder.to_owned();
    }
    let mut end = MAX_REPORTED_PLACEHOLDER_BYTES;
    while !placeholder.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &placeholder[..end])
}
