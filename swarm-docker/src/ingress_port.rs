//! [`IngressPort`]: one port a task's service publishes through the routing mesh, as the
//! task's container carries it in the label [`LABEL_INGRESS_PORTS`](crate::LABEL_INGRESS_PORTS).

use crate::error::DockerError;
use crate::labels::LABEL_INGRESS_PORTS;
use std::fmt;
use swarm_core::model::Protocol;

/// Most ports one label value is read for: a service publishing more is cut there (Docker
/// has no such limit; 256 ports of one service is far beyond any real one, and this bounds
/// what a label makes a reader allocate).
pub const MAX_INGRESS_PORTS: usize = 256;

/// One ingress-mode published port of a task's service: connections to `published_port` on
/// any node are for `target_port` of one of the service's tasks. Written as
/// `published:target/protocol` (`8080:80/tcp`); a container lists its task's ports in
/// [`LABEL_INGRESS_PORTS`](crate::LABEL_INGRESS_PORTS), comma-separated.
///
/// ```
/// use swarm_docker::IngressPort;
/// use swarm_core::model::Protocol;
///
/// let ports = IngressPort::parse_label("8080:80/tcp,5353:53/udp").unwrap();
/// assert_eq!(ports[0], IngressPort { published_port: 8080, target_port: 80, protocol: Protocol::Tcp });
/// assert_eq!(IngressPort::label_value(&ports), "8080:80/tcp,5353:53/udp");
/// assert!(IngressPort::parse_label("8080/tcp").is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IngressPort {
    /// The port every node publishes.
    pub published_port: u16,
    /// The task's port.
    pub target_port: u16,
    /// TCP, UDP or SCTP.
    pub protocol: Protocol,
}

impl IngressPort {
    /// The label value listing `ports`.
    pub fn label_value(ports: &[IngressPort]) -> String {
        ports
            .iter()
            .map(IngressPort::to_string)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Reads a label value (at most [`MAX_INGRESS_PORTS`] ports); an entry that is not
    /// `published:target/protocol` with ports from 1 to 65535 is refused with
    /// [`DockerError::BadLabel`] naming it.
    pub fn parse_label(value: &str) -> Result<Vec<IngressPort>, DockerError> {
        value
            .split(',')
            .filter(|entry| !entry.trim().is_empty())
            .take(MAX_INGRESS_PORTS)
            .map(|entry| {
                Self::parse_entry(entry.trim()).map_err(|reason| DockerError::BadLabel {
                    label: LABEL_INGRESS_PORTS,
                    entry: entry.to_owned(),
                    reason,
                })
            })
            .collect()
    }

    fn parse_entry(entry: &str) -> Result<IngressPort, String> {
        let (ports, protocol) = entry
            .split_once('/')
            .ok_or("no /protocol after the ports")?;
        let (published, target) = ports.split_once(':').ok_or("not published:target")?;
        let port = |what: &str, text: &str| match text.parse::<u16>() {
            Ok(0) | Err(_) => Err(format!("{what} port {text:?} is not 1 to 65535")),
            Ok(n) => Ok(n),
        };
        Ok(IngressPort {
            published_port: port("published", published)?,
            target_port: port("target", target)?,
            protocol: match protocol {
                "tcp" => Protocol::Tcp,
                "udp" => Protocol::Udp,
                "sctp" => Protocol::Sctp,
                other => return Err(format!("unknown protocol {other:?}")),
            },
        })
    }
}

impl fmt::Display for IngressPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}/{}",
            self.published_port, self.target_port, self.protocol
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_round_trip_and_bad_entries_are_named() {
        let ports = vec![
            IngressPort {
                published_port: 30000,
                target_port: 80,
                protocol: Protocol::Tcp,
            },
            IngressPort {
                published_port: 53,
                target_port: 5353,
                protocol: Protocol::Sctp,
            },
        ];
        let value = IngressPort::label_value(&ports);
        assert_eq!(value, "30000:80/tcp,53:5353/sctp");
        assert_eq!(IngressPort::parse_label(&value).unwrap(), ports);
        assert_eq!(IngressPort::parse_label("").unwrap(), []);
        for bad in [
            "80:0/tcp",
            "x:80/tcp",
            "70000:80/tcp",
            "8080:80/icmp",
            "8080:80",
        ] {
            let e = IngressPort::parse_label(&format!("1:1/tcp,{bad}")).unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
            assert!(!e.is_retryable());
        }
        let many = vec!["1:1/tcp"; MAX_INGRESS_PORTS + 5].join(",");
        assert_eq!(
            IngressPort::parse_label(&many).unwrap().len(),
            MAX_INGRESS_PORTS
        );
    }
}
