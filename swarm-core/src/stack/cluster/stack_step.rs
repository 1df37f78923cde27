//! One change a stack operation made, printed as the docker CLI prints it.

use crate::stack::plan::object_kind::StackObjectKind;
use std::fmt;

/// What a step did to its object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum StackAction {
    /// The object was created.
    Create,
    /// The service's spec was replaced (a rolling update of its tasks).
    Update,
    /// The object was removed.
    Remove,
}

/// A network, secret, config or service a stack operation created, updated or removed. Its
/// `Display` is docker's line: `Creating network shop_front`, `Creating secret shop_tls`,
/// `Creating service shop_web`, `Updating service shop_web (id: 8kd2fz0lsgx0c1tq)`,
/// `Removing service shop_web`.
///
/// ```
/// use swarm_core::stack::{StackAction, StackObjectKind, StackStep};
///
/// let step = StackStep {
///     action: StackAction::Update,
///     kind: StackObjectKind::Service,
///     name: "shop_web".into(),
///     id: "8kd2fz0lsgx0".into(),
/// };
/// assert_eq!(step.to_string(), "Updating service shop_web (id: 8kd2fz0lsgx0)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackStep {
    /// Created, updated or removed.
    pub action: StackAction,
    /// The kind of object.
    pub kind: StackObjectKind,
    /// Its name.
    pub name: String,
    /// Its id (of the new object for a create).
    pub id: String,
}

impl fmt::Display for StackStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = match self.action {
            StackAction::Create => "Creating",
            StackAction::Update => "Updating",
            StackAction::Remove => "Removing",
        };
        write!(f, "{verb} {} {}", self.kind, self.name)?;
        if self.action == StackAction::Update {
            write!(f, " (id: {})", self.id)?;
        }
        Ok(())
    }
}
