//! Stack operations on a running cluster, client side over [`Control`](crate::node::Control),
//! as the docker CLI does them: `stack deploy`, `stack ls`, `stack services`, `stack ps` and
//! `stack rm`.

pub(crate) mod deploy;
pub(crate) mod deploy_options;
pub(crate) mod deploy_report;
pub(crate) mod existing_read;
pub(crate) mod limits;
pub(crate) mod remove;
pub(crate) mod remove_report;
pub(crate) mod stack_deploy_error;
pub(crate) mod stack_list;
pub(crate) mod stack_services;
pub(crate) mod stack_step;
pub(crate) mod stack_summary;
pub(crate) mod stack_tasks;
