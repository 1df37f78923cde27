//! `ports:` in short syntax (`"8080:80"`, `"80"`, `"8080:80/udp"`, ranges, an ignored host IP)
//! and long syntax (`target`, `published`, `protocol`, `mode`), read into the model's
//! [`PortConfig`], and merged across files.

use crate::model::{PortConfig, Protocol, PublishMode};
use crate::stack::compose::file_parse::FileParse;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path, item_path};
use serde_norway::Value;

/// Reads `80` or `80-90` (docker's `nat.ParsePortRange`).
fn port_range(text: &str) -> Option<(u32, u32)> {
    let one = |s: &str| -> Option<u32> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse::<u16>().ok().map(u32::from)
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (start, end) = (one(a)?, one(b)?);
            (start <= end).then_some((start, end))
        }
        None => one(text).map(|p| (p, p)),
    }
}

fn protocol(text: &str) -> Option<Protocol> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Some(Protocol::Tcp),
        "udp" => Some(Protocol::Udp),
        "sctp" => Some(Protocol::Sctp),
        _ => None,
    }
}

/// Whether a host IP is one a swarm can honour (none, or "any address").
fn is_unspecified_ip(ip: &str) -> bool {
    matches!(ip, "" | "0.0.0.0" | "::" | "[::]")
}

/// One short-syntax entry, `[ip:][published:]target[/protocol]`, as docker's
/// `nat.ParsePortSpec` and `ConvertPortToPortConfig`: equal-length ranges pair up, one target
/// with a published range publishes each port of the range to it. Returns the ports and, for a
/// host IP other than "any", docker's warning that it is ignored.
pub(crate) fn parse_port_spec(spec: &str) -> Result<(Vec<PortConfig>, Option<String>), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (ip, published, target_proto) = match parts.as_slice() {
        [t] => (String::new(), "", *t),
        [p, t] => (String::new(), *p, *t),
        [ip, p, t] => ((*ip).to_owned(), *p, *t),
        [ip_parts @ .., p, t] => (ip_parts.join(":"), *p, *t),
        [] => (String::new(), "", ""),
    };
    let (target, proto) = match target_proto.split_once('/') {
        Some((t, "")) => (t, "tcp"),
        Some((t, p)) => (t, p),
        None => (target_proto, "tcp"),
    };
    if target.is_empty() {
        return Err(format!("no port specified: {spec}<empty>"));
    }
    let (start, end) =
        port_range(target).ok_or_else(|| format!("invalid containerPort: {target}"))?;
    let published_range = if published.is_empty() {
        None
    } else {
        Some(port_range(published).ok_or_else(|| format!("invalid hostPort: {published}"))?)
    };
    if let Some((ps, pe)) = published_range {
        if end - start != pe - ps && end != start {
            return Err(format!(
                "invalid ranges specified for container and host Ports: {target} and {published}"
            ));
        }
    }
    let protocol = protocol(proto).ok_or_else(|| format!("invalid proto: {proto}"))?;
    let port = |target_port, published_port| PortConfig {
        name: String::new(),
        protocol,
        target_port,
        published_port,
        publish_mode: PublishMode::Ingress,
    };
    let mut ports = Vec::new();
    match published_range {
        // One target, a published range: every published port leads to the target.
        Some((ps, pe)) if start == end && ps != pe => {
            ports.extend((ps..=pe).map(|p| port(start, p)))
        }
        Some((ps, _)) => ports.extend((start..=end).map(|t| port(t, ps + (t - start)))),
        None => ports.extend((start..=end).map(|t| port(t, 0))),
    }
    let warning = (!is_unspecified_ip(&ip)).then(|| {
        format!("ignoring IP-address ({ip}:{published}:{target}/{protocol}) service will listen on '0.0.0.0'")
    });
    Ok((ports, warning))
}

/// One long-syntax entry.
fn long_port(node: Node<'_>) -> Result<PortConfig, StackError> {
    let mut port = PortConfig::default();
    for (key, value) in node.entries(false)? {
        let p = child_path(node.path, &key);
        let child = node.at(value, &p);
        let as_port = |n: Node<'_>| -> Result<u32, StackError> {
            let v = n.u64()?;
            u32::try_from(v)
                .ok()
                .filter(|v| *v <= 65535)
                .ok_or_else(|| n.error(format!("port {v} is out of range (0 to 65535)")))
        };
        match key.as_str() {
            "target" => port.target_port = as_port(child)?,
            "published" => port.published_port = as_port(child)?,
            "protocol" => {
                let text = child.string()?;
                port.protocol =
                    protocol(&text).ok_or_else(|| child.error(format!("invalid proto: {text}")))?;
            }
            "mode" => {
                port.publish_mode = match child.string()?.as_str() {
                    "ingress" => PublishMode::Ingress,
                    "host" => PublishMode::Host,
                    other => {
                        return Err(child
                            .error(format!("invalid publish mode {other:?} (ingress or host)")));
                    }
                }
            }
            _ => return Err(child.error("unknown option")),
        }
    }
    Ok(port)
}

/// Reads a service's `ports:` list.
pub(crate) fn parse_ports(
    node: Node<'_>,
    cx: &mut FileParse<'_>,
) -> Result<Vec<PortConfig>, StackError> {
    let mut ports = Vec::new();
    for (i, item) in node.items()?.iter().enumerate() {
        let p = item_path(node.path, i);
        let child = node.at(item, &p);
        match item {
            Value::Mapping(_) => ports.push(long_port(child)?),
            Value::String(_) | Value::Number(_) => {
                let spec = child.string()?;
                let (mut got, warning) = parse_port_spec(&spec)
                    .map_err(|why| child.error(format!("invalid port {spec:?}: {why}")))?;
                ports.append(&mut got);
                cx.notes.warnings.extend(warning);
            }
            _ => return Err(child.type_error("a port string or a mapping")),
        }
    }
    Ok(ports)
}

/// Merges a later file's ports into a service's, as docker's loader: a later port replaces an
/// earlier one published on the same port. Unlike docker (which keys every port by its
/// published port and so keeps only one of several unpublished ports), unpublished ports are
/// kept apart by target and protocol. Sorted by published port, then target.
pub(crate) fn merge_ports(base: &mut Vec<PortConfig>, later: Vec<PortConfig>) {
    for port in later {
        let same = |p: &PortConfig| {
            if port.published_port != 0 {
                p.published_port == port.published_port
            } else {
                p.published_port == 0
                    && p.target_port == port.target_port
                    && p.protocol == port.protocol
            }
        };
        base.retain(|p| !same(p));
        base.push(port);
    }
    base.sort_by_key(|p| (p.published_port, p.target_port, p.protocol));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(target: u32, published: u32, protocol: Protocol) -> PortConfig {
        PortConfig {
            name: String::new(),
            protocol,
            target_port: target,
            published_port: published,
            publish_mode: PublishMode::Ingress,
        }
    }

    #[test]
    fn reads_short_syntax_as_docker() {
        let ok = |s| parse_port_spec(s).map(|(ports, _)| ports);
        assert_eq!(ok("8080:80"), Ok(vec![p(80, 8080, Protocol::Tcp)]));
        assert_eq!(ok("80"), Ok(vec![p(80, 0, Protocol::Tcp)]));
        assert_eq!(ok("8080:80/udp"), Ok(vec![p(80, 8080, Protocol::Udp)]));
        assert_eq!(
            ok("9090-9091:8080-8081"),
            Ok(vec![
                p(8080, 9090, Protocol::Tcp),
                p(8081, 9091, Protocol::Tcp)
            ])
        );
        assert_eq!(
            ok("3000-3001"),
            Ok(vec![p(3000, 0, Protocol::Tcp), p(3001, 0, Protocol::Tcp)])
        );
        assert_eq!(
            ok("8000-8001:80"),
            Ok(vec![p(80, 8000, Protocol::Tcp), p(80, 8001, Protocol::Tcp)])
        );
        let (ports, warning) = parse_port_spec("127.0.0.1:5000:5000").unwrap_or_default();
        assert_eq!(ports, vec![p(5000, 5000, Protocol::Tcp)]);
        assert_eq!(
            warning.as_deref(),
            Some("ignoring IP-address (127.0.0.1:5000:5000/tcp) service will listen on '0.0.0.0'")
        );
        assert_eq!(parse_port_spec("0.0.0.0:80:80").map(|(_, w)| w), Ok(None));
        assert_eq!(ok("80:abc"), Err("invalid containerPort: abc".to_owned()));
        assert_eq!(ok("x:80"), Err("invalid hostPort: x".to_owned()));
        assert_eq!(ok("80/xyz"), Err("invalid proto: xyz".to_owned()));
        assert_eq!(ok("70000"), Err("invalid containerPort: 70000".to_owned()));
        assert_eq!(
            ok("1-3:1-2"),
            Err("invalid ranges specified for container and host Ports: 1-2 and 1-3".to_owned())
        );
    }

    #[test]
    fn later_ports_replace_those_published_on_the_same_port() {
        let mut base = vec![
            p(80, 8080, Protocol::Tcp),
            p(443, 0, Protocol::Tcp),
            p(53, 0, Protocol::Udp),
        ];
        merge_ports(
            &mut base,
            vec![
                p(8000, 8080, Protocol::Tcp),
                p(9000, 0, Protocol::Tcp),
                p(53, 0, Protocol::Udp),
            ],
        );
        assert_eq!(
            base,
            vec![
                p(53, 0, Protocol::Udp),
                p(443, 0, Protocol::Tcp),
                p(9000, 0, Protocol::Tcp),
                p(8000, 8080, Protocol::Tcp)
            ]
        );
    }
}
