//! The `docker service ls` and `docker service ps` tables, rendered from services, tasks and
//! nodes as the docker CLI prints them.

use crate::manager::cli_table::render_table;
use crate::model::{Node, NodeId, PortConfig, Service, ServiceId, ServiceMode, Task, TaskState};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// Characters of an id the CLI shows in its tables (`--no-trunc` shows all).
pub const SHORT_ID_CHARS: usize = 12;

/// Renders `services` as `docker service ls` prints them: ID, NAME, MODE, REPLICAS, IMAGE and
/// PORTS, sorted by name. REPLICAS counts the tasks of `tasks` that run and are meant to
/// (`running/desired`; a job adds `(completed/total completed)`), PORTS the published ports
/// the cluster allocated (`*:8080->80/tcp`).
///
/// ```
/// use swarm_core::manager::control::render_service_ls;
/// use swarm_core::model::{Service, ServiceSpec};
///
/// let service = Service {
///     id: "8kd2fz0lsgx0c1tqdbfvfjq3h".into(),
///     spec: ServiceSpec::new("web", "nginx:alpine"),
///     ..Service::default()
/// };
/// assert_eq!(
///     render_service_ls(&[service], &[]),
///     "ID             NAME      MODE         REPLICAS   IMAGE          PORTS\n\
///      8kd2fz0lsgx0   web       replicated   0/1        nginx:alpine   \n"
/// );
/// ```
pub fn render_service_ls(services: &[Service], tasks: &[Task]) -> String {
    let mut by_service: BTreeMap<&ServiceId, Vec<&Task>> = BTreeMap::new();
    for task in tasks {
        by_service.entry(&task.service_id).or_default().push(task);
    }
    let mut sorted: Vec<&Service> = services.iter().collect();
    sorted.sort_by(|a, b| a.spec.name.cmp(&b.spec.name).then_with(|| a.id.cmp(&b.id)));
    let mut rows = vec![
        ["ID", "NAME", "MODE", "REPLICAS", "IMAGE", "PORTS"]
            .map(str::to_owned)
            .to_vec(),
    ];
    for service in sorted {
        let tasks = by_service.get(&service.id).map_or(&[][..], Vec::as_slice);
        rows.push(vec![
            short_id(service.id.as_str()),
            service.spec.name.clone(),
            mode_label(&service.spec.mode).to_owned(),
            replicas(service, tasks),
            service.spec.task_template.container.image.clone(),
            ports(service),
        ]);
    }
    render_table(&rows)
}

/// Renders `tasks` as `docker service ps` prints them: ID, NAME, IMAGE, NODE, DESIRED STATE,
/// CURRENT STATE, ERROR and PORTS. Rows are grouped by service (by name) and slot (global
/// services: by node), newest first; older tasks of a slot are shown as ` \_ name.slot`, as
/// the CLI shows a slot's history. NODE is the node's hostname, CURRENT STATE the state and
/// how long ago it was reached (`Running 5 seconds ago`, `Running about a minute ago`), ERROR
/// the task's error in quotes.
pub fn render_service_ps(
    services: &[Service],
    tasks: &[Task],
    nodes: &[Node],
    now: SystemTime,
) -> String {
    let names: BTreeMap<&ServiceId, &str> = services
        .iter()
        .map(|s| (&s.id, s.spec.name.as_str()))
        .collect();
    let hostnames: BTreeMap<&NodeId, &str> = nodes
        .iter()
        .map(|n| {
            let hostname = n
                .description
                .as_ref()
                .map_or(n.id.as_str(), |d| d.hostname.as_str());
            (&n.id, hostname)
        })
        .collect();
    // (service name, slot or node, newest first)
    let mut sorted: Vec<(&str, String, &Task)> = tasks
        .iter()
        .map(|t| {
            let service = names.get(&t.service_id).copied().unwrap_or("");
            let slot = match (t.slot, &t.node_id) {
                (Some(slot), _) => format!("{slot:020}"),
                (None, Some(node)) => node.to_string(),
                (None, None) => String::new(),
            };
            (service, slot, t)
        })
        .collect();
    sorted.sort_by(|a, b| {
        (a.0, &a.1)
            .cmp(&(b.0, &b.1))
            .then_with(|| b.2.meta.created_at.cmp(&a.2.meta.created_at))
            .then_with(|| a.2.id.cmp(&b.2.id))
    });
    let mut rows = vec![
        [
            "ID",
            "NAME",
            "IMAGE",
            "NODE",
            "DESIRED STATE",
            "CURRENT STATE",
            "ERROR",
            "PORTS",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    let mut previous: Option<(&str, &str)> = None;
    for (service, slot, task) in &sorted {
        let name = match (task.slot, &task.node_id) {
            (Some(n), _) => format!("{service}.{n}"),
            (None, Some(node)) => format!("{service}.{node}"),
            (None, None) => (*service).to_owned(),
        };
        let history = previous == Some((service, slot.as_str()));
        previous = Some((service, slot.as_str()));
        rows.push(vec![
            short_id(task.id.as_str()),
            if history {
                format!(" \\_ {name}")
            } else {
                name
            },
            task.spec.container.image.clone(),
            task.node_id
                .as_ref()
                .map(|n| hostnames.get(n).copied().unwrap_or(n.as_str()).to_owned())
                .unwrap_or_default(),
            capitalized(task.desired_state),
            format!(
                "{} {} ago",
                capitalized(task.status.state),
                // The CLI lower-cases go-units' words: "Running about a minute ago".
                human_duration(
                    now.duration_since(task.status.timestamp)
                        .unwrap_or_default()
                )
                .to_lowercase()
            ),
            task.status
                .err
                .as_ref()
                .map(|e| format!("\"{e}\""))
                .unwrap_or_default(),
            String::new(),
        ]);
    }
    render_table(&rows)
}

fn short_id(id: &str) -> String {
    id.chars().take(SHORT_ID_CHARS).collect()
}

fn mode_label(mode: &ServiceMode) -> &'static str {
    match mode {
        ServiceMode::Replicated { .. } => "replicated",
        ServiceMode::Global => "global",
        ServiceMode::ReplicatedJob { .. } => "replicated job",
        ServiceMode::GlobalJob => "global job",
    }
}

fn replicas(service: &Service, tasks: &[&Task]) -> String {
    let running = tasks
        .iter()
        .filter(|t| t.status.state == TaskState::Running && t.desired_state <= TaskState::Running)
        .count();
    let iteration = service.job_status.as_ref().map(|j| j.job_iteration);
    let completed = tasks
        .iter()
        .filter(|t| t.status.state == TaskState::Complete && t.job_iteration == iteration)
        .count();
    match service.spec.mode {
        ServiceMode::Replicated { replicas } => format!("{running}/{replicas}"),
        ServiceMode::Global => {
            let desired = tasks
                .iter()
                .filter(|t| t.desired_state == TaskState::Running)
                .count();
            format!("{running}/{desired}")
        }
        ServiceMode::ReplicatedJob {
            max_concurrent,
            total_completions,
        } => {
            let left = total_completions.saturating_sub(completed as u64);
            format!(
                "{running}/{} ({completed}/{total_completions} completed)",
                max_concurrent.min(left)
            )
        }
        ServiceMode::GlobalJob => {
            let desired = tasks
                .iter()
                .filter(|t| t.job_iteration == iteration)
                .count();
            format!("{running}/{desired} ({completed}/{desired} completed)")
        }
    }
}

fn ports(service: &Service) -> String {
    let ports: &[PortConfig] = service
        .endpoint
        .as_ref()
        .map_or(&[][..], |e| e.ports.as_slice());
    ports
        .iter()
        .map(|p| format!("*:{}->{}/{}", p.published_port, p.target_port, p.protocol))
        .collect::<Vec<_>>()
        .join(", ")
}

fn capitalized(state: TaskState) -> String {
    let s = state.as_str();
    let mut chars = s.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A duration as the docker CLI words it (go-units `HumanDuration`).
fn human_duration(d: Duration) -> String {
    let seconds = d.as_secs();
    let minutes = seconds / 60;
    let hours = minutes / 60;
    match () {
        () if seconds < 1 => "Less than a second".to_owned(),
        () if seconds == 1 => "1 second".to_owned(),
        () if seconds < 60 => format!("{seconds} seconds"),
        () if minutes == 1 => "About a minute".to_owned(),
        () if minutes < 60 => format!("{minutes} minutes"),
        () if (minutes as f64 / 60.0).round() as u64 == 1 => "About an hour".to_owned(),
        () if hours < 48 => format!("{hours} hours"),
        () if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        () if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        () if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        () => format!("{} years", hours / 24 / 365),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        Endpoint, NodeDescription, Protocol, PublishMode, ServiceSpec, TaskSpec, TaskStatus,
    };

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    fn task(id: &str, slot: u64, node: &str, state: TaskState, desired: TaskState, t: u64) -> Task {
        let mut spec = TaskSpec::default();
        spec.container.image = "nginx".into();
        let mut task = Task::new(id.into(), "s1".into(), spec, at(t));
        task.slot = Some(slot);
        task.node_id = Some(node.into());
        task.status = TaskStatus::new(state, at(t), "");
        task.desired_state = desired;
        task
    }

    fn web() -> Service {
        let mut service = Service {
            id: "s1".into(),
            spec: ServiceSpec::new("web", "nginx"),
            ..Service::default()
        };
        service.spec.mode = ServiceMode::Replicated { replicas: 2 };
        service.endpoint = Some(Endpoint {
            ports: vec![PortConfig {
                protocol: Protocol::Tcp,
                target_port: 80,
                published_port: 8080,
                publish_mode: PublishMode::Ingress,
                ..PortConfig::default()
            }],
            ..Endpoint::default()
        });
        service
    }

    #[test]
    fn service_ls_counts_running_tasks_and_shows_ports() {
        let tasks = [
            task("t1", 1, "n1", TaskState::Running, TaskState::Running, 0),
            task("t2", 2, "n2", TaskState::Starting, TaskState::Running, 0),
            task("t0", 1, "n1", TaskState::Running, TaskState::Shutdown, 0),
        ];
        let table = render_service_ls(&[web()], &tasks);
        assert_eq!(
            table,
            "ID        NAME      MODE         REPLICAS   IMAGE     PORTS\n\
             s1        web       replicated   1/2        nginx     *:8080->80/tcp\n"
        );
    }

    #[test]
    fn service_ps_shows_a_slots_history_under_its_newest_task() {
        let tasks = [
            task("old1", 1, "n1", TaskState::Failed, TaskState::Shutdown, 10),
            task("new1", 1, "n2", TaskState::Running, TaskState::Running, 20),
            task("t2", 2, "n1", TaskState::Running, TaskState::Running, 15),
        ];
        let mut old = tasks[0].clone();
        old.status.err = Some("exit 1".into());
        let tasks = [old, tasks[1].clone(), tasks[2].clone()];
        let nodes = [
            Node {
                id: "n1".into(),
                description: Some(NodeDescription {
                    hostname: "worker-1".into(),
                    ..NodeDescription::default()
                }),
                ..Node::default()
            },
            Node {
                id: "n2".into(),
                ..Node::default()
            },
        ];
        let table = render_service_ps(&[web()], &tasks, &nodes, at(25));
        let lines: Vec<&str> = table.lines().collect();
        assert!(lines[0].starts_with("ID        NAME"), "{table}");
        assert!(
            lines[1].starts_with("new1      web.1       nginx     n2  "),
            "{table}"
        );
        assert!(lines[1].contains("Running 5 seconds ago"), "{table}");
        assert!(lines[2].starts_with("old1       \\_ web.1  "), "{table}");
        assert!(
            lines[2].contains("Shutdown        Failed 15 seconds ago"),
            "{table}"
        );
        assert!(lines[2].contains("\"exit 1\""), "{table}");
        assert!(
            lines[3].starts_with("t2        web.2       nginx     worker-1"),
            "{table}"
        );
    }

    #[test]
    fn durations_are_worded_as_the_cli_words_them() {
        let words = |s| human_duration(Duration::from_secs(s));
        assert_eq!(words(0), "Less than a second");
        assert_eq!(words(1), "1 second");
        assert_eq!(words(59), "59 seconds");
        assert_eq!(words(60), "About a minute");
        assert_eq!(words(300), "5 minutes");
        assert_eq!(words(3600), "About an hour");
        assert_eq!(words(3 * 3600), "3 hours");
        assert_eq!(words(3 * 86400), "3 days");
    }
}
