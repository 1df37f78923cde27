//! A top-level `networks:` entry.

use crate::model::{IpamConfig, IpamOptions};
use crate::stack::compose::external::{External, parse_external, resolve_name};
use crate::stack::compose::file_parse::FileParse;
use crate::stack::compose::origin::Origin;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path, item_path};
use std::collections::BTreeMap;

/// A network of the stack as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ComposeNetwork {
    /// The network's name in the cluster: for an external network the one it is found by, else
    /// `name:` if given; `None` means `<stack>_<key>`.
    pub name: Option<String>,
    /// Whether the network exists beforehand (`external: true`) rather than being created.
    pub external: bool,
    /// The driver; `None` means overlay.
    pub driver: Option<String>,
    /// Driver options.
    pub driver_opts: BTreeMap<String, String>,
    /// Address management; `None` lets the cluster choose.
    pub ipam: Option<IpamOptions>,
    /// No route outside.
    pub internal: bool,
    /// Standalone containers may attach.
    pub attachable: bool,
    /// Labels (the namespace label is added at conversion).
    pub labels: BTreeMap<String, String>,
    /// Where it was declared.
    pub origin: Origin,
}

fn ipam(node: Node<'_>) -> Result<IpamOptions, StackError> {
    let mut out = IpamOptions::default();
    for (key, value) in node.entries(true)? {
        let p = child_path(node.path, &key);
        let child = node.at(value, &p);
        match key.as_str() {
            "driver" => out.driver = child.string()?,
            "config" => {
                for (i, item) in child.items()?.iter().enumerate() {
                    let ip = item_path(&p, i);
                    let pool = child.at(item, &ip);
                    let mut config = IpamConfig::default();
                    for (k, v) in pool.entries(false)? {
                        let kp = child_path(&ip, &k);
                        let field = pool.at(v, &kp);
                        match k.as_str() {
                            "subnet" => config.subnet = field.string()?,
                            _ => return Err(field.error("unknown option")),
                        }
                    }
                    out.configs.push(config);
                }
            }
            _ => return Err(child.error("unknown option")),
        }
    }
    Ok(out)
}

impl ComposeNetwork {
    /// Reads the entry `key` of `networks:`.
    pub(crate) fn parse(
        key: &str,
        node: Node<'_>,
        cx: &mut FileParse<'_>,
    ) -> Result<Self, StackError> {
        let mut n = ComposeNetwork {
            origin: Origin::new(node.file, node.path),
            ..ComposeNetwork::default()
        };
        let mut external = External::default();
        for (k, value) in node.entries(true)? {
            let p = child_path(node.path, &k);
            let child = node.at(value, &p);
            match k.as_str() {
                "name" => n.name = Some(child.string()?),
                "external" => external = parse_external(child)?,
                "driver" => n.driver = Some(child.string()?),
                "driver_opts" => {
                    n.driver_opts = child.labels()?;
                }
                "ipam" => n.ipam = Some(ipam(child)?),
                "internal" => n.internal = child.bool()?,
                "attachable" => n.attachable = child.bool()?,
                "labels" => n.labels = child.labels()?,
                k if k.starts_with("x-") => {}
                _ => return Err(child.error("unknown option")),
            }
        }
        n.external = external.external;
        let name = n.name.take();
        n.name = resolve_name(node, cx, "network", key, external, name, 5)?;
        Ok(n)
    }
}
