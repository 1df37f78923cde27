//! Why a template cannot be expanded.

use thiserror::Error;

/// A template in a task spec that cannot be expanded.
///
/// Every variant names the spec field that holds the template (`container.hostname`,
/// `container.env[2]`, `container.mounts[0].source`) and, where one is at fault, the
/// placeholder as written (at most
/// [`MAX_REPORTED_PLACEHOLDER_BYTES`](crate::agent::MAX_REPORTED_PLACEHOLDER_BYTES)).
///
/// All are permanent: the spec is wrong and expanding it again gives the same error, so the
/// task is rejected (as SwarmKit's agent does) rather than retried.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template is longer than [`MAX_TEMPLATE_BYTES`](crate::agent::MAX_TEMPLATE_BYTES).
    #[error("{field}: template of {len_bytes} bytes exceeds the limit of {max_bytes} bytes")]
    TooLong {
        /// The spec field.
        field: String,
        /// The template's length.
        len_bytes: usize,
        /// The limit.
        max_bytes: usize,
    },
    /// The template holds more than
    /// [`MAX_PLACEHOLDERS_PER_TEXT`](crate::agent::MAX_PLACEHOLDERS_PER_TEXT) placeholders.
    #[error("{field}: more than {max} placeholders")]
    TooManyPlaceholders {
        /// The spec field.
        field: String,
        /// The limit.
        max: usize,
    },
    /// The expansion would be longer than
    /// [`MAX_EXPANDED_BYTES`](crate::agent::MAX_EXPANDED_BYTES).
    #[error("{field}: expansion exceeds the limit of {max_bytes} bytes")]
    OutputTooLarge {
        /// The spec field.
        field: String,
        /// The limit.
        max_bytes: usize,
    },
    /// A `{{` without its `}}` (or a quoted string without its closing quote).
    #[error("{field}: unclosed placeholder {placeholder}")]
    Unclosed {
        /// The spec field.
        field: String,
        /// The text from the `{{` on.
        placeholder: String,
    },
    /// A field the template context does not have, such as `.Service.Mode` or `.task.id`
    /// (names are case-sensitive).
    #[error("{field}: unknown field {path} in {placeholder}")]
    UnknownField {
        /// The spec field.
        field: String,
        /// The placeholder.
        placeholder: String,
        /// The unknown field path, e.g. `.Service.Mode`.
        path: String,
    },
    /// `.Service.Labels.<key>` names a label the service does not have (Go's templates with
    /// `missingkey=error`, as SwarmKit's); `index .Service.Labels "<key>"` gives an empty string
    /// instead.
    #[error("{field}: the service has no label {key:?} in {placeholder}")]
    MissingLabel {
        /// The spec field.
        field: String,
        /// The placeholder.
        placeholder: String,
        /// The missing label key.
        key: String,
    },
    /// `index` with wrong arguments: no map, a value that is not a map, a key that is not a
    /// string, or more than one key.
    #[error("{field}: {placeholder}: {reason}")]
    BadIndex {
        /// The spec field.
        field: String,
        /// The placeholder.
        placeholder: String,
        /// What is wrong.
        reason: &'static str,
    },
    /// Template syntax outside the supported subset (functions other than `index`, pipelines,
    /// variables, `if`/`range`, comments, ...) or malformed syntax.
    #[error("{field}: {placeholder} is not supported: {reason}")]
    Unsupported {
        /// The spec field.
        field: String,
        /// The placeholder.
        placeholder: String,
        /// What is not supported.
        reason: &'static str,
    },
}

impl TemplateError {
    /// The spec field that holds the template, e.g. `container.env[2]`.
    pub fn field(&self) -> &str {
        match self {
            TemplateError::TooLong { field, .. }
            | TemplateError::TooManyPlaceholders { field, .. }
            | TemplateError::OutputTooLarge { field, .. }
            | TemplateError::Unclosed { field, .. }
            | TemplateError::UnknownField { field, .. }
            | TemplateError::MissingLabel { field, .. }
            | TemplateError::BadIndex { field, .. }
            | TemplateError::Unsupported { field, .. } => field,
        }
    }
}
