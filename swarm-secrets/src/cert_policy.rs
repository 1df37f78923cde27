//! How node certificates are issued and when they are renewed.

use std::time::{Duration, SystemTime};

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Result, SecretsError};
use crate::limits::{
    DEFAULT_NODE_CERT_VALIDITY, MIN_NODE_CERT_VALIDITY, RENEWAL_END_PERMILLE,
    RENEWAL_START_PERMILLE, ROOT_CA_VALIDITY,
};

/// How node certificates are issued.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CertPolicy {
    node_cert_validity: Duration,
}

impl CertPolicy {
    /// A policy issuing certificates valid for `node_cert_validity`: at least
    /// [`MIN_NODE_CERT_VALIDITY`] (one hour) and at most [`ROOT_CA_VALIDITY`] (the root's
    /// lifetime, 20 years: a node certificate never needs to outlive its issuer, and the bound
    /// keeps every expiry the CA computes far inside what a certificate can carry). Outside
    /// that: [`SecretsError::InvalidInput`] naming `node certificate validity`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use swarm_secrets::{CertPolicy, limits::ROOT_CA_VALIDITY};
    /// assert!(CertPolicy::new(ROOT_CA_VALIDITY).is_ok());
    /// assert!(CertPolicy::new(ROOT_CA_VALIDITY + Duration::from_secs(1)).is_err());
    /// assert!(CertPolicy::new(Duration::MAX).is_err());
    /// ```
    pub fn new(node_cert_validity: Duration) -> Result<Self> {
        const FIELD: &str = "node certificate validity";
        if node_cert_validity < MIN_NODE_CERT_VALIDITY {
            return Err(SecretsError::invalid(
                FIELD,
                format!(
                    "{node_cert_validity:?} is below the minimum of {MIN_NODE_CERT_VALIDITY:?}"
                ),
            ));
        }
        if node_cert_validity > ROOT_CA_VALIDITY {
            return Err(SecretsError::invalid(
                FIELD,
                format!(
                    "{node_cert_validity:?} is above the root CA's lifetime of {ROOT_CA_VALIDITY:?}"
                ),
            ));
        }
        Ok(CertPolicy { node_cert_validity })
    }

    /// The node certificate lifetime.
    pub fn node_cert_validity(&self) -> Duration {
        self.node_cert_validity
    }
}

impl Default for CertPolicy {
    /// 90 days, like SwarmKit.
    fn default() -> Self {
        CertPolicy {
            node_cert_validity: DEFAULT_NODE_CERT_VALIDITY,
        }
    }
}

/// The renewal time at `fraction_permille` (clamped to 500..=800) of a certificate's lifetime.
/// Pure: [`crate::IssuedCertificate::renew_at`] and [`crate::NodeCredentials::renew_at`] draw the
/// fraction at random.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// let start = UNIX_EPOCH;
/// let end = start + Duration::from_secs(1000);
/// assert_eq!(swarm_secrets::renewal_time(start, end, 500), start + Duration::from_secs(500));
/// assert_eq!(swarm_secrets::renewal_time(start, end, 999), start + Duration::from_secs(800));
/// ```
pub fn renewal_time(
    not_before: SystemTime,
    not_after: SystemTime,
    fraction_permille: u64,
) -> SystemTime {
    let permille = fraction_permille.clamp(RENEWAL_START_PERMILLE, RENEWAL_END_PERMILLE);
    let lifetime = not_after
        .duration_since(not_before)
        .unwrap_or(Duration::ZERO);
    let millis = lifetime.as_millis().saturating_mul(u128::from(permille)) / 1000;
    not_before + Duration::from_millis(u64::try_from(millis).unwrap_or(u64::MAX))
}

/// A renewal time drawn uniformly in [50%, 80%] of the lifetime, at millisecond resolution.
pub(crate) fn renewal_time_random(
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<SystemTime> {
    let mut b = [0u8; 8];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(|_| SecretsError::Rng)?;
    let lifetime_ms = not_after
        .duration_since(not_before)
        .unwrap_or(Duration::ZERO)
        .as_millis();
    let start = lifetime_ms * u128::from(RENEWAL_START_PERMILLE) / 1000;
    let span = lifetime_ms * u128::from(RENEWAL_END_PERMILLE - RENEWAL_START_PERMILLE) / 1000;
    let offset = if span == 0 {
        0
    } else {
        u128::from(u64::from_le_bytes(b)) % (span + 1)
    };
    let ms = u64::try_from(start + offset).unwrap_or(u64::MAX);
    Ok(not_before + Duration::from_millis(ms))
}
