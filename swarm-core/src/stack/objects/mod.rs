//! Cluster objects made from a compose project.

pub(crate) mod convert;
pub(crate) mod external_refs;
pub(crate) mod labels;
pub(crate) mod service_spec;
pub(crate) mod stack_objects;
