//! The managers' state on real files (fsync on): a store on the data directory's WAL and
//! snapshots, sealed by the keyring cipher; restarts without and with autolock; wrong and
//! rotated unlock keys; no plaintext on disk.

#![allow(clippy::unwrap_used)]

mod manager_support;

use manager_support::{found_cluster, new_ca};
use std::path::Path;
use swarm_core::manager::state::{
    DataDirError, KeysError, ManagerDataDir, ManagerStore, SNAPSHOT_DIR, WAL_DIR,
};
use swarm_core::manager::writes::{ManagerWrite, ManagerWrites};
use swarm_core::model::Node;
use swarm_secrets::UnlockKey;
use swarm_store::storage::{
    DiskLogOptions, DiskLogStorage, DiskSnapshotStore, LogStorage, SnapshotStore,
};
use swarm_store::testkit::inproc::InProcNetwork;
use swarm_store::{MemberId, Store, StoreConfig, StoreRpc};

/// Written into a node's labels: it must never appear in the WAL or a snapshot.
const MARKER: &str = "MANAGER-STATE-PLAINTEXT-MARKER-5e1d";

async fn open_store<L: LogStorage, S: SnapshotStore>(log: L, snapshots: S) -> Store {
    let net = InProcNetwork::new(11);
    let rpc = StoreRpc::new();
    net.register(MemberId(1), rpc.clone());
    let mut config = StoreConfig::new(MemberId(1), "member-1");
    config.snapshot_every_entries = 1_000;
    Store::open(config, log, snapshots, net.endpoint(MemberId(1)), &rpc)
        .await
        .unwrap()
}

/// Opens a store on the data directory's WAL and snapshots. The WAL stays locked until the
/// previous store's background tasks dropped their handles: wait for that a moment.
async fn open_on(data: &ManagerDataDir) -> ManagerStore {
    let mut attempts = 0;
    let log = loop {
        match data.open_log(DiskLogOptions::default().with_segment_bytes(64 << 10)) {
            Ok(log) => break log,
            Err(DataDirError::Storage { .. }) if attempts < 100 => {
                attempts += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e}"),
        }
    };
    let snapshots = data.open_snapshots().unwrap();
    ManagerStore::new(open_store(log, snapshots).await)
}

/// Founds a cluster in a fresh store and writes `extra` labelled nodes (one carrying the
/// marker). Returns the founder's id.
async fn write_state(state: &ManagerStore, extra: usize) -> Node {
    state.store().bootstrap().await.unwrap();
    let ca = new_ca("c0ffee");
    let init = found_cluster(state, &ca).await;
    for i in 0..extra {
        let mut node = init.node.clone();
        node.id = swarm_core::model::NodeId::new(format!("worker{i:019}"));
        node.manager_status = None;
        node.spec
            .labels
            .insert("marker".into(), format!("{MARKER}-{i}"));
        state
            .apply(&ManagerWrites {
                writes: vec![ManagerWrite::CreateNode(node)],
                membership: Vec::new(),
            })
            .await
            .unwrap();
    }
    init.node
}

async fn stop(state: ManagerStore) {
    state.store().shutdown().await.unwrap();
    drop(state);
}

/// Every file under `dir` holding `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut hits = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            hits.extend(files_containing(&path, needle));
        } else if std::fs::read(&path)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            hits.push(path.display().to_string());
        }
    }
    hits
}

/// After a restart: the member elects itself, and every record written before is there.
async fn assert_all_there(state: &ManagerStore, founder: &Node, extra: usize) {
    state.store().wait_for_leader().await.unwrap();
    let nodes = state.nodes().await.unwrap();
    assert_eq!(nodes.len(), 1 + extra);
    assert!(nodes.iter().any(|n| n.id == founder.id));
    let cluster = state.cluster().await.unwrap().unwrap();
    assert_eq!(cluster.id.as_str(), "c0ffee");
    let ca = state.root_ca(&cluster.id).await.unwrap().unwrap();
    assert!(ca.to_ca(swarm_secrets::CertPolicy::default()).is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_autolock_a_restart_opens_directly() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ManagerDataDir::create(tmp.path(), None).unwrap();
    let state = open_on(&data).await;
    let founder = write_state(&state, 3).await;
    stop(state).await;
    drop(data);

    let data = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(!data.is_locked());
    let state = open_on(&data).await;
    assert_all_there(&state, &founder, 3).await;
    stop(state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_autolock_a_restart_stays_locked_until_the_right_key_and_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let key = UnlockKey::generate().unwrap();
    let data = ManagerDataDir::create(tmp.path(), Some(&key)).unwrap();
    let state = open_on(&data).await;
    let founder = write_state(&state, 5).await;
    stop(state).await;
    drop(data);

    let mut data = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(data.is_locked());
    assert!(
        data.open_log(DiskLogOptions::default())
            .unwrap_err()
            .is_locked()
    );
    assert!(data.open_snapshots().unwrap_err().is_locked());
    let keys_before = std::fs::read(data.keys_path()).unwrap();
    let wal_files_before = std::fs::read_dir(tmp.path().join(WAL_DIR)).unwrap().count();
    for _ in 0..3 {
        let e = data.unlock(&UnlockKey::generate().unwrap()).unwrap_err();
        assert!(e.is_wrong_unlock_key(), "{e}");
        assert!(data.is_locked());
    }
    // Refusals change nothing on disk.
    assert_eq!(std::fs::read(data.keys_path()).unwrap(), keys_before);
    assert_eq!(
        std::fs::read_dir(tmp.path().join(WAL_DIR)).unwrap().count(),
        wal_files_before
    );
    data.unlock(&key).unwrap();
    let state = open_on(&data).await;
    assert_all_there(&state, &founder, 5).await;
    stop(state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotated_unlock_key_replaces_the_old_one_across_restarts() {
    let tmp = tempfile::tempdir().unwrap();
    let old = UnlockKey::generate().unwrap();
    let new = UnlockKey::generate().unwrap();
    let mut data = ManagerDataDir::create(tmp.path(), Some(&old)).unwrap();
    let state = open_on(&data).await;
    let founder = write_state(&state, 2).await;
    // Rotated while the store runs: its cipher keeps sealing under the same data key.
    data.rotate_unlock_key(&new).unwrap();
    assert_eq!(data.unlock_key().unwrap(), &new);
    let mut more = founder.clone();
    more.id = swarm_core::model::NodeId::new("afterrotation00000000000a");
    more.manager_status = None;
    state
        .apply(&ManagerWrites {
            writes: vec![ManagerWrite::CreateNode(more)],
            membership: Vec::new(),
        })
        .await
        .unwrap();
    stop(state).await;
    drop(data);

    for _ in 0..2 {
        let mut data = ManagerDataDir::open(tmp.path()).unwrap();
        assert!(data.unlock(&old).unwrap_err().is_wrong_unlock_key());
        data.unlock(&new).unwrap();
        let state = open_on(&data).await;
        assert_all_there(&state, &founder, 3).await;
        stop(state).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autolock_turned_on_and_off_while_running() {
    let tmp = tempfile::tempdir().unwrap();
    let mut data = ManagerDataDir::create(tmp.path(), None).unwrap();
    let state = open_on(&data).await;
    let founder = write_state(&state, 1).await;
    let key = UnlockKey::generate().unwrap();
    data.enable_autolock(&key).unwrap();
    // Written under the new data key, by the same running store.
    let mut later = founder.clone();
    later.id = swarm_core::model::NodeId::new("afterlock0000000000000000a");
    later.manager_status = None;
    state
        .apply(&ManagerWrites {
            writes: vec![ManagerWrite::CreateNode(later)],
            membership: Vec::new(),
        })
        .await
        .unwrap();
    stop(state).await;
    drop(data);

    let mut data = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(data.is_locked());
    data.unlock(&key).unwrap();
    let state = open_on(&data).await;
    assert_all_there(&state, &founder, 2).await;
    data.disable_autolock().unwrap();
    assert!(matches!(
        data.unlock_key(),
        Err(DataDirError::Keys {
            source: KeysError::AutolockOff,
            ..
        })
    ));
    stop(state).await;
    drop(data);

    let data = ManagerDataDir::open(tmp.path()).unwrap();
    assert!(!data.is_locked());
    let state = open_on(&data).await;
    assert_all_there(&state, &founder, 2).await;
    stop(state).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plaintext_reaches_the_wal_or_a_snapshot() {
    let tmp = tempfile::tempdir().unwrap();
    let data = ManagerDataDir::create(tmp.path(), Some(&UnlockKey::generate().unwrap())).unwrap();
    let state = open_on(&data).await;
    write_state(&state, 4).await;
    let snapshot_index = state.store().snapshot_now().await.unwrap();
    assert!(snapshot_index > 0);
    let cluster = state.cluster().await.unwrap().unwrap();
    let ca = state.root_ca(&cluster.id).await.unwrap().unwrap();
    let ca_key_json = serde_json::to_string(ca.expose_key_pkcs8_der()).unwrap();
    stop(state).await;

    let snapshot_files = std::fs::read_dir(tmp.path().join(SNAPSHOT_DIR))
        .unwrap()
        .count();
    assert!(snapshot_files > 0, "a snapshot was saved");
    for needle in [
        MARKER.as_bytes(),
        ca_key_json.as_bytes(),
        cluster.join_tokens.manager.as_bytes(),
    ] {
        assert_eq!(files_containing(tmp.path(), needle), Vec::<String>::new());
    }

    // The control: the same writes on a WAL and snapshot store without a cipher put the
    // marker on disk, so the scan above would have seen it.
    let plain = tempfile::tempdir().unwrap();
    let log = DiskLogStorage::open(plain.path().join(WAL_DIR), DiskLogOptions::default()).unwrap();
    let snapshots = DiskSnapshotStore::open(plain.path().join(SNAPSHOT_DIR)).unwrap();
    let state = ManagerStore::new(open_store(log, snapshots).await);
    write_state(&state, 4).await;
    state.store().snapshot_now().await.unwrap();
    stop(state).await;
    let hits = files_containing(plain.path(), MARKER.as_bytes());
    assert!(hits.iter().any(|h| h.contains(WAL_DIR)), "{hits:?}");
    assert!(hits.iter().any(|h| h.contains(SNAPSHOT_DIR)), "{hits:?}");
}
