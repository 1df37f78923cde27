//! The routing mesh's substitute (`--runtime docker`): swarmd runs no kernel IPVS, so each
//! daemon listens on every published ingress TCP port itself, at `--ingress-addr`, and
//! forwards each connection to one of the service's running task containers, in turn, at the
//! container's address on the engine network. The table comes from the engine
//! ([`MeshRoutes`]): the containers whose label lists the port, refreshed every
//! [`MESH_REFRESH`]. On one engine every daemon sees every task; on engines of their own, a
//! daemon routes only to the tasks of its host (there is no network between the hosts'
//! bridges to reach the others).

use crate::mesh_routes::MeshRoutes;
use crate::server::tokio_util_shim::CancelToken;
use bollard::Docker;
use bollard::query_parameters::ListContainersOptionsBuilder;
use std::collections::{HashMap, HashSet};
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;
use swarm_docker::LABEL_INGRESS_PORTS;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinHandle;

/// How often the table is read from the engine: a new task is routed to, and a new published
/// port opened, at most this long after its container started.
pub(crate) const MESH_REFRESH: Duration = Duration::from_millis(1000);
/// Most connections forwarded at once by one daemon; the next waits in the listen backlog
/// until one ends.
pub(crate) const MAX_MESH_CONNECTIONS: usize = 1024;
/// Longest wait for a task container to accept a forwarded connection before the next
/// backend is tried.
pub(crate) const MESH_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Most backends tried for one connection: worst case a client waits this many
/// [`MESH_CONNECT_TIMEOUT`]s before its connection is closed.
pub(crate) const MAX_MESH_CONNECT_ATTEMPTS: usize = 3;

/// The task containers of one published port and the round robin's position.
#[derive(Default)]
struct Backends {
    addrs: RwLock<Vec<SocketAddr>>,
    next: AtomicUsize,
}

impl Backends {
    fn set(&self, addrs: Vec<SocketAddr>) {
        *self.addrs.write().unwrap_or_else(PoisonError::into_inner) = addrs;
    }

    /// The backends to try for one connection: the next in turn first, then the following.
    fn pick(&self) -> Vec<SocketAddr> {
        let addrs = self.addrs.read().unwrap_or_else(PoisonError::into_inner);
        if addrs.is_empty() {
            return Vec::new();
        }
        let start = self.next.fetch_add(1, Ordering::Relaxed) % addrs.len();
        (0..addrs.len().min(MAX_MESH_CONNECT_ATTEMPTS))
            .map(|i| addrs[(start + i) % addrs.len()])
            .collect()
    }
}

/// One open published port.
struct OpenPort {
    backends: Arc<Backends>,
    accept: JoinHandle<()>,
}

/// The mesh of one daemon: its listeners and their backends.
pub(crate) struct RoutingMesh {
    ip: IpAddr,
    docker: Docker,
    open: HashMap<u16, OpenPort>,
    /// Ports that could not be opened (logged once; tried again at every refresh).
    refused: HashSet<u16>,
    connections: Arc<Semaphore>,
}

impl RoutingMesh {
    /// A mesh listening at `ip`, reading the containers of `docker`.
    pub(crate) fn new(ip: IpAddr, docker: Docker) -> RoutingMesh {
        RoutingMesh {
            ip,
            docker,
            open: HashMap::new(),
            refused: HashSet::new(),
            connections: Arc::new(Semaphore::new(MAX_MESH_CONNECTIONS)),
        }
    }

    /// Follows the engine until `stop`; then closes every listener.
    pub(crate) async fn run(mut self, mut stop: CancelToken) {
        tracing::info!(addr = %self.ip, "routing mesh: published ingress ports open here");
        loop {
            match self.routes().await {
                Ok(routes) => self.apply(routes).await,
                Err(e) => {
                    tracing::debug!(error = %e, "routing mesh: cannot list the engine's containers")
                }
            }
            tokio::select! {
                _ = stop.cancelled() => break,
                _ = tokio::time::sleep(MESH_REFRESH) => {}
            }
        }
        for (_, port) in self.open.drain() {
            port.accept.abort();
        }
    }

    /// The running containers of the engine that publish through the mesh.
    async fn routes(&self) -> Result<MeshRoutes, bollard::errors::Error> {
        let filters = HashMap::from([
            ("label", vec![LABEL_INGRESS_PORTS.to_owned()]),
            ("status", vec!["running".to_owned()]),
        ]);
        let opts = ListContainersOptionsBuilder::default()
            .filters(&filters)
            .build();
        let containers = self.docker.list_containers(Some(opts)).await?;
        Ok(MeshRoutes::from_containers(&containers))
    }

    /// Opens the new ports, updates the backends, closes the ports no task publishes.
    async fn apply(&mut self, routes: MeshRoutes) {
        let gone: Vec<u16> = self
            .open
            .keys()
            .filter(|p| !routes.tcp.contains_key(p))
            .copied()
            .collect();
        for port in gone {
            if let Some(open) = self.open.remove(&port) {
                open.accept.abort();
                tracing::info!(port, "routing mesh: port closed (no task publishes it)");
            }
        }
        self.refused.retain(|p| routes.tcp.contains_key(p));
        for (port, addrs) in routes.tcp {
            if let Some(open) = self.open.get(&port) {
                open.backends.set(addrs);
                continue;
            }
            match TcpListener::bind(SocketAddr::new(self.ip, port)).await {
                Ok(listener) => {
                    let backends = Arc::new(Backends::default());
                    backends.set(addrs);
                    let accept = tokio::spawn(accept_loop(
                        port,
                        listener,
                        backends.clone(),
                        self.connections.clone(),
                    ));
                    self.refused.remove(&port);
                    tracing::info!(port, "routing mesh: port open");
                    self.open.insert(port, OpenPort { backends, accept });
                }
                Err(e) => {
                    if self.refused.insert(port) {
                        tracing::warn!(port, addr = %self.ip, error = %e, "routing mesh: cannot open the published port");
                    }
                }
            }
        }
    }
}

async fn accept_loop(
    port: u16,
    listener: TcpListener,
    backends: Arc<Backends>,
    connections: Arc<Semaphore>,
) {
    loop {
        let Ok(permit) = connections.clone().acquire_owned().await else {
            return;
        };
        match listener.accept().await {
            Ok((client, peer)) => {
                let targets = backends.pick();
                tokio::spawn(async move {
                    forward(port, client, peer, targets).await;
                    drop(permit);
                });
            }
            Err(e) => tracing::debug!(port, error = %e, "routing mesh: accept failed"),
        }
    }
}

/// Connects to the first of `targets` that answers and copies both ways until either side
/// closes; closes the client when none answers.
async fn forward(port: u16, mut client: TcpStream, peer: SocketAddr, targets: Vec<SocketAddr>) {
    for target in targets {
        match tokio::time::timeout(MESH_CONNECT_TIMEOUT, TcpStream::connect(target)).await {
            Ok(Ok(mut task)) => {
                if let Err(e) = tokio::io::copy_bidirectional(&mut client, &mut task).await {
                    tracing::debug!(port, %peer, %target, error = %e, "routing mesh: connection ended with an error");
                }
                return;
            }
            Ok(Err(e)) => tracing::debug!(port, %target, error = %e, "routing mesh: task refused"),
            Err(_) => tracing::debug!(port, %target, "routing mesh: task did not answer in time"),
        }
    }
    tracing::debug!(port, %peer, "routing mesh: no task answered; connection closed");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_picked_in_turn_and_each_pick_tries_the_following_ones() {
        let b = Backends::default();
        assert!(b.pick().is_empty());
        let addrs: Vec<SocketAddr> = (1..=4)
            .map(|i| SocketAddr::from(([10, 0, 0, i], 80)))
            .collect();
        b.set(addrs.clone());
        let first: Vec<SocketAddr> = (0..4).map(|_| b.pick()[0]).collect();
        assert_eq!(first, addrs);
        let pick = b.pick();
        assert_eq!(pick.len(), MAX_MESH_CONNECT_ATTEMPTS);
        assert_eq!(pick, addrs[..MAX_MESH_CONNECT_ATTEMPTS]);
    }

    #[tokio::test]
    async fn a_connection_reaches_a_backend_and_a_dead_one_is_skipped() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        // A backend that answers "hi", and an address that refuses.
        let task = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let task_addr = task.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = task.accept().await.unwrap();
            s.write_all(b"hi\n").await.unwrap();
        });
        let dead = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let dead_addr = dead.local_addr().unwrap();
        drop(dead);
        let mesh = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mesh_addr = mesh.local_addr().unwrap();
        let backends = Arc::new(Backends::default());
        backends.set(vec![dead_addr, task_addr]);
        let accept = tokio::spawn(accept_loop(
            mesh_addr.port(),
            mesh,
            backends,
            Arc::new(Semaphore::new(1)),
        ));
        let mut client = TcpStream::connect(mesh_addr).await.unwrap();
        let mut got = String::new();
        client.read_to_string(&mut got).await.unwrap();
        assert_eq!(got, "hi\n");
        accept.abort();
    }
}
