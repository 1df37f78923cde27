//! How errors name the objects of the orchestration state: their type, id and name.

use crate::model::{Config, Network, Secret, Service, Task};
use std::fmt;

/// The type of an object of the orchestration state, as errors name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectType {
    /// A service.
    Service,
    /// A task.
    Task,
    /// A secret.
    Secret,
    /// A config.
    Config,
    /// A network.
    Network,
}

impl fmt::Display for ObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ObjectType::Service => "service",
            ObjectType::Task => "task",
            ObjectType::Secret => "secret",
            ObjectType::Config => "config",
            ObjectType::Network => "network",
        })
    }
}

/// An object as errors name it: its type, id and name (empty for tasks).
///
/// ```
/// use swarm_core::manager::control::{ObjectRef, ObjectType};
///
/// let web = ObjectRef::new(ObjectType::Service, "abc", "web");
/// assert_eq!(web.to_string(), r#"service "web" (abc)"#);
/// assert_eq!(ObjectRef::new(ObjectType::Task, "t1", "").to_string(), "task t1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectRef {
    /// The object's type.
    pub kind: ObjectType,
    /// Its id.
    pub id: String,
    /// Its name (empty when it has none).
    pub name: String,
}

impl ObjectRef {
    /// An object of `kind` with `id` and `name`.
    pub fn new(kind: ObjectType, id: impl Into<String>, name: impl Into<String>) -> ObjectRef {
        ObjectRef {
            kind,
            id: id.into(),
            name: name.into(),
        }
    }

    /// How errors name `service`.
    pub fn service(service: &Service) -> ObjectRef {
        ObjectRef::new(ObjectType::Service, service.id.as_str(), &service.spec.name)
    }

    /// How errors name `task`.
    pub fn task(task: &Task) -> ObjectRef {
        ObjectRef::new(ObjectType::Task, task.id.as_str(), "")
    }

    /// How errors name `secret`.
    pub fn secret(secret: &Secret) -> ObjectRef {
        ObjectRef::new(ObjectType::Secret, secret.id.as_str(), &secret.spec.name)
    }

    /// How errors name `config`.
    pub fn config(config: &Config) -> ObjectRef {
        ObjectRef::new(ObjectType::Config, config.id.as_str(), &config.spec.name)
    }

    /// How errors name `network`.
    pub fn network(network: &Network) -> ObjectRef {
        ObjectRef::new(ObjectType::Network, network.id.as_str(), &network.spec.name)
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.name.is_empty() {
            write!(f, "{} {}", self.kind, self.id)
        } else {
            write!(f, "{} {:?} ({})", self.kind, self.name, self.id)
        }
    }
}
