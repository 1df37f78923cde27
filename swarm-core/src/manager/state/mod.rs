//! The managers' state: what they keep in swarm-store, and how it is kept on disk.
//!
//! * [`schema`]: the store collections the managers use (nodes, the cluster object, the root
//!   CA and, during a root rotation, the root rotated to: see [`RootCaSlot`]), and [`ManagerStore`], which applies a step's [`ManagerWrites`] as one transaction
//!   with the version checks the writes carry and reads the records back with their store
//!   versions.
//! * [`KeyringCipher`]: the store's at-rest [`Cipher`] backed by a swarm-secrets
//!   [`Keyring`]: every WAL record and snapshot is sealed under a data encryption key (DEK)
//!   wrapped by a key encryption key (KEK) derived from an [`UnlockKey`].
//! * [`ManagerKeys`]: the rules of the keys, without I/O: locked or unlocked, autolock on or
//!   off, unlock-key rotation planned as a [`KeysChange`] and committed only after the new
//!   keys file is durable.
//! * [`ManagerDataDir`]: the one module that does file I/O: the data directory with the keys
//!   file (written with fsync and rename), the WAL and the snapshots.
//!
//! Without autolock the unlock key lies in the keys file next to the data, as SwarmKit keeps
//! its raft DEK unencrypted in the TLS key's headers: it protects a copy of the WAL or the
//! snapshots taken without that file, not a copy of the whole directory. With autolock the
//! key is never written: a restarted manager opens its directory locked and stays locked
//! until [`ManagerDataDir::unlock`] is given the key.
//!
//! [`ManagerWrites`]: crate::manager::writes::ManagerWrites
//! [`Cipher`]: swarm_store::storage::Cipher
//! [`Keyring`]: swarm_secrets::Keyring
//! [`UnlockKey`]: swarm_secrets::UnlockKey

mod chunk_result;
mod data_dir;
mod keyring_cipher;
mod keys_error;
mod keys_file;
mod manager_keys;
mod manager_store;
mod orchestration_fence;
mod root_ca_slot;
pub mod schema;
mod state_error;
mod stored_root_ca;

#[cfg(test)]
mod data_dir_tests;
#[cfg(test)]
mod manager_keys_tests;

pub use chunk_result::ChunkResult;
pub use data_dir::{DataDirError, KEYS_FILE, KEYS_TMP_FILE, ManagerDataDir, SNAPSHOT_DIR, WAL_DIR};
pub use keyring_cipher::{KeyringCipher, MAX_CIPHER_CHUNK_BYTES, MAX_SEALED_CHUNKS};
pub use keys_error::KeysError;
pub use keys_file::{KeyProtection, KeysFile, MAX_KEYS_FILE_BYTES};
pub use manager_keys::{KeysChange, ManagerKeys};
pub use manager_store::{
    CHUNK_PAYLOAD_BYTES, MAX_CHUNKS_IN_FLIGHT, MAX_CONFLICT_RETRIES, MAX_LOAD_STATE_ATTEMPTS,
    ManagerStore,
};
pub use orchestration_fence::{
    LEADERSHIP, ORCHESTRATION_FENCE_KEY, OrchestrationFence, OrchestrationFenceDoc,
};
pub use root_ca_slot::{ROTATION_KEY_SUFFIX, RootCaSlot};
pub use state_error::StateError;
pub use stored_root_ca::StoredRootCa;
