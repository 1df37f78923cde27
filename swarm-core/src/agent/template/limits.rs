//! The bounds on a template and its expansion.

/// Longest template accepted: 64 KiB. A string containing `{{` that is longer is refused with
/// [`TemplateError::TooLong`](crate::agent::TemplateError::TooLong) before it is parsed, so
/// parsing one string reads at most this many bytes. A string without `{{` is not a template and
/// is returned as it is, whatever its length.
pub const MAX_TEMPLATE_BYTES: usize = 64 * 1024;

/// Most placeholders in one string: 64. The parsed form of one string holds at most this many
/// placeholders and as many text pieces plus one; more is refused with
/// [`TemplateError::TooManyPlaceholders`](crate::agent::TemplateError::TooManyPlaceholders).
pub const MAX_PLACEHOLDERS_PER_TEXT: usize = 64;

/// Longest expansion of one string: 64 KiB. Writing stops, with
/// [`TemplateError::OutputTooLarge`](crate::agent::TemplateError::OutputTooLarge), as soon as
/// the next piece would pass it (a service's labels printed whole can be long), so one string
/// never takes more memory than this. An expanded spec holds at most this much per expanded
/// string (hostname, each env value, each mount's source and target).
pub const MAX_EXPANDED_BYTES: usize = 64 * 1024;

/// Longest placeholder quoted in an error: 128 bytes (cut at a character boundary and marked
/// with `…`), so an error message stays short whatever the template.
pub const MAX_REPORTED_PLACEHOLDER_BYTES: usize = 128;
