//! Planning a deploy of a stack over the cluster's current objects.

pub(crate) mod deploy_plan;
pub(crate) mod existing_stack;
pub(crate) mod missing_external;
pub(crate) mod object_kind;
pub(crate) mod plan_conflict;
pub(crate) mod plan_deploy;
pub(crate) mod planned_creates;
pub(crate) mod service_removal;
pub(crate) mod service_update;
