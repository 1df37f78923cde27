//! Bounds on the stack operations' waits.

/// `stack rm` tries to remove each network of the stack at most this many times while the
/// tasks of the services it just removed still hold addresses on it (their nodes stop them
/// first). With [`NETWORK_REMOVE_RETRY_MS`] the worst case is 30 s per network, after which
/// the refusal is reported, naming the network and the tasks.
pub const MAX_NETWORK_REMOVE_ATTEMPTS: u32 = 300;

/// Wait between two attempts to remove a network still in use by stopping tasks.
pub const NETWORK_REMOVE_RETRY_MS: u64 = 100;
