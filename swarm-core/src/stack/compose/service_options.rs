//! How `docker stack deploy` treats each service option, and so how this module does.

/// Options docker's stack loader ignores and lists in one warning,
/// `Ignoring unsupported options: build, links` (docker/cli `UnsupportedProperties`).
/// `restart` is listed yet still read as a fallback restart policy when `deploy.restart_policy`
/// is absent, as docker does.
pub const IGNORED_SERVICE_OPTIONS: &[&str] = &[
    "build",
    "cgroupns_mode",
    "cgroup_parent",
    "devices",
    "domainname",
    "external_links",
    "ipc",
    "links",
    "mac_address",
    "network_mode",
    "pid",
    "privileged",
    "restart",
    "security_opt",
    "shm_size",
    "userns_mode",
];

/// Options docker ignores with a second warning, `Ignoring deprecated options:` followed by
/// each option and docker's explanation (docker/cli `DeprecatedProperties`).
pub const DEPRECATED_SERVICE_OPTIONS: &[(&str, &str)] = &[
    (
        "container_name",
        "Setting the container name is not supported.",
    ),
    (
        "expose",
        "Exposing ports is unnecessary - services on the same network can access each other's containers on any port.",
    ),
];

/// Options docker refuses: a file using one does not load (docker/cli `ForbiddenProperties`).
pub const FORBIDDEN_SERVICE_OPTIONS: &[(&str, &str)] = &[
    ("cpu_quota", "Set resource limits using deploy.resources"),
    ("cpu_shares", "Set resource limits using deploy.resources"),
    ("cpuset", "Set resource limits using deploy.resources"),
    ("extends", "Support for `extends` is not implemented yet."),
    ("mem_limit", "Set resource limits using deploy.resources"),
    (
        "memswap_limit",
        "Set resource limits using deploy.resources",
    ),
    (
        "volume_driver",
        "Instead of setting the volume driver on the service, define a volume using the top-level `volumes` option and specify the driver there.",
    ),
    (
        "volumes_from",
        "To share a volume between services, define it using the top-level `volumes` option and reference it from each service that shares it using the service-level `volumes` option.",
    ),
];

/// Options docker drops without any warning: `depends_on` (a swarm starts services in no
/// order), `tmpfs` (docker's converter never reads it). This module drops them the same way.
pub const SILENTLY_IGNORED_SERVICE_OPTIONS: &[&str] = &["depends_on", "tmpfs"];

/// Options `docker stack deploy` applies but swarm-core's model has no field for yet. They are
/// not ignored silently and not listed as ignored: their uses are returned in
/// [`StackObjects::not_supported`](crate::stack::StackObjects::not_supported) (and
/// [`ComposeProject::not_supported`](crate::stack::ComposeProject::not_supported)), their
/// values unchecked.
pub const NOT_YET_SUPPORTED_SERVICE_OPTIONS: &[&str] = &[
    "cap_add",
    "cap_drop",
    "credential_spec",
    "dns",
    "dns_search",
    "extra_hosts",
    "init",
    "isolation",
    "logging",
    "oom_score_adj",
    "read_only",
    "stdin_open",
    "sysctls",
    "tty",
    "ulimits",
];
