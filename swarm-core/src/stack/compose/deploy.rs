//! A service's `deploy:` section.

use crate::model::ResolutionMode;
use crate::stack::compose::file_parse::FileParse;
use crate::stack::compose::merge::{extend_map, merge_optional, over};
use crate::stack::compose::placement::ComposePlacement;
use crate::stack::compose::resources::ComposeResources;
use crate::stack::compose::restart_policy::ComposeRestartPolicy;
use crate::stack::compose::update_config::ComposeUpdateConfig;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path};
use std::collections::BTreeMap;

/// `deploy.mode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComposeDeployMode {
    /// `replicated` (the default).
    Replicated,
    /// `global`.
    Global,
    /// `replicated-job`.
    ReplicatedJob,
    /// `global-job`.
    GlobalJob,
}

/// A service's `deploy:` as written.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ComposeDeploy {
    /// The mode; `None` is replicated.
    pub mode: Option<ComposeDeployMode>,
    /// Replicas (replicated) or both concurrency and completions (replicated-job).
    pub replicas: Option<u64>,
    /// The service's labels (top-level `labels:` label the containers).
    pub labels: BTreeMap<String, String>,
    /// The rolling update policy.
    pub update_config: Option<ComposeUpdateConfig>,
    /// The rollback policy.
    pub rollback_config: Option<ComposeUpdateConfig>,
    /// Limits and reservations.
    pub resources: ComposeResources,
    /// The restart policy.
    pub restart_policy: Option<ComposeRestartPolicy>,
    /// Placement rules.
    pub placement: ComposePlacement,
    /// `vip` or `dnsrr`.
    pub endpoint_mode: Option<ResolutionMode>,
}

impl ComposeDeploy {
    /// Reads `deploy:`.
    pub(crate) fn parse(node: Node<'_>, cx: &mut FileParse<'_>) -> Result<Self, StackError> {
        let mut d = ComposeDeploy::default();
        for (key, value) in node.entries(true)? {
            let p = child_path(node.path, &key);
            let child = node.at(value, &p);
            match key.as_str() {
                "mode" => {
                    d.mode = Some(match child.string()?.as_str() {
                        "replicated" | "" => ComposeDeployMode::Replicated,
                        "global" => ComposeDeployMode::Global,
                        "replicated-job" => ComposeDeployMode::ReplicatedJob,
                        "global-job" => ComposeDeployMode::GlobalJob,
                        other => return Err(child.error(format!("unknown mode: {other}"))),
                    })
                }
                "replicas" => d.replicas = Some(child.u64()?),
                "labels" => d.labels = child.labels()?,
                "update_config" => d.update_config = Some(ComposeUpdateConfig::parse(child)?),
                "rollback_config" => d.rollback_config = Some(ComposeUpdateConfig::parse(child)?),
                "resources" => d.resources = ComposeResources::parse(child, cx)?,
                "restart_policy" => d.restart_policy = Some(ComposeRestartPolicy::parse(child)?),
                "placement" => d.placement = ComposePlacement::parse(child)?,
                "endpoint_mode" => {
                    d.endpoint_mode = Some(match child.string()?.to_ascii_lowercase().as_str() {
                        "vip" => ResolutionMode::Vip,
                        "dnsrr" => ResolutionMode::Dnsrr,
                        other => {
                            return Err(child
                                .error(format!("invalid endpoint mode {other:?} (vip or dnsrr)")));
                        }
                    })
                }
                _ => return Err(child.error("unknown option")),
            }
        }
        Ok(d)
    }

    /// Merges a later file's `deploy:` as docker: scalars replaced, labels merged by key,
    /// policies and resources field by field, constraints and preferences appended.
    pub(crate) fn merge_from(&mut self, later: ComposeDeploy) {
        over(&mut self.mode, later.mode);
        over(&mut self.replicas, later.replicas);
        extend_map(&mut self.labels, later.labels);
        merge_optional(
            &mut self.update_config,
            later.update_config,
            ComposeUpdateConfig::merge_from,
        );
        merge_optional(
            &mut self.rollback_config,
            later.rollback_config,
            ComposeUpdateConfig::merge_from,
        );
        self.resources.merge_from(later.resources);
        merge_optional(
            &mut self.restart_policy,
            later.restart_policy,
            ComposeRestartPolicy::merge_from,
        );
        self.placement.merge_from(later.placement);
        over(&mut self.endpoint_mode, later.endpoint_mode);
    }
}
