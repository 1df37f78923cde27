//! Rules for a service's endpoint: resolution mode and ports.

use crate::model::{EndpointSpec, PublishMode, ResolutionMode};
use crate::validate::error::{Report, Rule};
use crate::validate::quantity::Quantity;

/// Highest TCP/UDP/SCTP port number.
pub const MAX_PORT: u32 = 65535;

pub(crate) fn check_endpoint(r: &mut Report, path: &str, ep: &EndpointSpec) {
    for (i, port) in ep.ports.iter().enumerate() {
        let field = format!("{path}.ports[{i}]");
        if port.target_port == 0 || port.target_port > MAX_PORT {
            r.push(
                format!("{field}.target_port"),
                Rule::OutOfRange {
                    value: Quantity::Port(port.target_port),
                    minimum: Quantity::Port(1),
                    maximum: Quantity::Port(MAX_PORT),
                },
            );
        }
        if port.published_port > MAX_PORT {
            r.push(
                format!("{field}.published_port"),
                Rule::AboveMaximum {
                    value: Quantity::Port(port.published_port),
                    maximum: Quantity::Port(MAX_PORT),
                },
            );
        }
        if ep.mode == ResolutionMode::Dnsrr && port.publish_mode == PublishMode::Ingress {
            r.push(format!("{field}.publish_mode"), Rule::IngressWithDnsrr);
        }
        // Port 0 asks the cluster to pick one: it never conflicts.
        if port.published_port != 0 {
            if let Some(first) = ep.ports[..i].iter().position(|e| {
                e.published_port == port.published_port && e.protocol == port.protocol
            }) {
                r.push(
                    format!("{field}.published_port"),
                    Rule::DuplicatePublishedPort {
                        port: port.published_port,
                        protocol: port.protocol.to_string(),
                        first,
                    },
                );
            }
        }
    }
}
