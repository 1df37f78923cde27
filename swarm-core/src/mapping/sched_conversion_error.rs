//! Why a model value does not convert into swarm-sched's input.

/// A model value that swarm-sched cannot take, naming the field (and, for a node or a task,
/// the object) that is wrong.
///
/// Every case is a property of the value itself: converting the same value again fails the
/// same way, so none is retryable; the value must change first.
///
/// ```
/// use swarm_core::mapping::SchedConversionError;
/// use swarm_core::model::TaskSpec;
///
/// let mut spec = TaskSpec::default();
/// spec.placement.constraints = vec!["node.labels.zone=eu".into()];
/// let err = swarm_sched::TaskSpec::try_from(&spec).unwrap_err();
/// assert!(matches!(err, SchedConversionError::Constraint { .. }));
/// assert_eq!(
///     err.to_string(),
///     "placement.constraints[0]: invalid constraint \"node.labels.zone=eu\" at position 16: \
///      expected operator \"==\" or \"!=\", found \"=\""
/// );
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SchedConversionError {
    /// An amount (nano-CPUs, bytes, a discrete count) is below zero.
    #[error("{field} is {value}, below zero")]
    Negative {
        /// The field, e.g. `node n1: description.resources.nano_cpus`.
        field: String,
        /// The value read.
        value: i64,
    },
    /// A task reserves a named item (e.g. one GPU by its id): tasks reserve a count of a
    /// kind, and the scheduler picks the items.
    #[error(
        "{field} reserves the named item {item:?} of {kind:?}: a task reserves a count of a kind"
    )]
    NamedReservation {
        /// The field, e.g. `resources.reservations.generic[0]`.
        field: String,
        /// The resource kind.
        kind: String,
        /// The item named.
        item: String,
    },
    /// A placement constraint does not parse (swarm-sched's parser, the one constraint
    /// language).
    #[error("{field}: {source}")]
    Constraint {
        /// The field, e.g. `placement.constraints[2]`.
        field: String,
        /// The parser's error, with the position.
        source: swarm_sched::ConstraintError,
    },
    /// A spread preference does not parse.
    #[error("{field}: {source}")]
    Preference {
        /// The field, e.g. `placement.preferences[0].spread_descriptor`.
        field: String,
        /// The parser's error.
        source: swarm_sched::PreferenceError,
    },
    /// A published port is not a port number.
    #[error("{field} is {value}, not a port number (1 to 65535)")]
    Port {
        /// The field, e.g. `service web: endpoint.ports[1].published_port`.
        field: String,
        /// The value read.
        value: u32,
    },
    /// A field the conversion needs is not set.
    #[error("{field} is not set")]
    Missing {
        /// The field, e.g. `task t1: node_id`.
        field: String,
    },
}

impl SchedConversionError {
    /// Always `false`: the same value fails the same way; it must change first.
    pub fn is_retryable(&self) -> bool {
        false
    }
}

/// `value` as an unsigned amount, or [`SchedConversionError::Negative`] naming `field`.
pub(crate) fn non_negative(
    value: i64,
    field: impl FnOnce() -> String,
) -> Result<u64, SchedConversionError> {
    u64::try_from(value).map_err(|_| SchedConversionError::Negative {
        field: field(),
        value,
    })
}
