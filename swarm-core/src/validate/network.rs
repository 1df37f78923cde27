//! Rules for a network spec.

use crate::model::NetworkSpec;
use crate::validate::Validate;
use crate::validate::cidr::Cidr;
use crate::validate::error::{ObjectKind, Report, Rule, ValidationErrors};
use crate::validate::names::{check_dns_label_name, check_labels};
use std::net::IpAddr;

/// A label only networks the cluster creates itself may carry (as SwarmKit).
pub const PREDEFINED_NETWORK_LABEL: &str = "com.docker.swarm.predefined";

impl Validate for NetworkSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut r = Report::new(ObjectKind::Network, &self.name);
        check_dns_label_name(&mut r, "name", &self.name);
        check_labels(&mut r, "labels", &self.labels);
        if self.labels.contains_key(PREDEFINED_NETWORK_LABEL) {
            r.push(
                "labels",
                Rule::ReservedLabel {
                    key: PREDEFINED_NETWORK_LABEL.to_owned(),
                },
            );
        }
        if self.driver.is_empty() {
            r.push("driver", Rule::Empty);
        }
        check_labels(&mut r, "driver_options", &self.driver_options);
        if self.attachable && self.ingress {
            r.push("attachable", Rule::AttachableIngress);
        }
        if self.ipam.driver.is_empty() {
            r.push("ipam.driver", Rule::Empty);
        }
        let mut subnets: Vec<(usize, Cidr)> = Vec::new();
        for (i, pool) in self.ipam.configs.iter().enumerate() {
            let field = format!("ipam.configs[{i}]");
            let Some(subnet) = Cidr::parse(&pool.subnet) else {
                r.push(
                    format!("{field}.subnet"),
                    Rule::InvalidSubnet {
                        value: pool.subnet.clone(),
                    },
                );
                continue;
            };
            if let Some((first, _)) = subnets.iter().find(|(_, s)| s.overlaps(&subnet)) {
                r.push(
                    format!("{field}.subnet"),
                    Rule::OverlappingSubnet {
                        value: pool.subnet.clone(),
                        other: self.ipam.configs[*first].subnet.clone(),
                        first: *first,
                    },
                );
            }
            subnets.push((i, subnet));
            if let Some(range) = &pool.range {
                match Cidr::parse(range) {
                    None => r.push(
                        format!("{field}.range"),
                        Rule::InvalidSubnet {
                            value: range.clone(),
                        },
                    ),
                    Some(c) if !subnet.contains_subnet(&c) => r.push(
                        format!("{field}.range"),
                        Rule::NotInSubnet {
                            value: range.clone(),
                            subnet: pool.subnet.clone(),
                        },
                    ),
                    Some(_) => {}
                }
            }
            if let Some(gateway) = &pool.gateway {
                match gateway.parse::<IpAddr>() {
                    Err(_) => r.push(
                        format!("{field}.gateway"),
                        Rule::InvalidAddress {
                            value: gateway.clone(),
                        },
                    ),
                    Ok(ip) if !subnet.contains(ip) => r.push(
                        format!("{field}.gateway"),
                        Rule::NotInSubnet {
                            value: gateway.clone(),
                            subnet: pool.subnet.clone(),
                        },
                    ),
                    Ok(_) => {}
                }
            }
        }
        r.finish()
    }
}
