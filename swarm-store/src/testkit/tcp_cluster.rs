//! Test and bench support: store members over TCP with mutual TLS on 127.0.0.1 (certificates
//! from an rcgen-made CA, CN = member id) and disk storage (fsync on) in a directory.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::crypto::CryptoProvider;
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use swarm_store::storage::{DiskLogOptions, DiskLogStorage, DiskSnapshotStore};
use swarm_store::transport::tcp::{
    PeerAddress, TcpConfig, TcpServer, TcpTransport, common_name_identifier,
};
use swarm_store::{MemberId, Store, StoreConfig, StoreRpc};
use tokio::net::TcpListener;

/// A certificate authority issuing member certificates.
pub struct Pki {
    cert: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

impl Pki {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "swarm-store test CA");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        Pki {
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    fn identity(&self, id: MemberId) -> (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>) {
        let mut params = CertificateParams::new(vec!["127.0.0.1".to_owned()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, id.0.to_string());
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        (
            vec![cert.der().clone()],
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }

    fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.clone()).unwrap();
        Arc::new(roots)
    }

    pub fn server_config(&self, id: MemberId) -> Arc<ServerConfig> {
        let verifier = WebPkiClientVerifier::builder_with_provider(self.roots(), provider())
            .build()
            .unwrap();
        let (chain, key) = self.identity(id);
        Arc::new(
            ServerConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key)
                .unwrap(),
        )
    }

    pub fn client_config(&self, id: MemberId) -> Arc<ClientConfig> {
        let (chain, key) = self.identity(id);
        Arc::new(
            ClientConfig::builder_with_provider(provider())
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(self.roots())
                .with_client_auth_cert(chain, key)
                .unwrap(),
        )
    }
}

struct Running {
    store: Store,
    server: TcpServer,
}

/// Members over TCP+TLS with disk storage under `root/<id>/`.
pub struct TcpCluster {
    pub root: PathBuf,
    pki: Pki,
    addrs: BTreeMap<u64, SocketAddr>,
    running: BTreeMap<u64, Running>,
    tweak: fn(StoreConfig) -> StoreConfig,
}

impl TcpCluster {
    /// `n` voters (member 1 bootstrapped, the others added and promoted).
    pub async fn start(n: u64, root: PathBuf, tweak: fn(StoreConfig) -> StoreConfig) -> Self {
        let mut c = TcpCluster {
            root,
            pki: Pki::new(),
            addrs: BTreeMap::new(),
            running: BTreeMap::new(),
            tweak,
        };
        let mut listeners = BTreeMap::new();
        for id in 1..=n {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            c.addrs.insert(id, l.local_addr().unwrap());
            listeners.insert(id, l);
        }
        for (id, l) in listeners {
            c.open(id, l).await;
        }
        let first = c.store(1).clone();
        first.bootstrap().await.unwrap();
        for id in 2..=n {
            first
                .add_learner(MemberId(id), c.addrs[&id].to_string())
                .await
                .unwrap();
            first.promote(MemberId(id), false).await.unwrap();
        }
        c
    }

    async fn open(&mut self, id: u64, listener: TcpListener) {
        let member = MemberId(id);
        let dir = self.root.join(id.to_string());
        let log = DiskLogStorage::open(dir.join("log"), DiskLogOptions::default()).unwrap();
        let snapshots = DiskSnapshotStore::open(dir.join("snapshot")).unwrap();
        let rpc = StoreRpc::new();
        let server = TcpServer::serve(
            listener,
            self.pki.server_config(member),
            common_name_identifier(),
            TcpConfig::default(),
            rpc.clone(),
        )
        .unwrap();
        let transport = TcpTransport::new(
            member,
            self.pki.client_config(member),
            common_name_identifier(),
            TcpConfig::default(),
        );
        for (peer, addr) in &self.addrs {
            if *peer != id {
                transport.set_peer(MemberId(*peer), PeerAddress::new(*addr));
            }
        }
        let cfg = (self.tweak)(StoreConfig::new(member, self.addrs[&id].to_string()));
        let store = Store::open(cfg, log, snapshots, transport, &rpc)
            .await
            .unwrap();
        self.running.insert(id, Running { store, server });
    }

    pub fn store(&self, id: u64) -> &Store {
        &self.running[&id].store
    }

    /// The member every running member agrees leads.
    pub async fn leader(&self) -> u64 {
        for _ in 0..400 {
            let leaders: std::collections::HashSet<_> =
                self.running.values().map(|r| r.store.leader()).collect();
            if leaders.len() == 1 {
                if let Some(Some(l)) = leaders.into_iter().next() {
                    if self.running.contains_key(&l.0) {
                        return l.0;
                    }
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no agreed leader");
    }

    /// Stops member `id`: the Raft node, its server and its storage handles.
    pub async fn stop(&mut self, id: u64) {
        if let Some(r) = self.running.remove(&id) {
            r.store.shutdown().await.unwrap();
            r.server.shutdown().await;
            drop(r.store);
        }
    }

    /// Restarts member `id` on its directory and address.
    pub async fn restart(&mut self, id: u64) {
        let listener = TcpListener::bind(self.addrs[&id]).await.unwrap();
        // The log directory is locked until every handle of the previous incarnation is
        // dropped; give its background tasks a moment.
        for attempt in 0..100 {
            let dir = self.root.join(id.to_string()).join("log");
            match DiskLogStorage::open(&dir, DiskLogOptions::default()) {
                Ok(log) => {
                    drop(log);
                    break;
                }
                Err(e) if attempt == 99 => panic!("log of member {id} stays locked: {e}"),
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        }
        self.open(id, listener).await;
    }

    pub async fn shutdown(mut self) {
        let ids: Vec<u64> = self.running.keys().copied().collect();
        for id in ids {
            self.stop(id).await;
        }
    }
}
