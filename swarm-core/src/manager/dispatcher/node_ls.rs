//! The `docker node ls` table, rendered from node records as the docker CLI prints it.

use crate::manager::cli_table::render_table;
use crate::model::{Node, NodeAvailability, NodeId, NodeState, Reachability};
use std::cmp::Ordering;

/// Renders `nodes` as `docker node ls` prints them: the columns ID (with ` *` for `self_id`),
/// HOSTNAME, STATUS, AVAILABILITY, MANAGER STATUS and ENGINE VERSION, rows sorted by hostname in
/// natural order (`node2` before `node10`; ties by id), every column but the last padded to its
/// widest cell plus 3 spaces and at least 10, each line ending in a newline.
///
/// As the CLI: the hostname is the reported one (not the spec's name), values are capitalised
/// (`Ready`, `Drain`, `Reachable`), a leader shows `Leader` and a worker an empty manager
/// status. Widths count characters (the CLI counts East Asian wide characters twice; hostnames
/// and versions are ASCII in practice).
///
/// ```
/// use swarm_core::manager::dispatcher::render_node_ls;
/// use swarm_core::model::{Node, NodeId};
///
/// let table = render_node_ls(&[Node { id: NodeId::new("abc"), ..Node::default() }], None);
/// assert_eq!(
///     table,
///     "ID        HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n\
///      abc                  Unknown   Active                          \n"
/// );
/// ```
pub fn render_node_ls(nodes: &[Node], self_id: Option<&NodeId>) -> String {
    let mut sorted: Vec<&Node> = nodes.iter().collect();
    sorted.sort_by(|a, b| natural_cmp(hostname(a), hostname(b)).then_with(|| a.id.cmp(&b.id)));

    let mut rows: Vec<Vec<String>> = Vec::with_capacity(sorted.len() + 1);
    rows.push(vec![
        "ID  ".to_owned(),
        "HOSTNAME".to_owned(),
        "STATUS".to_owned(),
        "AVAILABILITY".to_owned(),
        "MANAGER STATUS".to_owned(),
        "ENGINE VERSION".to_owned(),
    ]);
    for node in sorted {
        let self_mark = if Some(&node.id) == self_id { '*' } else { ' ' };
        rows.push(vec![
            format!("{} {self_mark}", node.id),
            hostname(node).to_owned(),
            state_label(node.status.state).to_owned(),
            availability_label(node.spec.availability).to_owned(),
            manager_status_label(node).to_owned(),
            node.description
                .as_ref()
                .map(|d| d.engine.engine_version.clone())
                .unwrap_or_default(),
        ]);
    }

    render_table(&rows)
}

fn hostname(node: &Node) -> &str {
    node.description
        .as_ref()
        .map_or("", |d| d.hostname.as_str())
}

fn state_label(state: NodeState) -> &'static str {
    match state {
        NodeState::Unknown => "Unknown",
        NodeState::Ready => "Ready",
        NodeState::Down => "Down",
        NodeState::Disconnected => "Disconnected",
    }
}

fn availability_label(availability: NodeAvailability) -> &'static str {
    match availability {
        NodeAvailability::Active => "Active",
        NodeAvailability::Pause => "Pause",
        NodeAvailability::Drain => "Drain",
    }
}

fn manager_status_label(node: &Node) -> &'static str {
    match &node.manager_status {
        None => "",
        Some(m) if m.leader => "Leader",
        Some(m) => match m.reachability {
            Reachability::Unknown => "Unknown",
            Reachability::Unreachable => "Unreachable",
            Reachability::Reachable => "Reachable",
        },
    }
}

/// Natural order, as the docker CLI sorts hostnames: runs of ASCII digits compare as numbers
/// (`node2` < `node10`; with equal values, fewer leading zeros first), other bytes compare as
/// bytes, digits sort before other bytes, and a prefix sorts first.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        let (da, db) = (a[i].is_ascii_digit(), b[j].is_ascii_digit());
        match (da, db) {
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            (false, false) => {
                if a[i] != b[j] {
                    return a[i].cmp(&b[j]);
                }
                i += 1;
                j += 1;
            }
            (true, true) => {
                let (start_a, start_b) = (i, j);
                while i < a.len() && a[i] == b'0' {
                    i += 1;
                }
                while j < b.len() && b[j] == b'0' {
                    j += 1;
                }
                let (value_a, value_b) = (i, j);
                while i < a.len() && a[i].is_ascii_digit() {
                    i += 1;
                }
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                let by_value = (i - value_a)
                    .cmp(&(j - value_b))
                    .then_with(|| a[value_a..i].cmp(&b[value_b..j]))
                    .then_with(|| (value_a - start_a).cmp(&(value_b - start_b)));
                if by_value != Ordering::Equal {
                    return by_value;
                }
            }
        }
    }
    (a.len() - i).cmp(&(b.len() - j))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        EngineDescription, ManagerStatus, NodeDescription, NodeRole, NodeSpec, NodeStatus,
    };

    fn node(
        id: &str,
        hostname: &str,
        state: NodeState,
        availability: NodeAvailability,
        manager: Option<(bool, Reachability)>,
    ) -> Node {
        Node {
            id: NodeId::new(id),
            spec: NodeSpec {
                availability,
                role: if manager.is_some() {
                    NodeRole::Manager
                } else {
                    NodeRole::Worker
                },
                ..NodeSpec::default()
            },
            description: Some(NodeDescription {
                hostname: hostname.into(),
                engine: EngineDescription {
                    engine_version: "28.3.2".into(),
                    ..EngineDescription::default()
                },
                ..NodeDescription::default()
            }),
            status: NodeStatus {
                state,
                ..NodeStatus::default()
            },
            manager_status: manager.map(|(leader, reachability)| ManagerStatus {
                leader,
                reachability,
                ..ManagerStatus::default()
            }),
            ..Node::default()
        }
    }

    #[test]
    fn renders_the_chapter_table_as_docker_prints_it() {
        use NodeAvailability::*;
        use NodeState::*;
        let nodes = vec![
            node("q9wh0kzmqjmj2ab5czuhxqgjq", "worker10", Down, Active, None),
            node("bbzmpq2ajzzjyx6nxnwpnlwtu", "worker2", Ready, Drain, None),
            node("x2w8vb8v8t1vrqnwpnb5t3xvv", "worker1", Ready, Pause, None),
            node(
                "sb4qbvkisdkqfw3wlqd3ddxzl",
                "manager2",
                Ready,
                Active,
                Some((false, Reachability::Reachable)),
            ),
            node(
                "e216jshn25ckzbvmwlnh5jr3g",
                "manager1",
                Ready,
                Active,
                Some((true, Reachability::Reachable)),
            ),
            node(
                "k2mbmr5ubnrpyl01rexw1ceyl",
                "manager3",
                Unknown,
                Active,
                Some((false, Reachability::Unreachable)),
            ),
        ];
        let expected = "\
ID                            HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION
e216jshn25ckzbvmwlnh5jr3g *   manager1   Ready     Active         Leader           28.3.2
sb4qbvkisdkqfw3wlqd3ddxzl     manager2   Ready     Active         Reachable        28.3.2
k2mbmr5ubnrpyl01rexw1ceyl     manager3   Unknown   Active         Unreachable      28.3.2
x2w8vb8v8t1vrqnwpnb5t3xvv     worker1    Ready     Pause                           28.3.2
bbzmpq2ajzzjyx6nxnwpnlwtu     worker2    Ready     Drain                           28.3.2
q9wh0kzmqjmj2ab5czuhxqgjq     worker10   Down      Active                          28.3.2
";
        assert_eq!(
            render_node_ls(&nodes, Some(&NodeId::new("e216jshn25ckzbvmwlnh5jr3g"))),
            expected
        );
    }

    #[test]
    fn columns_grow_with_their_widest_cell() {
        let mut n = node(
            "n1",
            "a-very-long-hostname",
            NodeState::Disconnected,
            NodeAvailability::Active,
            Some((false, Reachability::Unknown)),
        );
        if let Some(d) = n.description.as_mut() {
            d.engine.engine_version = "swarm 0.1.0".into();
        }
        let expected = "\
ID        HOSTNAME               STATUS         AVAILABILITY   MANAGER STATUS   ENGINE VERSION
n1        a-very-long-hostname   Disconnected   Active         Unknown          swarm 0.1.0
";
        assert_eq!(render_node_ls(&[n], None), expected);
    }

    #[test]
    fn an_empty_list_prints_the_header_only() {
        assert_eq!(
            render_node_ls(&[], None),
            "ID        HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION\n"
        );
    }

    #[test]
    fn natural_order_compares_numbers_by_value() {
        let mut names = vec![
            "node10", "node2", "node02", "node1", "node", "Node3", "a1b2", "a1b10", "1x", "",
        ];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(
            names,
            vec![
                "", "1x", "Node3", "a1b2", "a1b10", "node", "node1", "node2", "node02", "node10"
            ]
        );
        assert_eq!(natural_cmp("w7", "w7"), Ordering::Equal);
        assert_eq!(natural_cmp("w007x", "w7y"), Ordering::Greater);
    }
}
