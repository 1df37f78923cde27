//! Stacks: `docker stack deploy` compose files as cluster objects, without any CLI.
//!
//! Three pure steps:
//!
//! 1. [`load`] reads compose files (version 3, as `docker stack deploy -c a.yml -c b.yml`
//!    accepts) into a [`ComposeProject`]: YAML anchors, aliases and `<<` merge keys,
//!    `${VAR}` interpolation from a caller-given environment, `env_file`s and the `file:` of
//!    secrets and configs read through a caller-given reader, later files overriding and
//!    extending earlier ones with docker's rules.
//! 2. [`convert`] turns the project into the [`StackObjects`] of one stack: `ServiceSpec`s,
//!    `NetworkSpec`s, `SecretSpec`s and `ConfigSpec`s named `<stack>_<name>` and labelled
//!    [`NAMESPACE_LABEL`], plus the external objects they use, by name.
//! 3. [`plan_deploy`] compares those objects with the cluster's ([`ExistingStack`]) and says
//!    what to create, which services changed, what `prune` removes and which external objects
//!    are missing ([`DeployPlan`]).
//!
//! On a running cluster, through a [`Control`](crate::node::Control) handle, as the docker CLI
//! does them client side: [`deploy`] (plan, refuse on missing externals or clashes, create
//! networks, secrets, configs and services, update only the services whose spec changed,
//! prune), [`list`] (`stack ls`), [`services`] (`stack services`), [`ps`] (`stack ps`) and
//! [`remove`] (`stack rm`), each returning data and, where docker prints a table or lines,
//! a render function.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::path::Path;
//! use swarm_core::stack::{ComposeFile, ExistingStack, convert, load, plan_deploy};
//!
//! let base = ComposeFile::new(
//!     "docker-compose.yml",
//!     "version: '3.7'\nservices:\n  web:\n    image: nginx:1.27\n    networks: [front]\n\
//!      networks:\n  front:\n",
//! );
//! let swarm = ComposeFile::new(
//!     "docker-compose.swarm.yml",
//!     "version: '3.7'\nservices:\n  web:\n    ports: ['80:80']\n    secrets:\n      \
//!      - source: tls\n        target: /certs/tls.pem\n    deploy:\n      replicas: 2\n\
//!      secrets:\n  tls:\n    external: true\n",
//! );
//! let project = load(&[base, swarm], &BTreeMap::new(), &|p: &Path| std::fs::read(p))?;
//! let objects = convert(&project, "shop")?;
//! let web = objects.service("web").unwrap();
//! assert_eq!(web.task_template.networks[0].target, "shop_front");
//! assert_eq!(web.task_template.container.secrets[0].secret_name, "tls");
//! let plan = plan_deploy(&objects, &ExistingStack::default(), false);
//! assert_eq!(plan.missing_external[0].to_string(), "service web: secret not found: tls");
//! # Ok::<(), swarm_core::stack::StackError>(())
//! ```
//!
//! # What each compose option becomes
//!
//! | compose | model |
//! | --- | --- |
//! | `image` | `container.image` and the service label [`IMAGE_LABEL`] |
//! | `entrypoint` / `command` (string split as a shell would, or list) | `container.command` / `container.args` |
//! | `environment` (list or map), `env_file` | `container.env`, sorted `KEY=value` (bare `KEY` when unset) |
//! | `labels` | container labels (plus the namespace label) |
//! | `deploy.labels` | service labels (plus the namespace and image labels) |
//! | `hostname`, `user`, `working_dir`, `stop_signal`, `stop_grace_period` | the container fields |
//! | `healthcheck` (`test`, `interval`, `timeout`, `retries`, `start_period`, `disable`) | `container.healthcheck` (`disable` is `["NONE"]`) |
//! | `ports` short (`"8080:80"`, `"80"`, `"8080:80/udp"`, ranges) and long (`target`, `published`, `protocol`, `mode`) | `endpoint_spec.ports` |
//! | `deploy.endpoint_mode` (`vip`, `dnsrr`) | `endpoint_spec.mode` |
//! | `secrets` / `configs` short and long (`source`, `target`, `uid`, `gid`, `mode`) | references by name, sorted |
//! | `networks` (list, or map with `aliases`) | attachments by name, the compose service name added as an alias |
//! | `volumes` short and long (`volume`, `bind`, `tmpfs`) | `container.mounts`; named volumes `<stack>_<name>` |
//! | `deploy.mode` (`replicated`, `global`, `replicated-job`, `global-job`), `deploy.replicas` | `mode` |
//! | `deploy.placement` (`constraints`, `preferences`, `max_replicas_per_node`) | `task_template.placement` |
//! | `deploy.resources` (`cpus` such as `"0.5"`, `memory` such as `"512M"`, `generic_resources`) | `task_template.resources` |
//! | `deploy.restart_policy` (else the legacy `restart:`) | `task_template.restart_policy` |
//! | `deploy.update_config`, `deploy.rollback_config` | `update_config`, `rollback_config` |
//! | top-level `networks` (`driver`, `driver_opts`, `ipam`, `internal`, `attachable`, `labels`, `name`, `external`) | [`NetworkSpec`](crate::model::NetworkSpec)s |
//! | top-level `secrets` / `configs` (`file`, `labels`, `name`, `external`) | [`SecretSpec`](crate::model::SecretSpec)s / [`ConfigSpec`](crate::model::ConfigSpec)s |
//!
//! Unset fields take the model's defaults, which are SwarmKit's. An `external` network,
//! secret or config (also `external: {name: x}`, with docker's deprecation warning, and
//! `name:`) is used by that name and looked up at deploy time.
//!
//! # Options not applied
//!
//! * [`IGNORED_SERVICE_OPTIONS`] (`build`, `links`, …): docker's list, reported in one warning
//!   in docker's words, `Ignoring unsupported options: build, links` (sorted).
//!   [`DEPRECATED_SERVICE_OPTIONS`] (`container_name`, `expose`) get docker's second warning.
//! * [`SILENTLY_IGNORED_SERVICE_OPTIONS`] (`depends_on`, `tmpfs`): dropped without a word, as
//!   docker drops them.
//! * [`FORBIDDEN_SERVICE_OPTIONS`] (`extends`, `volumes_from`, `mem_limit`, …): the file does
//!   not load ([`StackError::Forbidden`]), as with docker.
//! * [`NOT_YET_SUPPORTED_SERVICE_OPTIONS`] (`extra_hosts`, `dns`, `init`, `tty`, `read_only`,
//!   `sysctls`, `ulimits`, `cap_add`, `logging`, …) and sub-options the model cannot express
//!   (`deploy.resources.limits.pids`, `healthcheck.start_interval`, volume driver options,
//!   bind propagation, `npipe` mounts, `template_driver`, …): docker applies them, this
//!   library cannot yet. They are not reported as ignored; each use is returned, file and
//!   field, in [`StackObjects::not_supported`], so a caller can refuse to deploy.
//!
//! # Where this differs from docker
//!
//! * Relative paths (`env_file`, `file:`, bind sources) are read from the first file's
//!   directory, as docker does, not from each file's own.
//! * Unpublished ports of a service are not collapsed into one when files are merged (docker
//!   keys merged ports by published port, so `"80"` and `"8080"` became one).
//! * A value a later file sets always overrides, `false` and `0` included (docker's merge
//!   skips Go zero values).
//! * Interpolation without braces takes only the name (`$VAR-x` is `$VAR` then `-x`; docker
//!   reads `-x` as a default there).
//! * Unknown options are errors naming the field (docker's schema check refuses them too,
//!   in other words).

mod cluster;
mod compose;
mod compose_file;
mod error;
mod limits;
mod load;
mod objects;
mod plan;
mod syntax;

pub use cluster::deploy::deploy;
pub use cluster::deploy_options::DeployOptions;
pub use cluster::deploy_report::DeployReport;
pub use cluster::limits::{MAX_NETWORK_REMOVE_ATTEMPTS, NETWORK_REMOVE_RETRY_MS};
pub use cluster::remove::remove;
pub use cluster::remove_report::RemoveReport;
pub use cluster::stack_deploy_error::StackDeployError;
pub use cluster::stack_list::list;
pub use cluster::stack_services::{StackServices, services};
pub use cluster::stack_step::{StackAction, StackStep};
pub use cluster::stack_summary::{StackSummary, render_stack_ls};
pub use cluster::stack_tasks::{StackTasks, ps};
pub use compose::deploy::{ComposeDeploy, ComposeDeployMode};
pub use compose::file_object::{ComposeFileObject, FileObjectKind};
pub use compose::file_reference::ComposeFileReference;
pub use compose::healthcheck::ComposeHealthcheck;
pub use compose::network::ComposeNetwork;
pub use compose::origin::Origin;
pub use compose::placement::ComposePlacement;
pub use compose::project::ComposeProject;
pub use compose::resources::{ComposeResourceAmounts, ComposeResources};
pub use compose::restart_policy::ComposeRestartPolicy;
pub use compose::service::ComposeService;
pub use compose::service_network::ComposeServiceNetwork;
pub use compose::service_options::{
    DEPRECATED_SERVICE_OPTIONS, FORBIDDEN_SERVICE_OPTIONS, IGNORED_SERVICE_OPTIONS,
    NOT_YET_SUPPORTED_SERVICE_OPTIONS, SILENTLY_IGNORED_SERVICE_OPTIONS,
};
pub use compose::service_volume::{ComposeServiceVolume, ComposeVolumeType};
pub use compose::update_config::ComposeUpdateConfig;
pub use compose::volume::ComposeVolume;
pub use compose_file::ComposeFile;
pub use error::StackError;
pub use limits::{MAX_COMPOSE_FILE_BYTES, MAX_COMPOSE_FILES, MAX_ENV_FILE_BYTES};
pub use load::load;
pub use objects::convert::convert;
pub use objects::external_refs::ExternalRefs;
pub use objects::labels::{IMAGE_LABEL, NAMESPACE_LABEL};
pub use objects::stack_objects::StackObjects;
pub use plan::deploy_plan::DeployPlan;
pub use plan::existing_stack::ExistingStack;
pub use plan::missing_external::MissingExternal;
pub use plan::object_kind::StackObjectKind;
pub use plan::plan_conflict::PlanConflict;
pub use plan::plan_deploy::plan_deploy;
pub use plan::planned_creates::PlannedCreates;
pub use plan::service_removal::ServiceRemoval;
pub use plan::service_update::ServiceUpdate;
