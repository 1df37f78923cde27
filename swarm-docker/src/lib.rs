//! # swarm-docker
//!
//! A [`Runtime`](swarm_core::runtime::Runtime) that runs swarm tasks as real containers of a
//! local Docker engine, through the Engine API on its unix socket ([bollard]).
//!
//! - [`DockerRuntime::connect`] negotiates the API version (engines from API 1.41, Docker 20.10,
//!   on) and checks that the directory for secret files is on tmpfs.
//! - [`Runtime::describe`](swarm_core::runtime::Runtime::describe) reports the engine's
//!   hostname, OS/architecture, CPUs, memory and engine labels.
//! - Each task becomes one container named `<prefix>-<namespace>-<task id>`, labelled with its
//!   task and service ([`LABEL_TASK_ID`], [`LABEL_SERVICE_ID`] and the other
//!   `LABEL_*` keys), with the spec's image, command, args, env, workdir, user,
//!   hostname, mounts, resource limits, stop signal and grace, and its health check as the
//!   container's HEALTHCHECK. It gets no restart policy and, when the task has no cluster
//!   network, network mode `none` by default.
//! - A task's cluster networks (`Task::networks`, filled in by the allocator) become local
//!   bridge networks of the engine, one per cluster network ([`local_network_name`],
//!   labelled [`LABEL_NETWORK_ID`]) with the allocated subnet; the container joins each with
//!   its allocated IPv4 address and its aliases, so containers of one host reach each other by
//!   service name. A network goes with the last container on it.
//! - A task's published ports (`Task::endpoint`, from the allocator) are exposed; host-mode
//!   ports are bound on the engine's host (a port published as 0 gets one the engine picks),
//!   and ingress-mode ports are listed in the container's [`LABEL_INGRESS_PORTS`] label
//!   ([`IngressPort`]) for a routing mesh of the node to find (the adapter runs none).
//! - Secrets and configs are written into a per-task directory on tmpfs (by default
//!   `/dev/shm/swarm-docker`) with their target's mode and owner, and bind-mounted read-only at
//!   their targets (`/run/secrets/<name>` for a bare secret name, `/<name>` for a config). They
//!   never touch the node's disk and are deleted by `remove`.
//! - A missing image is a permanent error naming it, unless
//!   [`DockerConfig::pull_missing_images`] is set; then a pull the registry answers with "not
//!   found" (or "access denied") is permanent ([`DockerError::ImageNotInRegistry`]) and any
//!   other failed pull temporary ([`DockerError::PullFailed`]).
//! - [`DockerRuntime::cleanup_orphans`] removes containers and files of tasks that are gone.
//!
//! ```no_run
//! use std::sync::Arc;
//! use swarm_core::runtime::{Runtime, TaskFiles};
//! use swarm_docker::{DockerConfig, DockerRuntime};
//!
//! # async fn run(task: swarm_core::model::Task) -> Result<(), Box<dyn std::error::Error>> {
//! let runtime: Arc<dyn Runtime> = Arc::new(DockerRuntime::connect(DockerConfig::default()).await?);
//! let files = TaskFiles::new().with_secret("db-password-id", b"hunter2".to_vec());
//! let ctl = runtime.controller(&task, files).await?;
//! ctl.prepare().await?;
//! ctl.start().await?;
//! let status = ctl.wait().await?;
//! println!("task {} {status}", ctl.task_id());
//! ctl.remove().await?;
//! # Ok(())
//! # }
//! ```
#![warn(missing_docs)]

mod config;
mod container_config;
mod controller;
mod error;
mod image;
mod ingress_port;
mod ipv4_cidr;
mod labels;
mod local_networks;
mod network_lock;
mod published_ports;
mod runtime;
mod task_files;
mod task_network;

pub use config::DockerConfig;
pub use controller::DockerController;
pub use error::DockerError;
pub use ingress_port::{IngressPort, MAX_INGRESS_PORTS};
pub use labels::{
    LABEL_INGRESS_PORTS, LABEL_MANAGED, LABEL_NAMESPACE, LABEL_NETWORK_ID, LABEL_NODE_ID,
    LABEL_SERVICE_ID, LABEL_SLOT, LABEL_TASK_ID, RESERVED_LABEL_PREFIX,
};
pub use runtime::{DockerRuntime, OrphanReport};
pub use task_network::local_network_name;
