//! Networks: `POST /networks/create` and the network resource of `GET /networks`.
//!
//! swarmd lists only the cluster's networks (scope `swarm`): it runs no local engine, so the
//! `bridge`, `host` and `none` networks dockerd also shows do not exist here.

use crate::docker::mapping_error::MappingError;
use crate::docker::time_text::rfc3339;
use crate::docker::unmodeled::require_default;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use swarm_core::model::{IpamConfig, IpamOptions, Network, NetworkSpec};

/// Docker's `NetworkCreateRequest`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerNetworkCreate {
    #[serde(default)]
    pub(crate) name: String,
    #[serde(default)]
    pub(crate) check_duplicate: Option<bool>,
    #[serde(default)]
    pub(crate) driver: String,
    #[serde(default)]
    pub(crate) scope: Option<Value>,
    #[serde(default)]
    pub(crate) internal: bool,
    #[serde(default)]
    pub(crate) attachable: bool,
    #[serde(default)]
    pub(crate) ingress: bool,
    #[serde(default, rename = "IPAM")]
    pub(crate) ipam: Option<DockerIpam>,
    #[serde(default, rename = "EnableIPv6")]
    pub(crate) enable_ipv6: Option<bool>,
    #[serde(default, rename = "EnableIPv4")]
    pub(crate) enable_ipv4: Option<Value>,
    #[serde(default)]
    pub(crate) options: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub(crate) config_only: Option<Value>,
    #[serde(default)]
    pub(crate) config_from: Option<Value>,
}

/// Docker's `IPAM`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerIpam {
    #[serde(default)]
    pub(crate) driver: String,
    #[serde(default)]
    pub(crate) config: Option<Vec<DockerIpamConfig>>,
    #[serde(default)]
    pub(crate) options: Option<Value>,
}

/// Docker's `IPAMConfig`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct DockerIpamConfig {
    #[serde(default)]
    pub(crate) subnet: String,
    #[serde(default, rename = "IPRange")]
    pub(crate) ip_range: String,
    #[serde(default)]
    pub(crate) gateway: String,
    #[serde(default)]
    pub(crate) aux_address: Option<Value>,
}

/// The model's network spec from Docker's create request.
pub(crate) fn spec_from_docker(d: DockerNetworkCreate) -> Result<NetworkSpec, MappingError> {
    // `CheckDuplicate` needs nothing: names are unique in the cluster anyway.
    let _ = d.check_duplicate;
    require_default("Scope", d.scope.as_ref(), &["swarm"])?;
    require_default("ConfigOnly", d.config_only.as_ref(), &[])?;
    require_default("ConfigFrom", d.config_from.as_ref(), &[])?;
    if let Some(v) = &d.enable_ipv4 {
        if v.as_bool() == Some(false) {
            return Err(MappingError::Unsupported {
                field: "EnableIPv4".into(),
                value: v.to_string(),
            });
        }
    }
    let mut ipam = IpamOptions::default();
    if let Some(i) = &d.ipam {
        require_default("IPAM.Options", i.options.as_ref(), &[])?;
        if !i.driver.is_empty() {
            ipam.driver = i.driver.clone();
        }
        for (n, c) in i.config.iter().flatten().enumerate() {
            require_default(
                &format!("IPAM.Config[{n}].AuxAddress"),
                c.aux_address.as_ref(),
                &[],
            )?;
            ipam.configs.push(IpamConfig {
                subnet: c.subnet.clone(),
                range: (!c.ip_range.is_empty()).then(|| c.ip_range.clone()),
                gateway: (!c.gateway.is_empty()).then(|| c.gateway.clone()),
            });
        }
    }
    let mut spec = NetworkSpec::new(d.name);
    if !d.driver.is_empty() {
        spec.driver = d.driver;
    }
    spec.labels = d.labels.unwrap_or_default();
    spec.driver_options = d.options.unwrap_or_default();
    spec.ipam = ipam;
    spec.attachable = d.attachable;
    spec.internal = d.internal;
    spec.ingress = d.ingress;
    spec.ipv6_enabled = d.enable_ipv6.unwrap_or(false);
    Ok(spec)
}

/// A network as `GET /networks` answers (Docker's `NetworkResource`).
pub(crate) fn to_docker(n: &Network) -> Value {
    let configs: &[IpamConfig] = if n.allocated_ipam.is_empty() {
        &n.spec.ipam.configs
    } else {
        &n.allocated_ipam
    };
    let config: Vec<Value> = configs
        .iter()
        .map(|c| {
            let mut v = json!({ "Subnet": c.subnet });
            if let Some(g) = &c.gateway {
                v["Gateway"] = g.clone().into();
            }
            if let Some(r) = &c.range {
                v["IPRange"] = r.clone().into();
            }
            v
        })
        .collect();
    json!({
        "Name": n.spec.name,
        "Id": n.id.as_str(),
        "Created": rfc3339(n.meta.created_at),
        "Scope": "swarm",
        "Driver": n.spec.driver,
        "EnableIPv6": n.spec.ipv6_enabled,
        "IPAM": { "Driver": n.spec.ipam.driver, "Options": null, "Config": config },
        "Internal": n.spec.internal,
        "Attachable": n.spec.attachable,
        "Ingress": n.spec.ingress,
        "ConfigFrom": { "Network": "" },
        "ConfigOnly": false,
        "Containers": null,
        "Options": n.spec.driver_options,
        "Labels": n.spec.labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_create_body_maps() {
        // fixtures docker-28.2/06-network-create.http
        let d: DockerNetworkCreate = serde_json::from_str(
            r#"{"Driver":"overlay","Scope":"","IPAM":{"Driver":"default","Options":{},"Config":[]},"Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,"Options":{},"Labels":{},"Name":"nd-test","CheckDuplicate":true}"#,
        )
        .unwrap();
        let spec = spec_from_docker(d).unwrap();
        assert_eq!(spec, NetworkSpec::new("nd-test"));
    }

    #[test]
    fn resource_has_the_fields_network_ls_reads() {
        let mut n = Network {
            id: "v7yxdaqzpg7p".into(),
            spec: NetworkSpec::new("nd-test"),
            ..Network::default()
        };
        n.allocated_ipam.push(IpamConfig {
            subnet: "10.0.1.0/24".into(),
            range: None,
            gateway: Some("10.0.1.1".into()),
        });
        let v = to_docker(&n);
        assert_eq!(v["Id"], "v7yxdaqzpg7p");
        assert_eq!(v["Name"], "nd-test");
        assert_eq!(v["Driver"], "overlay");
        assert_eq!(v["Scope"], "swarm");
        assert_eq!(v["IPAM"]["Config"][0]["Subnet"], "10.0.1.0/24");
    }
}
