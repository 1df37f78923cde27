//! The cluster root CA: issues node certificates from CSRs.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use rcgen::{
    BasicConstraints, CertificateParams, CertificateSigningRequestParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, SanType, SerialNumber,
};
use ring::rand::{SecureRandom, SystemRandom};
use rustls_pki_types::{CertificateDer, CertificateSigningRequestDer, PrivatePkcs8KeyDer};
use zeroize::Zeroizing;

use crate::ca_digest::CaDigest;
use crate::cert_info::{NodeCertInfo, parse_x509};
use crate::cert_policy::{CertPolicy, renewal_time_random};
use crate::error::{Result, SecretsError};
use crate::join_token::JoinToken;
use crate::join_tokens::JoinTokens;
use crate::limits::{CERT_BACKDATE, MAX_CSR_BYTES, ROOT_CA_VALIDITY};
use crate::node_id::{ClusterId, NodeId, Role};

/// Common name of the cluster root CA, as in SwarmKit.
const ROOT_CA_CN: &str = "swarm-ca";
const SERIAL_BYTES: usize = 16;

/// A certificate the CA issued, with what it says and when to renew it.
#[derive(Clone, Debug)]
pub struct IssuedCertificate {
    /// The certificate (DER).
    pub cert_der: CertificateDer<'static>,
    /// Node id, role, cluster and validity.
    pub info: NodeCertInfo,
    /// When the node should ask for a new one (50%..80% of the lifetime).
    pub renew_at: SystemTime,
}

/// The last second an X.509 time can name (9999-12-31T23:59:59Z, RFC 5280's GeneralizedTime
/// limit), as seconds since the Unix epoch.
const MAX_X509_UNIX_SECS: u64 = 253_402_300_799;

/// One validity bound as a duration since the epoch, within what a certificate can carry
/// (1970 to the end of year 9999); `field` names the bound in the error.
fn since_epoch(field: &'static str, t: SystemTime) -> Result<std::time::Duration> {
    let since = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| SecretsError::invalid(field, "before 1970"))?;
    if since.as_secs() > MAX_X509_UNIX_SECS {
        return Err(SecretsError::invalid(
            field,
            format!(
                "{} s after 1970 is past the end of year 9999, the last time a certificate can carry",
                since.as_secs()
            ),
        ));
    }
    Ok(since)
}

/// Sets a certificate's validity from `SystemTime`s (rcgen takes `time::OffsetDateTime`, built
/// here from the epoch so this crate needs no direct dependency on `time`). Both bounds are
/// checked against the X.509 range first, so the date arithmetic cannot overflow.
fn set_validity(
    params: &mut CertificateParams,
    not_before: SystemTime,
    not_after: SystemTime,
) -> Result<()> {
    let not_before = since_epoch("not_before", not_before)?;
    let not_after = since_epoch("not_after", not_after)?;
    params.not_before = rcgen::date_time_ymd(1970, 1, 1) + not_before;
    params.not_after = rcgen::date_time_ymd(1970, 1, 1) + not_after;
    Ok(())
}

fn random_serial(rng: &SystemRandom) -> Result<SerialNumber> {
    let mut s = [0u8; SERIAL_BYTES];
    rng.fill(&mut s).map_err(|_| SecretsError::Rng)?;
    s[0] &= 0x7f; // positive
    s[0] |= 0x01; // no leading zero byte: a full-length serial
    Ok(SerialNumber::from_slice(&s))
}

/// The cluster root CA (ECDSA P-256). Issues node certificates with CN = node id,
/// OU = role (`swarm-manager`/`swarm-worker`), O = cluster id, DNS names = node id and role,
/// for both TLS client and server use.
///
/// ```
/// use swarm_secrets::{CertPolicy, ClusterCa, ClusterId, NodeCredentials, NodeId, NodeKey, Role};
/// let ca = ClusterCa::generate(ClusterId::new("cluster-1")?, CertPolicy::default())?;
/// let key = NodeKey::generate()?;
/// let issued = ca.issue(&key.csr_der()?, &NodeId::new("node-1")?, Role::Worker)?;
/// assert_eq!(issued.info.role, Role::Worker);
/// let creds = NodeCredentials::new(&key, &issued.cert_der, ca.cert_der())?;
/// assert_eq!(creds.info().node_id.as_str(), "node-1");
/// # Ok::<(), swarm_secrets::SecretsError>(())
/// ```
pub struct ClusterCa {
    cluster_id: ClusterId,
    cert_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
    policy: CertPolicy,
    rng: SystemRandom,
}

impl ClusterCa {
    /// A new self-signed root CA for `cluster_id`, valid for 20 years.
    pub fn generate(cluster_id: ClusterId, policy: CertPolicy) -> Result<Self> {
        let rng = SystemRandom::new();
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, ROOT_CA_CN);
        dn.push(DnType::OrganizationName, cluster_id.as_str());
        params.distinguished_name = dn;
        // Path length 0: this CA signs node certificates only, never another CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = SystemTime::now();
        let not_before = now
            .checked_sub(CERT_BACKDATE)
            .ok_or_else(|| SecretsError::invalid("not_before", "the clock is before 1970"))?;
        let not_after = now
            .checked_add(ROOT_CA_VALIDITY)
            .ok_or_else(|| SecretsError::invalid("not_after", "past the clock's range"))?;
        set_validity(&mut params, not_before, not_after)?;
        params.serial_number = Some(random_serial(&rng)?);
        let cert = params.self_signed(&key)?;
        let cert_der = cert.der().clone();
        Ok(ClusterCa {
            cluster_id,
            cert_der,
            issuer: Issuer::new(params, key),
            policy,
            rng,
        })
    }

    /// Restores a CA from its certificate and PKCS#8 private key (from
    /// [`ClusterCa::key_pkcs8_der`]); checks that they belong together.
    pub fn from_parts(
        cluster_id: ClusterId,
        cert_der: &[u8],
        key_pkcs8_der: &[u8],
        policy: CertPolicy,
    ) -> Result<Self> {
        let cert = parse_x509(cert_der)?;
        if !cert.is_ca() {
            return Err(SecretsError::Certificate("not a CA certificate".into()));
        }
        let key = KeyPair::from_pkcs8_der_and_sign_algo(
            &PrivatePkcs8KeyDer::from(key_pkcs8_der),
            &PKCS_ECDSA_P256_SHA256,
        )?;
        if cert.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
            return Err(SecretsError::Certificate(
                "CA private key does not match the CA certificate".into(),
            ));
        }
        let der = CertificateDer::from(cert_der.to_vec());
        let issuer = Issuer::from_ca_cert_der(&der, key)?;
        Ok(ClusterCa {
            cluster_id,
            cert_der: der,
            issuer,
            policy,
            rng: SystemRandom::new(),
        })
    }

    /// The root certificate (DER), what nodes trust.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The CA private key as PKCS#8 DER, to persist under a [`crate::Keyring`].
    pub fn key_pkcs8_der(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.issuer.key().serialize_der())
    }

    /// The digest join tokens pin.
    pub fn digest(&self) -> CaDigest {
        CaDigest::of_certificate(&self.cert_der)
    }

    /// The cluster this CA serves.
    pub fn cluster_id(&self) -> &ClusterId {
        &self.cluster_id
    }

    /// The issuing policy.
    pub fn policy(&self) -> CertPolicy {
        self.policy
    }

    /// Issues a certificate for `node_id` with `role` from a CSR, valid from now (backdated by
    /// one hour for clock skew) for the policy's lifetime. The caller has authorised the
    /// request: use [`ClusterCa::issue_for_join`] for a node presenting a join token, and this
    /// for a renewal or a role change of an authenticated node (the new role takes effect
    /// with the new certificate).
    pub fn issue(&self, csr_der: &[u8], node_id: &NodeId, role: Role) -> Result<IssuedCertificate> {
        let now = SystemTime::now();
        let not_before = now
            .checked_sub(CERT_BACKDATE)
            .ok_or_else(|| SecretsError::invalid("not_before", "the clock is before 1970"))?;
        let not_after = now
            .checked_add(self.policy.node_cert_validity())
            .ok_or_else(|| SecretsError::invalid("not_after", "past the clock's range"))?;
        self.issue_with_validity(csr_der, node_id, role, not_before, not_after)
    }

    /// Checks `token` against `tokens` (constant time, current secrets only, this CA's
    /// digest) and issues a certificate with the role the token grants.
    pub fn issue_for_join(
        &self,
        tokens: &JoinTokens,
        token: &JoinToken,
        csr_der: &[u8],
        node_id: &NodeId,
    ) -> Result<IssuedCertificate> {
        if tokens.ca_digest() != self.digest() {
            return Err(SecretsError::TokenRejected(
                "the cluster's tokens pin another CA than this one",
            ));
        }
        let role = tokens.verify(token)?;
        self.issue(csr_der, node_id, role)
    }

    /// Renews the certificate of an authenticated node (its identity from the mutual-TLS
    /// connection, see [`crate::tls::peer_identity`]) with the role the cluster's state gives it
    /// now: the same role for a renewal, the new one after a promotion or demotion.
    pub fn renew(
        &self,
        peer: &crate::tls::PeerIdentity,
        csr_der: &[u8],
        role: Role,
    ) -> Result<IssuedCertificate> {
        if peer.cluster_id != self.cluster_id {
            return Err(SecretsError::Certificate(format!(
                "node {} belongs to cluster {}, not {}",
                peer.node_id, peer.cluster_id, self.cluster_id
            )));
        }
        self.issue(csr_der, &peer.node_id, role)
    }

    /// Issues with explicit validity bounds (for custom policies and tests of expiry).
    ///
    /// Refused with [`SecretsError::InvalidInput`] naming the bound: `not_after` not after
    /// `not_before`, a lifetime longer than the root's ([`ROOT_CA_VALIDITY`], plus the
    /// one-hour [`CERT_BACKDATE`] [`ClusterCa::issue`] adds), or a bound
    /// outside 1970 to the end of year 9999 (what an X.509 time can carry).
    pub fn issue_with_validity(
        &self,
        csr_der: &[u8],
        node_id: &NodeId,
        role: Role,
        not_before: SystemTime,
        not_after: SystemTime,
    ) -> Result<IssuedCertificate> {
        let lifetime = not_after.duration_since(not_before).map_err(|_| {
            SecretsError::invalid("certificate validity", "not_after must be after not_before")
        })?;
        if lifetime.is_zero() {
            return Err(SecretsError::invalid(
                "certificate validity",
                "not_after must be after not_before",
            ));
        }
        // The backdate for clock skew comes on top of the policy's lifetime.
        let longest = ROOT_CA_VALIDITY + CERT_BACKDATE;
        if lifetime > longest {
            return Err(SecretsError::invalid(
                "not_after",
                format!(
                    "a lifetime of {lifetime:?} is above the root CA's lifetime plus the clock-skew backdate, {longest:?}"
                ),
            ));
        }
        if csr_der.len() > MAX_CSR_BYTES {
            return Err(SecretsError::TooLarge {
                what: "certificate signing request",
                len_bytes: csr_der.len(),
                limit_bytes: MAX_CSR_BYTES,
            });
        }
        let csr =
            CertificateSigningRequestParams::from_der(&CertificateSigningRequestDer::from(csr_der))
                .map_err(|e| SecretsError::CsrRejected(format!("{e}")))?;
        if csr.public_key.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            return Err(SecretsError::CsrRejected(
                "key must be ECDSA P-256".to_string(),
            ));
        }
        // The requested subject and extensions are ignored: the CA decides the identity.
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, node_id.as_str());
        dn.push(DnType::OrganizationalUnitName, role.as_ou());
        dn.push(DnType::OrganizationName, self.cluster_id.as_str());
        params.distinguished_name = dn;
        params.subject_alt_names = vec![
            SanType::DnsName(node_id.as_str().try_into()?),
            SanType::DnsName(role.as_ou().try_into()?),
        ];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, not_before, not_after)?;
        params.serial_number = Some(random_serial(&self.rng)?);
        let cert = params.signed_by(&csr.public_key, &self.issuer)?;
        let cert_der = cert.der().clone();
        let info = NodeCertInfo::parse(&cert_der)?;
        let renew_at = renewal_time_random(info.not_before, info.not_after)?;
        Ok(IssuedCertificate {
            cert_der,
            info,
            renew_at,
        })
    }
}

impl fmt::Debug for ClusterCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClusterCa")
            .field("cluster_id", &self.cluster_id)
            .field("digest", &self.digest())
            .field("policy", &self.policy)
            .field("key", &"[REDACTED]")
            .finish()
    }
}
