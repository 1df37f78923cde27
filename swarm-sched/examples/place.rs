//! Using swarm-sched alone: a small cluster, a constrained and spread service, an
//! unschedulable one explained, then a rebalance plan after a node joins.
//!
//! ```text
//! cargo run -p swarm-mode-sched --example place
//! ```

use std::sync::Arc;
use swarm_sched::{
    Constraint, Delta, Engine, NodeSpec, PlacedTask, SpreadPreference, TaskGroup, TaskSpec,
};

const GIB: u64 = 1 << 30;

fn main() -> Result<(), swarm_sched::SchedError> {
    let mut engine = Engine::default();
    for (i, (zone, disk)) in [
        ("eu-1", "ssd"),
        ("eu-1", "hdd"),
        ("eu-2", "ssd"),
        ("eu-2", "ssd"),
    ]
    .iter()
    .enumerate()
    {
        let node = NodeSpec::new(format!("node{i}"), format!("host{i}"))
            .with_capacity(4.0, 16 * GIB)
            .with_label("zone", *zone)
            .with_label("disk", *disk);
        engine.apply(Delta::NodeAdded(node))?;
    }

    // A web service: 8 replicas on SSD nodes, spread over zones.
    let web = Arc::new(
        TaskSpec::default()
            .with_reservation(0.5, GIB)
            .with_constraint(Constraint::parse("node.labels.disk==ssd")?)
            .with_preference(SpreadPreference::parse("spread=node.labels.zone")?),
    );
    let group = TaskGroup {
        service: "web".into(),
        spec_version: 1,
        spec: web.clone(),
        tasks: (1..=8).map(|i| format!("web.{i}").into()).collect(),
    };
    let out = engine.schedule(group)?;
    for a in &out.assignments {
        println!("{} -> {}", a.task, a.node);
    }

    // A database that asks for more memory than any node has left.
    let db = TaskSpec::default().with_reservation(1.0, 15 * GIB);
    let group = TaskGroup {
        service: "db".into(),
        spec_version: 1,
        spec: Arc::new(db.clone()),
        tasks: vec!["db.1".into(), "db.2".into()],
    };
    let out = engine.schedule(group)?;
    if let Some(reason) = &out.reason {
        println!("{} unplaced: {reason}", out.unplaced.len());
    }
    for verdict in engine.explain(&"db".into(), &db)? {
        println!("  {verdict}");
    }

    // A node joins: plan moves that even out the web service again.
    engine.apply(Delta::NodeAdded(
        NodeSpec::new("node4", "host4")
            .with_capacity(4.0, 16 * GIB)
            .with_label("zone", "eu-1")
            .with_label("disk", "ssd"),
    ))?;
    for m in engine.plan_rebalance(&"web".into(), &web, 4)? {
        println!("move {} from {} to {}", m.task, m.from, m.to);
        // The orchestrator acts, then reports the new placement back.
        engine.apply(Delta::TaskRemoved(m.task.clone()))?;
        engine.apply(Delta::TaskPlaced(PlacedTask::new(
            m.task,
            "web",
            m.to,
            web.nano_cpus,
            web.memory_bytes,
        )))?;
    }
    Ok(())
}
