//! Validation errors: which object, which field, which rule.

use crate::validate::quantity::Quantity;
use std::fmt;
use swarm_sched::ConstraintError;

/// Errors reported beyond this many are counted but not kept, so a huge spec cannot make a
/// huge error.
pub const MAX_REPORTED_ERRORS: usize = 100;

/// The kind of object a spec describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A node.
    Node,
    /// A service.
    Service,
    /// A secret.
    Secret,
    /// A config.
    Config,
    /// A network.
    Network,
    /// The cluster object.
    Cluster,
}

impl fmt::Display for ObjectKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectKind::Node => "node",
            ObjectKind::Service => "service",
            ObjectKind::Secret => "secret",
            ObjectKind::Config => "config",
            ObjectKind::Network => "network",
            ObjectKind::Cluster => "cluster",
        })
    }
}

/// A rule a field broke. The `Display` text is the part of the message after the field path.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Rule {
    /// A required value is empty.
    #[error("must not be empty")]
    Empty,
    /// A name is longer than allowed.
    #[error("{length} characters is above the maximum of {maximum}")]
    TooLong {
        /// Length in characters.
        length: usize,
        /// Maximum length.
        maximum: usize,
    },
    /// A name is not a DNS label (services, networks).
    #[error(
        "{value:?} is not a valid DNS label (letters, digits, '-' and '_', starting and ending with a letter or digit)"
    )]
    NotDnsLabel {
        /// The name.
        value: String,
    },
    /// A host name or alias is not a DNS name.
    #[error(
        "{value:?} is not a valid DNS name (dot-separated labels of letters, digits, '-' and '_', at most 253 characters)"
    )]
    NotDnsName {
        /// The name.
        value: String,
    },
    /// A secret or config name has characters that are not allowed.
    #[error(
        "{value:?} is not a valid name (letters, digits, '-', '_' and '.', starting and ending with a letter or digit)"
    )]
    InvalidObjectName {
        /// The name.
        value: String,
    },
    /// A label (or option) has an empty key.
    #[error("an entry has an empty key")]
    EmptyLabelKey,
    /// A quantity is negative.
    #[error("must not be negative, got {value}")]
    Negative {
        /// The value.
        value: Quantity,
    },
    /// A quantity is below its minimum.
    #[error("{value} is below the minimum of {minimum}")]
    BelowMinimum {
        /// The value.
        value: Quantity,
        /// The minimum.
        minimum: Quantity,
    },
    /// A quantity is above its maximum.
    #[error("{value} is above the maximum of {maximum}")]
    AboveMaximum {
        /// The value.
        value: Quantity,
        /// The maximum.
        maximum: Quantity,
    },
    /// A quantity is outside an inclusive range.
    #[error("{value} is not between {minimum} and {maximum}")]
    OutOfRange {
        /// The value.
        value: Quantity,
        /// The smallest allowed value.
        minimum: Quantity,
        /// The largest allowed value.
        maximum: Quantity,
    },
    /// A reservation is above the limit of the same resource.
    #[error("reservation of {reservation} is above the limit of {limit}")]
    ReservationAboveLimit {
        /// The reservation.
        reservation: Quantity,
        /// The limit.
        limit: Quantity,
    },
    /// A replicated job runs more tasks at once than it needs completions.
    #[error("{max_concurrent} is above total_completions ({total_completions})")]
    ConcurrencyAboveCompletions {
        /// Tasks at once.
        max_concurrent: u64,
        /// Completions needed.
        total_completions: u64,
    },
    /// An environment entry has an empty key.
    #[error("{entry:?} has an empty key")]
    EnvEmptyKey {
        /// The entry.
        entry: String,
    },
    /// A placement constraint is not in swarm-sched's constraint language.
    #[error(transparent)]
    Constraint(#[from] ConstraintError),
    /// A `node.role` constraint compares with something else than `manager` or `worker`.
    #[error("{expr:?} compares node.role with {value:?}, which is neither manager nor worker")]
    ConstraintRole {
        /// The constraint as written.
        expr: String,
        /// The value compared with.
        value: String,
    },
    /// A spread preference names no label swarm-sched can spread over.
    #[error(
        "{value:?} is not a node or engine label (use node.labels.<name> or engine.labels.<name>)"
    )]
    UnknownSpreadDescriptor {
        /// The descriptor.
        value: String,
    },
    /// Only replicated services can cap tasks per node.
    #[error(
        "only replicated services and replicated jobs can limit tasks per node, this one is {mode}"
    )]
    MaxReplicasNotReplicated {
        /// The service's mode.
        mode: String,
    },
    /// Two secret or config references put their file at the same place.
    #[error("{kind} {first:?} and {kind} {second:?} both target {target:?}")]
    DuplicateTarget {
        /// `secret` or `config`.
        kind: &'static str,
        /// The name in the earlier reference.
        first: String,
        /// The name in this reference.
        second: String,
        /// The shared target.
        target: String,
    },
    /// A file target escapes its directory.
    #[error("{value:?} must not contain '..' components")]
    PathEscapes {
        /// The target.
        value: String,
    },
    /// Two mounts at the same path.
    #[error("{target:?} is already mounted by mounts[{first}]")]
    DuplicateMount {
        /// The mount point.
        target: String,
        /// Index of the earlier mount.
        first: usize,
    },
    /// A path must be absolute.
    #[error("{value:?} is not an absolute path")]
    NotAbsolutePath {
        /// The path.
        value: String,
    },
    /// A tmpfs mount has a source.
    #[error("{value:?} must be empty for a tmpfs mount")]
    TmpfsWithSource {
        /// The source.
        value: String,
    },
    /// A file owner is not a number.
    #[error("{value:?} is not a numeric id")]
    NotNumericId {
        /// The id.
        value: String,
    },
    /// File permission bits out of range.
    #[error("{mode:#o} is not a valid file mode (the maximum is 0o777)")]
    InvalidFileMode {
        /// The mode.
        mode: u32,
    },
    /// A stop signal that is not a signal.
    #[error("{value:?} is not a known signal")]
    UnknownSignal {
        /// The signal as written.
        value: String,
    },
    /// A health check test of the wrong form.
    #[error("{test:?} must be [\"NONE\"], [\"CMD\", program, args...] or [\"CMD-SHELL\", command]")]
    InvalidHealthTest {
        /// The test.
        test: Vec<String>,
    },
    /// Two published ports with the same number and protocol.
    #[error("{port}/{protocol} is already published by ports[{first}]")]
    DuplicatePublishedPort {
        /// The port.
        port: u32,
        /// The protocol.
        protocol: String,
        /// Index of the earlier port.
        first: usize,
    },
    /// Ingress publishing needs a virtual IP.
    #[error("ingress publishing cannot be used with dnsrr resolution mode")]
    IngressWithDnsrr,
    /// Jobs run to completion and are not updated in place.
    #[error("job services cannot have an update or rollback config")]
    JobWithUpdateConfig,
    /// A rollback cannot roll back.
    #[error("rollback is not a valid failure action of a rollback (use pause or continue)")]
    RollbackOnRollbackFailure,
    /// A generic resource in the limits.
    #[error("generic resources can be reserved, not limited")]
    GenericLimit,
    /// A task reserves a named generic resource.
    #[error(
        "named resource {kind:?}={value:?} cannot be reserved by a task, reserve a count of {kind:?} instead"
    )]
    NamedGenericReservation {
        /// The kind.
        kind: String,
        /// The item.
        value: String,
    },
    /// The same generic kind reserved twice.
    #[error("{kind:?} is already reserved by generic[{first}]")]
    DuplicateGenericKind {
        /// The kind.
        kind: String,
        /// Index of the earlier entry.
        first: usize,
    },
    /// The same network attached twice.
    #[error("{target:?} is already attached by networks[{first}]")]
    DuplicateNetwork {
        /// The network.
        target: String,
        /// Index of the earlier attachment.
        first: usize,
    },
    /// Not a CIDR.
    #[error("{value:?} is not a valid CIDR subnet")]
    InvalidSubnet {
        /// The text.
        value: String,
    },
    /// Not an IP address.
    #[error("{value:?} is not a valid IP address")]
    InvalidAddress {
        /// The text.
        value: String,
    },
    /// An address or range outside its subnet.
    #[error("{value:?} is not inside subnet {subnet:?}")]
    NotInSubnet {
        /// The address or range.
        value: String,
        /// The subnet.
        subnet: String,
    },
    /// Two address pools overlap.
    #[error("{value:?} overlaps {other:?} of ipam.configs[{first}]")]
    OverlappingSubnet {
        /// This subnet.
        value: String,
        /// The earlier subnet.
        other: String,
        /// Index of the earlier pool.
        first: usize,
    },
    /// An election timeout that a healthy leader's heartbeats cannot beat.
    #[error("{timeout} must be above the heartbeat interval of {heartbeat}")]
    NotAboveHeartbeat {
        /// The election timeout.
        timeout: Quantity,
        /// The heartbeat interval.
        heartbeat: Quantity,
    },
    /// The ingress network is only for the routing mesh.
    #[error("an ingress network cannot be attachable")]
    AttachableIngress,
    /// A label only the cluster may set.
    #[error("label {key:?} is reserved for networks the cluster creates")]
    ReservedLabel {
        /// The label key.
        key: String,
    },
}

/// One broken rule: the object, the field path (as serialized, e.g.
/// `task_template.resources.reservations.memory_bytes`) and the rule.
///
/// Displayed as `service "web": task_template.resources.reservations.memory_bytes: 1 MiB is
/// below the minimum of 4 MiB`.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind} {object:?}: {field}: {rule}")]
pub struct ValidationError {
    /// The kind of object.
    pub kind: ObjectKind,
    /// The object's name as written in the spec.
    pub object: String,
    /// The path of the offending field.
    pub field: String,
    /// The rule it broke.
    pub rule: Rule,
}

/// Every rule a spec broke, in the order of its fields (at most [`MAX_REPORTED_ERRORS`] kept).
///
/// Displayed as the errors joined by `"; "`, followed by `"; and N more"` when some were not
/// kept.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", render(&self.errors, self.omitted))]
pub struct ValidationErrors {
    errors: Vec<ValidationError>,
    omitted: usize,
}

fn render(errors: &[ValidationError], omitted: usize) -> String {
    let mut out = errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    if omitted > 0 {
        out.push_str(&format!("; and {omitted} more"));
    }
    out
}

impl ValidationErrors {
    /// The errors kept.
    pub fn errors(&self) -> &[ValidationError] {
        &self.errors
    }

    /// How many errors were found, including those not kept.
    pub fn total(&self) -> usize {
        self.errors.len() + self.omitted
    }

    /// Always `false`: the spec must be fixed before it is submitted again.
    pub fn is_retryable(&self) -> bool {
        false
    }

    /// Whether some error concerns exactly this field path.
    pub fn has_field(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
}

impl IntoIterator for ValidationErrors {
    type Item = ValidationError;
    type IntoIter = std::vec::IntoIter<ValidationError>;

    fn into_iter(self) -> Self::IntoIter {
        self.errors.into_iter()
    }
}

/// Collects the errors of one object.
pub(crate) struct Report {
    kind: ObjectKind,
    object: String,
    errors: Vec<ValidationError>,
    omitted: usize,
}

impl Report {
    pub(crate) fn new(kind: ObjectKind, object: &str) -> Self {
        Report {
            kind,
            object: object.to_owned(),
            errors: Vec::new(),
            omitted: 0,
        }
    }

    pub(crate) fn push(&mut self, field: impl Into<String>, rule: impl Into<Rule>) {
        if self.errors.len() >= MAX_REPORTED_ERRORS {
            self.omitted += 1;
            return;
        }
        self.errors.push(ValidationError {
            kind: self.kind,
            object: self.object.clone(),
            field: field.into(),
            rule: rule.into(),
        });
    }

    pub(crate) fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors {
                errors: self.errors,
                omitted: self.omitted,
            })
        }
    }
}
