//! Sans-IO: the published ports of a task (its service's endpoint, `Task::endpoint`) as the
//! container's exposed ports, its host port bindings (host mode: the engine publishes the
//! port on the node, as dockerd does for a swarm task) and the [`LABEL_INGRESS_PORTS`] label
//! (ingress mode: the adapter runs no routing mesh, the label tells the node's mesh which
//! containers serve which published port).

use crate::error::DockerError;
use crate::ingress_port::IngressPort;
use crate::labels::LABEL_INGRESS_PORTS;
use bollard::models::{PortBinding, PortMap};
use swarm_core::model::{PublishMode, Task};

/// What a task's published ports add to its container.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct PublishedPorts {
    /// `target/protocol` of every published port (`80/tcp`), in endpoint order, once each.
    pub(crate) exposed: Vec<String>,
    /// The host-mode ports: `target/protocol` to the host port (empty: the engine picks one,
    /// for a port published as 0).
    pub(crate) bindings: PortMap,
    /// The value of [`LABEL_INGRESS_PORTS`], when the service publishes through the mesh.
    pub(crate) ingress_label: Option<(String, String)>,
}

fn port_number(field: String, value: u32, allow_zero: bool) -> Result<u16, DockerError> {
    match u16::try_from(value) {
        Ok(0) if !allow_zero => Err(DockerError::InvalidSpec {
            field,
            reason: "0 is not a port".into(),
        }),
        Ok(n) => Ok(n),
        Err(_) => Err(DockerError::InvalidSpec {
            field,
            reason: format!("{value} is not a port (1 to 65535)"),
        }),
    }
}

/// The ports of `task`'s endpoint; nothing for a task without one.
pub(crate) fn published_ports(task: &Task) -> Result<PublishedPorts, DockerError> {
    let mut out = PublishedPorts::default();
    let Some(endpoint) = &task.endpoint else {
        return Ok(out);
    };
    let mut ingress = Vec::new();
    for (i, p) in endpoint.ports.iter().enumerate() {
        let field = |name: &str| format!("endpoint.ports[{i}].{name}");
        let target = port_number(field("target_port"), p.target_port, false)?;
        let published = port_number(field("published_port"), p.published_port, true)?;
        let key = format!("{target}/{}", p.protocol);
        if !out.exposed.contains(&key) {
            out.exposed.push(key.clone());
        }
        match p.publish_mode {
            PublishMode::Host => {
                let binding = PortBinding {
                    host_ip: None,
                    host_port: Some(if published == 0 {
                        String::new()
                    } else {
                        published.to_string()
                    }),
                };
                out.bindings
                    .entry(key)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(binding);
            }
            // The allocator gives every ingress port a number; one without is not routed.
            PublishMode::Ingress if published == 0 => {}
            PublishMode::Ingress => ingress.push(IngressPort {
                published_port: published,
                target_port: target,
                protocol: p.protocol,
            }),
        }
    }
    if !ingress.is_empty() {
        out.ingress_label = Some((
            LABEL_INGRESS_PORTS.to_owned(),
            IngressPort::label_value(&ingress),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;
    use swarm_core::model::{Endpoint, PortConfig, Protocol};

    fn task(ports: Vec<PortConfig>) -> Task {
        let mut t = Task::new(
            "t1".into(),
            "s1".into(),
            Default::default(),
            SystemTime::now(),
        );
        t.endpoint = Some(Endpoint {
            ports,
            ..Endpoint::default()
        });
        t
    }

    fn port(target: u32, published: u32, mode: PublishMode, protocol: Protocol) -> PortConfig {
        PortConfig {
            target_port: target,
            published_port: published,
            publish_mode: mode,
            protocol,
            ..PortConfig::default()
        }
    }

    #[test]
    fn host_ports_are_bound_and_ingress_ports_labelled() {
        let t = task(vec![
            port(80, 8081, PublishMode::Host, Protocol::Tcp),
            port(80, 0, PublishMode::Host, Protocol::Tcp),
            port(53, 5353, PublishMode::Host, Protocol::Udp),
            port(80, 8080, PublishMode::Ingress, Protocol::Tcp),
            port(443, 30000, PublishMode::Ingress, Protocol::Tcp),
        ]);
        let p = published_ports(&t).unwrap();
        assert_eq!(p.exposed, ["80/tcp", "53/udp", "443/tcp"]);
        let host_ports = |key: &str| -> Vec<String> {
            p.bindings[key]
                .iter()
                .flatten()
                .map(|b| b.host_port.clone().unwrap_or_default())
                .collect()
        };
        assert_eq!(host_ports("80/tcp"), ["8081", ""]);
        assert_eq!(host_ports("53/udp"), ["5353"]);
        assert_eq!(p.bindings.len(), 2);
        assert_eq!(
            p.ingress_label,
            Some((
                LABEL_INGRESS_PORTS.to_owned(),
                "8080:80/tcp,30000:443/tcp".to_owned()
            ))
        );
    }

    #[test]
    fn no_endpoint_no_ports_and_bad_numbers_are_named() {
        let mut t = task(Vec::new());
        t.endpoint = None;
        assert_eq!(published_ports(&t).unwrap(), PublishedPorts::default());
        let t = task(vec![port(0, 80, PublishMode::Host, Protocol::Tcp)]);
        let e = published_ports(&t).unwrap_err();
        assert!(
            e.to_string().contains("endpoint.ports[0].target_port"),
            "{e}"
        );
        let t = task(vec![
            port(80, 80, PublishMode::Host, Protocol::Tcp),
            port(80, 70_000, PublishMode::Ingress, Protocol::Tcp),
        ]);
        let e = published_ports(&t).unwrap_err();
        assert!(
            e.to_string().contains("endpoint.ports[1].published_port"),
            "{e}"
        );
    }
}
