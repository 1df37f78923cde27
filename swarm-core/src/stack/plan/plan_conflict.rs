//! Why a stack cannot be deployed as planned, besides missing external objects.

use crate::stack::plan::object_kind::StackObjectKind;
use std::fmt;

/// An object of the stack that clashes with what the cluster holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanConflict {
    /// A service or network of that name exists but does not carry this stack's namespace
    /// label: the stack would take over (or fail to create) an object it does not own.
    NotInStack {
        /// Service or network.
        kind: StackObjectKind,
        /// Its name.
        name: String,
    },
    /// A secret or config of that name exists with other data; a swarm only lets labels of
    /// a secret or config change (docker's deploy fails the same way).
    DataChanged {
        /// Secret or config.
        kind: StackObjectKind,
        /// Its name.
        name: String,
    },
}

impl fmt::Display for PlanConflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanConflict::NotInStack { kind, name } => {
                write!(
                    f,
                    "{kind} {name} already exists and is not part of the stack"
                )
            }
            PlanConflict::DataChanged { kind, name } => write!(
                f,
                "failed to update {kind} {name}: only updates to Labels are allowed (remove the {kind} or give the new data another name)"
            ),
        }
    }
}
