//! The stack the compose files describe, merged: services, networks, volumes, secrets, configs.

use crate::stack::compose::file_object::{ComposeFileObject, FileObjectKind};
use crate::stack::compose::file_parse::{FileParse, Notes};
use crate::stack::compose::network::ComposeNetwork;
use crate::stack::compose::origin::Origin;
use crate::stack::compose::service::ComposeService;
use crate::stack::compose::volume::ComposeVolume;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

/// What [`load`](crate::stack::load) reads from compose files: the merged definitions, with
/// interpolation, `env_file`s and secret and config files already applied, and the warnings
/// and unsupported options gathered on the way. [`convert`](crate::stack::convert) turns it
/// into cluster objects.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComposeProject {
    /// The directory relative paths were read from: the first file's, as docker.
    pub working_dir: PathBuf,
    /// The files' version (`3.7`; `3.13` when they declare none).
    pub version: String,
    /// Services by key.
    pub services: BTreeMap<String, ComposeService>,
    /// Networks by key.
    pub networks: BTreeMap<String, ComposeNetwork>,
    /// Named volumes by key.
    pub volumes: BTreeMap<String, ComposeVolume>,
    /// Secrets by key.
    pub secrets: BTreeMap<String, ComposeFileObject>,
    /// Configs by key.
    pub configs: BTreeMap<String, ComposeFileObject>,
    /// Warnings docker prints while loading (`network.external.name is deprecated…`, a port's
    /// host IP ignored), in file order.
    pub load_warnings: Vec<String>,
    /// Service options used that docker ignores with `Ignoring unsupported options: …`.
    pub ignored_options: BTreeSet<String>,
    /// Service options used that docker ignores as deprecated.
    pub deprecated_options: BTreeSet<String>,
    /// Uses of options `docker stack deploy` applies but the model has no field for yet (see
    /// [`NOT_YET_SUPPORTED_SERVICE_OPTIONS`](crate::stack::NOT_YET_SUPPORTED_SERVICE_OPTIONS)).
    pub not_supported: BTreeSet<Origin>,
}

impl ComposeProject {
    /// Reads the sections of one interpolated file.
    pub(crate) fn parse_file(root: Node<'_>, cx: &mut FileParse<'_>) -> Result<Self, StackError> {
        let mut project = ComposeProject {
            working_dir: cx.working_dir.to_path_buf(),
            version: cx.version.clone(),
            ..ComposeProject::default()
        };
        for (key, value) in root.entries(false)? {
            let p = child_path(root.path, &key);
            let section = root.at(value, &p);
            match key.as_str() {
                "version" => {}
                "services" => {
                    for (name, value) in section.entries(true)? {
                        let sp = child_path(&p, &name);
                        let service = ComposeService::parse(&name, section.at(value, &sp), cx)?;
                        project.services.insert(name, service);
                    }
                }
                "networks" => {
                    for (name, value) in section.entries(true)? {
                        let np = child_path(&p, &name);
                        let network = ComposeNetwork::parse(&name, section.at(value, &np), cx)?;
                        project.networks.insert(name, network);
                    }
                }
                "volumes" => {
                    for (name, value) in section.entries(true)? {
                        let vp = child_path(&p, &name);
                        let volume = ComposeVolume::parse(&name, section.at(value, &vp), cx)?;
                        project.volumes.insert(name, volume);
                    }
                }
                "secrets" | "configs" => {
                    let kind = if key == "secrets" {
                        FileObjectKind::Secret
                    } else {
                        FileObjectKind::Config
                    };
                    for (name, value) in section.entries(true)? {
                        let op = child_path(&p, &name);
                        let object =
                            ComposeFileObject::parse(kind, &name, section.at(value, &op), cx)?;
                        match kind {
                            FileObjectKind::Secret => project.secrets.insert(name, object),
                            FileObjectKind::Config => project.configs.insert(name, object),
                        };
                    }
                }
                k if k.starts_with("x-") => {}
                _ => return Err(section.error("unknown top-level option")),
            }
        }
        let notes = std::mem::take(&mut cx.notes);
        project.absorb_notes(notes);
        Ok(project)
    }

    fn absorb_notes(&mut self, notes: Notes) {
        self.load_warnings.extend(notes.warnings);
        self.ignored_options.extend(notes.ignored);
        self.deprecated_options.extend(notes.deprecated);
        self.not_supported.extend(notes.not_supported);
    }

    /// Merges a later file into this project, as docker: services merge field by field (see
    /// [`ComposeService`]); a later network, volume, secret or config replaces the earlier
    /// definition of the same key whole.
    pub(crate) fn merge_from(&mut self, later: ComposeProject) {
        for (name, service) in later.services {
            match self.services.get_mut(&name) {
                Some(existing) => existing.merge_from(service),
                None => {
                    self.services.insert(name, service);
                }
            }
        }
        self.networks.extend(later.networks);
        self.volumes.extend(later.volumes);
        self.secrets.extend(later.secrets);
        self.configs.extend(later.configs);
        self.load_warnings.extend(later.load_warnings);
        self.ignored_options.extend(later.ignored_options);
        self.deprecated_options.extend(later.deprecated_options);
        self.not_supported.extend(later.not_supported);
    }
}
