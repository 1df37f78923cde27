//! A whole cluster in the test's process on the in-process network: managers and workers
//! with the mock runtime, each task running until stopped.

use super::{all_ready, config, eventually};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use swarm_core::model::NodeRole;
use swarm_core::node::{InProcNodes, Node, NodeConfig, NodeNetwork};
use swarm_core::runtime::mock::{MockRuntime, MockScript};
use swarm_store::testkit::inproc::InProcNetwork;

/// How long a joining manager may take to become a settled voter.
const VOTER_WAIT: Duration = Duration::from_secs(30);

/// One node with the mock runtime it runs its tasks on.
pub(crate) struct Member {
    pub(crate) node: Node,
    pub(crate) runtime: MockRuntime,
}

/// The settings of node `name` on `nodes` (advertised as `name:2377`, its random sequence
/// seeded from its name), with the default runtime of [`config`].
pub(crate) fn inproc_config(root: &Path, name: &str, nodes: &InProcNodes) -> NodeConfig {
    let mut c = config(root, name);
    c.network = NodeNetwork::InProc(nodes.clone());
    c.advertise_addr = Some(format!("{name}:2377"));
    c.rng_seed = Some(name.bytes().map(u64::from).sum());
    c
}

/// The settings of node `name` on `nodes`, running its tasks on `runtime`.
pub(crate) fn member_config(
    root: &Path,
    name: &str,
    nodes: &InProcNodes,
    runtime: &MockRuntime,
) -> NodeConfig {
    let mut c = inproc_config(root, name, nodes);
    c.runtime = Arc::new(runtime.clone());
    c
}

/// `managers` managers (`m1`, each a settled voter before the next joins) and `workers`
/// workers (`w1`...), all ready, on an in-process network of fault seed `seed`; every task
/// runs until stopped. Managers first in the result.
pub(crate) async fn start_cluster(
    root: &Path,
    seed: u64,
    managers: usize,
    workers: usize,
) -> Vec<Member> {
    let net = InProcNodes::new(InProcNetwork::new(seed));
    let runtime = || MockRuntime::new().with_default_script(MockScript::new().run_until_stopped());
    let first_runtime = runtime();
    let m1 = Node::init(
        member_config(root, "m1", &net, &first_runtime),
        Default::default(),
    )
    .await
    .expect("cluster start-up");
    let control = m1.control().expect("cluster start-up");
    let manager_token = control
        .join_token(NodeRole::Manager)
        .await
        .expect("cluster start-up");
    let worker_token = control
        .join_token(NodeRole::Worker)
        .await
        .expect("cluster start-up");
    let mut members = vec![Member {
        node: m1,
        runtime: first_runtime,
    }];
    let joining = (2..=managers)
        .map(|i| (format!("m{i}"), &manager_token))
        .chain((1..=workers).map(|i| (format!("w{i}"), &worker_token)));
    for (name, token) in joining {
        let rt = runtime();
        let node = Node::join(member_config(root, &name, &net, &rt), "m1:2377", token)
            .await
            .expect("cluster start-up");
        let is_manager = name.starts_with('m');
        members.push(Member { node, runtime: rt });
        if is_manager {
            let voters = members.len();
            eventually(VOTER_WAIT, "the new manager votes", || async {
                let s = members[0].node.store_status()?;
                (s.voters().len() == voters && s.is_settled()).then_some(())
            })
            .await;
        }
    }
    all_ready(&control, managers + workers).await;
    members
}
