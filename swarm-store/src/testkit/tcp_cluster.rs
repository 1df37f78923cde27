//! The TCP cluster fixture: store members over TCP with mutual TLS on 127.0.0.1 (node
//! certificates from a [`TestCa`], shaped as swarm-secrets' CA issues them) and disk storage
//! (fsync on) in a directory.

use super::agreed_leader::agreed_leader;
use super::test_ca::TestCa;
use crate::storage::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore};
use crate::transport::tcp::{
    MANAGER_ROLE_OU, MemberNames, PeerAddress, TcpConfig, TcpServer, TcpTransport,
    manager_identifier,
};
use crate::{MemberId, Store, StoreConfig, StoreRpc};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;

/// Looks (25 ms apart) for a leader every running member agrees on.
const LEADER_ATTEMPTS: usize = 400;
/// Attempts (50 ms apart) to reopen a restarted member's log while the previous incarnation's
/// handles are still being dropped.
const REOPEN_ATTEMPTS: usize = 100;

/// Panics naming the step that failed: the fixture is test support, and a test cannot go on
/// without its cluster.
fn setup<T, E: Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("TCP cluster: {what}: {e}"),
    }
}

/// A running member: its store and its server.
struct Running {
    store: Store,
    server: TcpServer,
}

/// Members over TCP with mutual TLS on 127.0.0.1, with disk storage under `root/<id>/`
/// (`log/` and `snapshot/`), for tests and benchmarks of the whole stack.
///
/// Member `id` runs as node `node-<id>` with a manager certificate (CN = node id, OU =
/// `swarm-manager`, DNS name = node id, no IP address), identified by
/// [`manager_identifier`] over the cluster's [`MemberNames`] and called by its node id
/// ([`PeerAddress::new`]): the setup a user writes with swarm-secrets' CA.
///
/// # Panics
/// Starting, stopping and restarting members panic when a step fails (a port cannot be bound,
/// a store cannot open): the fixture is meant to run inside a test or a benchmark.
///
/// ```no_run
/// # async fn demo() {
/// use swarm_store::testkit::TcpCluster;
/// let dir = std::env::temp_dir().join("tcp-cluster-demo");
/// let cluster = TcpCluster::start(3, dir, |config| config).await;
/// let leader = cluster.leader().await;
/// let services = cluster.store(leader).collection::<String>("services");
/// services.put("web", &"nginx".to_string()).await.expect("written");
/// cluster.shutdown().await;
/// # }
/// ```
pub struct TcpCluster {
    /// The directory holding every member's storage.
    pub root: PathBuf,
    ca: TestCa,
    names: MemberNames,
    addrs: BTreeMap<u64, SocketAddr>,
    running: BTreeMap<u64, Running>,
    tweak: fn(StoreConfig) -> StoreConfig,
}

/// The node id member `id` runs as.
fn node_id(id: u64) -> String {
    format!("node-{id}")
}

impl TcpCluster {
    /// Starts `n` voters (member 1 bootstrapped, the others added and promoted), each with
    /// the configuration `tweak` makes of the default one.
    pub async fn start(n: u64, root: PathBuf, tweak: fn(StoreConfig) -> StoreConfig) -> Self {
        let mut c = TcpCluster {
            root,
            ca: TestCa::new("swarm-store test CA"),
            names: MemberNames::new(),
            addrs: BTreeMap::new(),
            running: BTreeMap::new(),
            tweak,
        };
        let mut listeners = BTreeMap::new();
        for id in 1..=n {
            let l = setup(TcpListener::bind("127.0.0.1:0").await, "bind a port");
            c.addrs.insert(id, setup(l.local_addr(), "local address"));
            setup(c.names.insert(MemberId(id), &node_id(id)), "name a member");
            listeners.insert(id, l);
        }
        for (id, l) in listeners {
            c.open(id, l).await;
        }
        let first = c.store(1).clone();
        setup(first.bootstrap().await, "bootstrap member 1");
        for id in 2..=n {
            setup(
                first
                    .add_learner(MemberId(id), c.addrs[&id].to_string())
                    .await,
                "add a learner",
            );
            setup(
                first.promote(MemberId(id), false).await,
                "promote a learner",
            );
        }
        c
    }

    async fn open(&mut self, id: u64, listener: TcpListener) {
        let member = MemberId(id);
        let dir = self.root.join(id.to_string());
        let log = setup(
            DiskLogStorage::open(dir.join("log"), DiskLogOptions::default()),
            "open a log",
        );
        let snapshots = setup(
            DiskSnapshotStore::open(dir.join("snapshot")),
            "open a snapshot store",
        );
        let rpc = StoreRpc::new();
        let node = node_id(id);
        let server = setup(
            TcpServer::serve(
                listener,
                self.ca
                    .server_config_for(self.ca.node_identity(&node, MANAGER_ROLE_OU)),
                manager_identifier(self.names.clone()),
                TcpConfig::default(),
                rpc.clone(),
            ),
            "serve",
        );
        let transport = TcpTransport::new(
            member,
            self.ca
                .client_config_for(self.ca.node_identity(&node, MANAGER_ROLE_OU), &self.ca),
            manager_identifier(self.names.clone()),
            TcpConfig::default(),
        );
        for (peer, addr) in &self.addrs {
            if *peer != id {
                let address = setup(PeerAddress::new(*addr, &node_id(*peer)), "peer address");
                transport.set_peer(MemberId(*peer), address);
            }
        }
        let cfg = (self.tweak)(StoreConfig::new(member, self.addrs[&id].to_string()));
        let store = setup(
            Store::open(cfg, log, snapshots, transport, &rpc).await,
            "open a store",
        );
        self.running.insert(id, Running { store, server });
    }

    /// The store of running member `id`.
    ///
    /// # Panics
    /// When member `id` is not running.
    pub fn store(&self, id: u64) -> &Store {
        &self.running[&id].store
    }

    /// The member every running member agrees leads.
    ///
    /// # Panics
    /// When they agree on none within 400 looks, 25 ms apart.
    pub async fn leader(&self) -> u64 {
        let members = self.running.iter().map(|(id, r)| (*id, &r.store)).collect();
        match agreed_leader(&members, LEADER_ATTEMPTS).await {
            Some(leader) => leader,
            None => panic!("TCP cluster: no agreed leader"),
        }
    }

    /// Stops member `id`: the Raft node, its server and its storage handles.
    pub async fn stop(&mut self, id: u64) {
        if let Some(r) = self.running.remove(&id) {
            setup(r.store.shutdown().await, "shut a store down");
            r.server.shutdown().await;
            drop(r.store);
        }
    }

    /// Restarts member `id` on its directory and address.
    pub async fn restart(&mut self, id: u64) {
        let listener = setup(
            TcpListener::bind(self.addrs[&id]).await,
            "bind the port again",
        );
        // The log directory is locked until every handle of the previous incarnation is
        // dropped; give its background tasks a moment.
        for attempt in 0..REOPEN_ATTEMPTS {
            let dir = self.root.join(id.to_string()).join("log");
            match DiskLogStorage::open(&dir, DiskLogOptions::default()) {
                Ok(log) => {
                    drop(log);
                    break;
                }
                Err(e) if attempt + 1 == REOPEN_ATTEMPTS => {
                    panic!("TCP cluster: the log of member {id} stays locked: {e}")
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
        self.open(id, listener).await;
    }

    /// Stops every running member.
    pub async fn shutdown(mut self) {
        let ids: Vec<u64> = self.running.keys().copied().collect();
        for id in ids {
            self.stop(id).await;
        }
    }
}
