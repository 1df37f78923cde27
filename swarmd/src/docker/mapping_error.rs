//! Why a Docker document could not be mapped to the model.

use crate::api_error::ApiError;

/// A field of a request the model cannot hold, or a value it cannot read.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum MappingError {
    /// A field swarmd does not model, at a value other than its default.
    #[error("{field}: not supported by swarmd (only the default value is accepted, got {value})")]
    Unsupported {
        /// The field's path, e.g. `TaskTemplate.ContainerSpec.Init`.
        field: String,
        /// The value sent.
        value: String,
    },
    /// A value the model cannot take.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field's path.
        field: String,
        /// Why.
        reason: String,
    },
    /// The body is not the document expected (unknown field, wrong type).
    #[error("invalid JSON: {0}")]
    Json(String),
}

impl MappingError {
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        MappingError::Invalid {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

impl From<MappingError> for ApiError {
    fn from(e: MappingError) -> Self {
        ApiError::bad_request(e.to_string())
    }
}

/// Reads a request body as `T`, naming the unknown field or the type error.
pub(crate) fn from_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, MappingError> {
    serde_json::from_slice(body).map_err(|e| MappingError::Json(e.to_string()))
}
