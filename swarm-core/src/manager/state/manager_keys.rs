//! The rules of a manager's at-rest keys, without I/O: locked or unlocked, autolock on or off,
//! and changes planned first and committed once their keys file is durable.

use crate::manager::state::keyring_cipher::KeyringCipher;
use crate::manager::state::keys_error::KeysError;
use crate::manager::state::keys_file::{KeyProtection, KeysFile};
use std::fmt;
use std::sync::Arc;
use swarm_secrets::{Keyring, UnlockKey};

/// A manager's at-rest keys: the keyring that seals its WAL and snapshots, and whether the
/// key that wraps it is kept on disk (autolock off) or given by the operator (autolock on).
///
/// States and rules (no I/O, no clock: the caller reads and writes the keys file):
///
/// * [`ManagerKeys::create`] makes fresh keys and the keys file to write;
///   [`ManagerKeys::load`] reads one: autolock off opens at once with the stored key,
///   autolock on stays **locked**.
/// * Locked, nothing seals or opens ([`ManagerKeys::cipher`] is [`KeysError::Locked`]) until
///   [`ManagerKeys::unlock`] gets the right key; a wrong one is [`KeysError::WrongUnlockKey`]
///   and leaves the keys locked.
/// * A change (rotate the unlock key, turn autolock on or off) is planned on unlocked keys
///   as a [`KeysChange`] holding the new keys file, and takes effect only through
///   [`ManagerKeys::commit`], which the caller calls after that file is durable. Until then
///   the current key keeps working and the change can be dropped. A change planned before
///   another was committed is [`KeysError::StaleChange`].
/// * Turning autolock on re-wraps under the operator's key **and** makes a fresh data
///   encryption key active (SwarmKit rotates its raft DEK on the same transition): the old
///   one was reachable from the key on disk, so what is written from then on is not. Old
///   keys stay in the keyring to open what they sealed (at most
///   [`swarm_secrets::limits::MAX_KEYRING_DEKS`] keys: each enabling adds one).
/// * Turning autolock off re-wraps under a fresh random key stored in the keys file; the
///   operator's key stops working.
pub struct ManagerKeys {
    state: State,
    generation: u64,
}

enum State {
    Locked { file: KeysFile },
    Unlocked(Box<Unlocked>),
}

struct Unlocked {
    autolock: bool,
    key: UnlockKey,
    /// The instance that plans changes; the cipher seals with its own instance.
    keyring: Keyring,
    cipher: Arc<KeyringCipher>,
}

/// A planned change of the keys: the keys file to write, and the keys to use once it is
/// durable ([`ManagerKeys::commit`]).
pub struct KeysChange {
    generation: u64,
    file: KeysFile,
    autolock: bool,
    key: UnlockKey,
    keyring: Keyring,
    /// A fresh instance for the cipher when the active data encryption key changed.
    cipher_keyring: Option<Keyring>,
}

impl KeysChange {
    /// The keys file to write durably before committing.
    pub fn file(&self) -> &KeysFile {
        &self.file
    }

    /// Whether autolock is on after the change.
    pub fn autolock(&self) -> bool {
        self.autolock
    }
}

impl fmt::Debug for KeysChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeysChange")
            .field("generation", &self.generation)
            .field("file", &self.file)
            .field("new_data_key", &self.cipher_keyring.is_some())
            .finish_non_exhaustive()
    }
}

/// A second, unlocked instance of the keyring `export` holds (its own nonce sequence).
fn open_copy(export: &[u8], key: &UnlockKey) -> Result<Keyring, KeysError> {
    let mut ring = Keyring::from_exported(export)
        .map_err(|e| KeysError::from_secrets("reading the keyring", e))?;
    ring.unlock(key)
        .map_err(|e| KeysError::from_secrets("unlocking the keyring", e))?;
    Ok(ring)
}

fn export(ring: &Keyring) -> Result<Vec<u8>, KeysError> {
    ring.export()
        .map_err(|e| KeysError::from_secrets("exporting the keyring", e))
}

fn protection(autolock: bool, key: &UnlockKey) -> KeyProtection {
    if autolock {
        KeyProtection::Autolock
    } else {
        KeyProtection::KeyOnDisk(key.clone())
    }
}

impl ManagerKeys {
    /// Fresh keys: a keyring with one data encryption key, wrapped under `autolock`'s key
    /// (autolock on) or under a fresh random key kept in the keys file (autolock off).
    /// Returns the keys and the keys file to write before anything is sealed.
    pub fn create(autolock: Option<&UnlockKey>) -> Result<(ManagerKeys, KeysFile), KeysError> {
        let key = match autolock {
            Some(key) => key.clone(),
            None => {
                UnlockKey::generate().map_err(|e| KeysError::from_secrets("generating a key", e))?
            }
        };
        let keyring = Keyring::create(&key)
            .map_err(|e| KeysError::from_secrets("creating the keyring", e))?;
        let keyring_export = export(&keyring)?;
        let cipher = Arc::new(KeyringCipher::new(open_copy(&keyring_export, &key)?));
        let file = KeysFile {
            protection: protection(autolock.is_some(), &key),
            keyring_export,
        };
        let keys = ManagerKeys {
            state: State::Unlocked(Box::new(Unlocked {
                autolock: autolock.is_some(),
                key,
                keyring,
                cipher,
            })),
            generation: 0,
        };
        Ok((keys, file))
    }

    /// Keys read from a keys file: unlocked at once if the key is stored in it (autolock
    /// off), locked otherwise. A stored key that does not open the stored keyring, or a
    /// malformed keyring, is [`KeysError::Corrupt`].
    pub fn load(file: KeysFile) -> Result<ManagerKeys, KeysError> {
        let state = match &file.protection {
            KeyProtection::KeyOnDisk(key) => {
                let keyring = open_copy(&file.keyring_export, key).map_err(|e| match e {
                    KeysError::WrongUnlockKey => KeysError::Corrupt {
                        detail: "the stored key does not open the stored keyring".to_owned(),
                    },
                    e => e,
                })?;
                let cipher = Arc::new(KeyringCipher::new(open_copy(&file.keyring_export, key)?));
                State::Unlocked(Box::new(Unlocked {
                    autolock: false,
                    key: key.clone(),
                    keyring,
                    cipher,
                }))
            }
            KeyProtection::Autolock => {
                // Check the format now, so a damaged file is named at open, not at unlock.
                Keyring::from_exported(&file.keyring_export)
                    .map_err(|e| KeysError::from_secrets("reading the keyring", e))?;
                State::Locked { file }
            }
        };
        Ok(ManagerKeys {
            state,
            generation: 0,
        })
    }

    /// Unlocks locked keys with `key`. A wrong key is [`KeysError::WrongUnlockKey`] and the
    /// keys stay locked. On unlocked keys this only checks `key` (the current unlock key
    /// with autolock on; autolock off accepts no key but the stored one).
    pub fn unlock(&mut self, key: &UnlockKey) -> Result<(), KeysError> {
        let file = match &self.state {
            State::Unlocked(u) => {
                return if &u.key == key {
                    Ok(())
                } else {
                    Err(KeysError::WrongUnlockKey)
                };
            }
            State::Locked { file } => file,
        };
        let keyring = open_copy(&file.keyring_export, key)?;
        let cipher = Arc::new(KeyringCipher::new(open_copy(&file.keyring_export, key)?));
        self.state = State::Unlocked(Box::new(Unlocked {
            autolock: true,
            key: key.clone(),
            keyring,
            cipher,
        }));
        Ok(())
    }

    /// Whether the keys wait for the unlock key.
    pub fn is_locked(&self) -> bool {
        matches!(self.state, State::Locked { .. })
    }

    /// Whether autolock is on (locked keys are autolocked).
    pub fn autolock(&self) -> bool {
        match &self.state {
            State::Locked { .. } => true,
            State::Unlocked(u) => u.autolock,
        }
    }

    /// How many changes were committed since these keys were created or loaded.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn unlocked(&self) -> Result<&Unlocked, KeysError> {
        match &self.state {
            State::Unlocked(u) => Ok(u),
            State::Locked { .. } => Err(KeysError::Locked),
        }
    }

    /// The cipher to hand to the WAL and the snapshot store; [`KeysError::Locked`] until
    /// unlocked. Every call returns the same cipher, which follows committed changes.
    pub fn cipher(&self) -> Result<Arc<KeyringCipher>, KeysError> {
        Ok(self.unlocked()?.cipher.clone())
    }

    /// The unlock key, to show to the operator (`docker swarm unlock-key`):
    /// [`KeysError::AutolockOff`] when autolock is off (the key is internal then),
    /// [`KeysError::Locked`] before unlock.
    pub fn unlock_key(&self) -> Result<&UnlockKey, KeysError> {
        let u = self.unlocked()?;
        if !u.autolock {
            return Err(KeysError::AutolockOff);
        }
        Ok(&u.key)
    }

    /// The keys file as it stands (locked keys: as read).
    pub fn file(&self) -> Result<KeysFile, KeysError> {
        match &self.state {
            State::Locked { file } => Ok(file.clone()),
            State::Unlocked(u) => Ok(KeysFile {
                protection: protection(u.autolock, &u.key),
                keyring_export: export(&u.keyring)?,
            }),
        }
    }

    /// Plans a new unlock key (`docker swarm unlock-key --rotate`): the data encryption keys
    /// are re-wrapped under `new_key`; once committed the old key no longer opens the keys
    /// file. Needs autolock on ([`KeysError::AutolockOff`]) and unlocked keys.
    ///
    /// The key is given, not drawn here, so the caller can record it where the operator
    /// finds it (SwarmKit keeps it in the cluster object) before the change is committed.
    pub fn plan_unlock_key_rotation(&self, new_key: &UnlockKey) -> Result<KeysChange, KeysError> {
        let u = self.unlocked()?;
        if !u.autolock {
            return Err(KeysError::AutolockOff);
        }
        self.plan(u, true, new_key, false)
    }

    /// Plans turning autolock on with `key`: re-wrapped under it and a fresh data
    /// encryption key made active. [`KeysError::AutolockAlreadyOn`] if it is on.
    pub fn plan_enable_autolock(&self, key: &UnlockKey) -> Result<KeysChange, KeysError> {
        let u = self.unlocked()?;
        if u.autolock {
            return Err(KeysError::AutolockAlreadyOn);
        }
        self.plan(u, true, key, true)
    }

    /// Plans turning autolock off: re-wrapped under a fresh random key kept in the keys
    /// file. [`KeysError::AutolockOff`] if it is off.
    pub fn plan_disable_autolock(&self) -> Result<KeysChange, KeysError> {
        let u = self.unlocked()?;
        if !u.autolock {
            return Err(KeysError::AutolockOff);
        }
        let key =
            UnlockKey::generate().map_err(|e| KeysError::from_secrets("generating a key", e))?;
        self.plan(u, false, &key, false)
    }

    /// Plans whatever makes the keys match `desired`, the unlock key the cluster wants
    /// (SwarmKit keeps it in the cluster object and every manager follows it): `Some(key)`
    /// turns autolock on with it or rotates to it, `None` turns autolock off. `None` returned
    /// when the keys already match.
    pub fn plan_to_match(
        &self,
        desired: Option<&UnlockKey>,
    ) -> Result<Option<KeysChange>, KeysError> {
        let u = self.unlocked()?;
        match (u.autolock, desired) {
            (false, None) => Ok(None),
            (true, Some(key)) if &u.key == key => Ok(None),
            (true, Some(key)) => self.plan_unlock_key_rotation(key).map(Some),
            (false, Some(key)) => self.plan_enable_autolock(key).map(Some),
            (true, None) => self.plan_disable_autolock().map(Some),
        }
    }

    fn plan(
        &self,
        u: &Unlocked,
        autolock: bool,
        new_key: &UnlockKey,
        new_data_key: bool,
    ) -> Result<KeysChange, KeysError> {
        let mut keyring = open_copy(&export(&u.keyring)?, &u.key)?;
        keyring
            .rotate_unlock_key(new_key)
            .map_err(|e| KeysError::from_secrets("re-wrapping the keyring", e))?;
        if new_data_key {
            keyring
                .rotate_dek()
                .map_err(|e| KeysError::from_secrets("adding a data encryption key", e))?;
        }
        let keyring_export = export(&keyring)?;
        let cipher_keyring = if new_data_key {
            Some(open_copy(&keyring_export, new_key)?)
        } else {
            None
        };
        Ok(KeysChange {
            generation: self.generation,
            file: KeysFile {
                protection: protection(autolock, new_key),
                keyring_export,
            },
            autolock,
            key: new_key.clone(),
            keyring,
            cipher_keyring,
        })
    }

    /// Makes a planned change current; call it once the change's keys file is durable.
    /// [`KeysError::StaleChange`] if another change was committed since it was planned.
    pub fn commit(&mut self, change: KeysChange) -> Result<(), KeysError> {
        if change.generation != self.generation {
            return Err(KeysError::StaleChange {
                planned: change.generation,
                current: self.generation,
            });
        }
        let State::Unlocked(u) = &mut self.state else {
            return Err(KeysError::Locked);
        };
        if let Some(ring) = change.cipher_keyring {
            u.cipher.replace(ring);
        }
        u.autolock = change.autolock;
        u.key = change.key;
        u.keyring = change.keyring;
        self.generation += 1;
        Ok(())
    }
}

impl fmt::Debug for ManagerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManagerKeys")
            .field("locked", &self.is_locked())
            .field("autolock", &self.autolock())
            .field("generation", &self.generation)
            .finish()
    }
}
