//! A service of a compose file: parsed per file, then merged across files.

use crate::model::PortConfig;
use crate::stack::compose::deploy::ComposeDeploy;
use crate::stack::compose::file_parse::FileParse;
use crate::stack::compose::file_reference::{
    ComposeFileReference, merge_file_references, parse_file_references,
};
use crate::stack::compose::healthcheck::ComposeHealthcheck;
use crate::stack::compose::merge::{extend_map, merge_optional, over, over_non_empty};
use crate::stack::compose::port::{merge_ports, parse_ports};
use crate::stack::compose::restart_policy::ComposeRestartPolicy;
use crate::stack::compose::service_network::{
    ComposeServiceNetwork, merge_service_networks, parse_service_networks,
};
use crate::stack::compose::service_options::{
    DEPRECATED_SERVICE_OPTIONS, IGNORED_SERVICE_OPTIONS, NOT_YET_SUPPORTED_SERVICE_OPTIONS,
    SILENTLY_IGNORED_SERVICE_OPTIONS,
};
use crate::stack::compose::service_volume::{
    ComposeServiceVolume, merge_service_volumes, parse_service_volumes,
};
use crate::stack::error::StackError;
use crate::stack::limits::MAX_ENV_FILE_BYTES;
use crate::stack::syntax::env_file::parse_env_file;
use crate::stack::syntax::node::{Node, child_path, item_path};
use crate::stack::syntax::shell_words::split_shell_words;
use serde_norway::Value;
use std::collections::BTreeMap;
use std::time::Duration;

/// A service as the merged compose files describe it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComposeService {
    /// The service's key under `services:` (the stack service is `<stack>_<name>`).
    pub name: String,
    /// The files that define or override it, in order.
    pub defined_in: Vec<String>,
    /// The image.
    pub image: Option<String>,
    /// `command:` (the arguments; a string is split into words as a shell would).
    pub command: Option<Vec<String>>,
    /// `entrypoint:` (the program; a string is split into words).
    pub entrypoint: Option<Vec<String>>,
    /// The environment: `env_file` entries then `environment:`, a value missing or empty taken
    /// from the caller's environment when it has the variable, `None` for a bare `KEY`.
    pub environment: BTreeMap<String, Option<String>>,
    /// Container labels (`labels:`; the service's own are `deploy.labels`).
    pub labels: BTreeMap<String, String>,
    /// Host name in the task.
    pub hostname: Option<String>,
    /// User to run as.
    pub user: Option<String>,
    /// Working directory.
    pub working_dir: Option<String>,
    /// The stop signal.
    pub stop_signal: Option<String>,
    /// Time between the stop signal and a kill.
    pub stop_grace_period: Option<Duration>,
    /// The legacy `restart:` read as a restart policy (used when `deploy.restart_policy` is
    /// absent, as docker does, although docker also lists `restart` as ignored).
    pub restart: Option<ComposeRestartPolicy>,
    /// Published ports.
    pub ports: Vec<PortConfig>,
    /// Secrets the service uses.
    pub secrets: Vec<ComposeFileReference>,
    /// Configs the service uses.
    pub configs: Vec<ComposeFileReference>,
    /// Mounts.
    pub volumes: Vec<ComposeServiceVolume>,
    /// Networks by their key under `networks:`; empty means the stack's `default` network.
    pub networks: BTreeMap<String, ComposeServiceNetwork>,
    /// The health check.
    pub healthcheck: Option<ComposeHealthcheck>,
    /// The `deploy:` section.
    pub deploy: ComposeDeploy,
}

/// A `command`/`entrypoint`: a string split into words, or a list.
fn shell_command(node: Node<'_>) -> Result<Vec<String>, StackError> {
    match node.value {
        Value::String(s) => split_shell_words(s).map_err(|why| node.error(why)),
        _ => node.string_list(),
    }
}

/// Docker's `updateEnvironment`: each variable whose value is missing or empty takes the
/// caller's value when the caller has one.
fn update_environment(
    environment: &mut BTreeMap<String, Option<String>>,
    vars: impl IntoIterator<Item = (String, Option<String>)>,
    env: &BTreeMap<String, String>,
) {
    for (key, value) in vars {
        let from_env = env
            .get(&key)
            .filter(|_| value.as_deref().is_none_or(str::is_empty));
        let value = match from_env {
            Some(v) => Some(v.clone()),
            None => value,
        };
        environment.insert(key, value);
    }
}

impl ComposeService {
    /// Reads the entry `name` of `services:` in one file, its `env_file`s included.
    pub(crate) fn parse(
        name: &str,
        node: Node<'_>,
        cx: &mut FileParse<'_>,
    ) -> Result<Self, StackError> {
        let mut s = ComposeService {
            name: name.to_owned(),
            defined_in: vec![cx.file.to_owned()],
            ..ComposeService::default()
        };
        let mut env_files: Vec<(String, String)> = Vec::new();
        let mut environment = BTreeMap::new();
        for (key, value) in node.entries(false)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "image" => s.image = Some(child.string()?),
                "command" => s.command = Some(shell_command(child)?),
                "entrypoint" => s.entrypoint = Some(shell_command(child)?),
                "environment" if child.is_null() => {}
                "environment" => environment = child.map_or_list('=', true)?,
                "env_file" => {
                    let files = child.string_or_list()?;
                    let many = matches!(value, Value::Sequence(_));
                    for (i, f) in files.into_iter().enumerate() {
                        let field = if many { item_path(&p, i) } else { p.clone() };
                        env_files.push((f, field));
                    }
                }
                "labels" if child.is_null() => {}
                "labels" => s.labels = child.labels()?,
                "hostname" => s.hostname = Some(child.string()?),
                "user" => s.user = Some(child.string()?),
                "working_dir" => s.working_dir = Some(child.string()?),
                "stop_signal" => s.stop_signal = Some(child.string()?),
                "stop_grace_period" => s.stop_grace_period = Some(child.duration()?),
                "restart" => {
                    cx.notes.ignored.insert(key.clone());
                    s.restart = ComposeRestartPolicy::parse_legacy(child)?;
                }
                "ports" => s.ports = parse_ports(child, cx)?,
                "secrets" => s.secrets = parse_file_references(child)?,
                "configs" => s.configs = parse_file_references(child)?,
                "volumes" => s.volumes = parse_service_volumes(child, cx)?,
                "networks" => s.networks = parse_service_networks(child, cx)?,
                "healthcheck" => s.healthcheck = Some(ComposeHealthcheck::parse(child, cx)?),
                "deploy" => s.deploy = ComposeDeploy::parse(child, cx)?,
                k if IGNORED_SERVICE_OPTIONS.contains(&k) => {
                    cx.notes.ignored.insert(key.clone());
                }
                k if DEPRECATED_SERVICE_OPTIONS.iter().any(|(d, _)| *d == k) => {
                    cx.notes.deprecated.insert(key.clone());
                }
                k if SILENTLY_IGNORED_SERVICE_OPTIONS.contains(&k) => {}
                k if NOT_YET_SUPPORTED_SERVICE_OPTIONS.contains(&k) => cx.not_supported(&p),
                k if k.starts_with("x-") => {}
                _ => return Err(child.error("unknown option")),
            }
        }
        for (file, field) in env_files {
            let bytes = cx.read(&field, &file, MAX_ENV_FILE_BYTES)?;
            let vars = parse_env_file(&bytes, cx.env).map_err(|why| StackError::Invalid {
                file: cx.file.to_owned(),
                field: field.clone(),
                message: format!("invalid env file ({file}): {why}"),
            })?;
            update_environment(
                &mut s.environment,
                vars.into_iter().map(|(k, v)| (k, Some(v))),
                cx.env,
            );
        }
        update_environment(&mut s.environment, environment, cx.env);
        Ok(s)
    }

    /// Merges a later file's definition of the same service, with docker's override rules:
    /// values replace (a command only when not empty), environment and labels merge by key,
    /// ports by published port, secrets and configs by source, volumes by target, networks by
    /// name; `deploy`, `healthcheck` and the policies merge field by field.
    pub(crate) fn merge_from(&mut self, later: ComposeService) {
        self.defined_in.extend(later.defined_in);
        over(&mut self.image, later.image);
        over_non_empty(&mut self.command, later.command);
        over_non_empty(&mut self.entrypoint, later.entrypoint);
        extend_map(&mut self.environment, later.environment);
        extend_map(&mut self.labels, later.labels);
        over(&mut self.hostname, later.hostname);
        over(&mut self.user, later.user);
        over(&mut self.working_dir, later.working_dir);
        over(&mut self.stop_signal, later.stop_signal);
        over(&mut self.stop_grace_period, later.stop_grace_period);
        merge_optional(
            &mut self.restart,
            later.restart,
            ComposeRestartPolicy::merge_from,
        );
        merge_ports(&mut self.ports, later.ports);
        merge_file_references(&mut self.secrets, later.secrets);
        merge_file_references(&mut self.configs, later.configs);
        merge_service_volumes(&mut self.volumes, later.volumes);
        merge_service_networks(&mut self.networks, later.networks);
        merge_optional(
            &mut self.healthcheck,
            later.healthcheck,
            ComposeHealthcheck::merge_from,
        );
        self.deploy.merge_from(later.deploy);
    }
}
