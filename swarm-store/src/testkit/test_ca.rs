//! The test CA: a certificate authority made with rcgen that issues member certificates and
//! the rustls configurations of the TCP transport.

use crate::transport::MemberId;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::fmt::Display;
use std::sync::Arc;

/// A member's certificate chain and private key.
pub type TestIdentity = (Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

/// Panics naming the setup step that failed: the test CA is test support, and a test cannot go
/// on without its certificates.
fn setup<T, E: Display>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => panic!("test CA: {what}: {e}"),
    }
}

/// A certificate authority for tests: issues member certificates (CN = the member id, subject
/// alternative names `127.0.0.1` and `member-<id>`, for server and client authentication),
/// node certificates shaped as swarm-secrets' cluster CA issues them
/// ([`node_identity`](Self::node_identity): CN = node id, OU = role, O = cluster, DNS names
/// node id and role) and builds the mutual-TLS configurations the TCP transport takes.
///
/// The configurations use the process's rustls crypto provider (ring, the one this crate's
/// rustls enables).
///
/// # Panics
/// Every method panics when a certificate or configuration cannot be made: it is meant to run
/// inside a test.
///
/// ```
/// use swarm_store::testkit::TestCa;
/// use swarm_store::transport::MemberId;
/// use swarm_store::testkit::member_id_from_common_name;
/// let ca = TestCa::new("example CA");
/// let (chain, _key) = ca.identity(MemberId(3));
/// assert_eq!(member_id_from_common_name(&chain[0]).unwrap(), MemberId(3));
/// let _server = ca.server_config(MemberId(3));
/// let _client = ca.client_config(MemberId(4));
/// ```
pub struct TestCa {
    cert: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for TestCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCa").finish_non_exhaustive()
    }
}

impl TestCa {
    /// A new self-signed CA whose common name is `name`.
    pub fn new(name: &str) -> Self {
        let mut params = setup(
            CertificateParams::new(Vec::<String>::new()),
            "CA parameters",
        );
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = setup(KeyPair::generate(), "CA key");
        let cert = setup(params.self_signed(&key), "CA certificate");
        TestCa {
            cert: cert.der().clone(),
            issuer: Issuer::new(params, key),
        }
    }

    /// The CA's own (self-signed) certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        &self.cert
    }

    /// A new certificate and key for member `id`, issued by this CA.
    pub fn identity(&self, id: MemberId) -> TestIdentity {
        let mut params = setup(
            CertificateParams::new(vec!["127.0.0.1".to_owned(), format!("member-{}", id.0)]),
            "member parameters",
        );
        params
            .distinguished_name
            .push(DnType::CommonName, id.0.to_string());
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = setup(KeyPair::generate(), "member key");
        let cert = setup(params.signed_by(&key, &self.issuer), "member certificate");
        (
            vec![cert.der().clone()],
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }

    /// A new certificate and key for node `node_id` with role `role_ou` (the certificate's
    /// organizational unit, e.g. `swarm-manager`), shaped as swarm-secrets' cluster CA issues
    /// them: CN = node id, OU = role, O = `test-cluster`, DNS names = node id and role; no IP
    /// address.
    pub fn node_identity(&self, node_id: &str, role_ou: &str) -> TestIdentity {
        let mut params = setup(
            CertificateParams::new(vec![node_id.to_owned(), role_ou.to_owned()]),
            "node parameters",
        );
        params.distinguished_name.push(DnType::CommonName, node_id);
        params
            .distinguished_name
            .push(DnType::OrganizationalUnitName, role_ou);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "test-cluster");
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = setup(KeyPair::generate(), "node key");
        let cert = setup(params.signed_by(&key, &self.issuer), "node certificate");
        (
            vec![cert.der().clone()],
            PrivatePkcs8KeyDer::from(key.serialize_der()).into(),
        )
    }

    /// The root store trusting this CA.
    pub fn roots(&self) -> Arc<RootCertStore> {
        let mut roots = RootCertStore::empty();
        setup(roots.add(self.cert.clone()), "root store");
        Arc::new(roots)
    }

    /// The server side of member `id`: presents a certificate from this CA and requires a
    /// client certificate from this CA.
    pub fn server_config(&self, id: MemberId) -> Arc<ServerConfig> {
        self.server_config_for(self.identity(id))
    }

    /// The server side presenting `identity` (from this CA) and requiring a client
    /// certificate from this CA.
    pub fn server_config_for(&self, identity: TestIdentity) -> Arc<ServerConfig> {
        let verifier = setup(
            WebPkiClientVerifier::builder(self.roots()).build(),
            "client verifier",
        );
        let (chain, key) = identity;
        Arc::new(setup(
            ServerConfig::builder()
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key),
            "server configuration",
        ))
    }

    /// The server side of member `id` with optional client authentication: a client
    /// certificate from this CA is verified when presented, and a client without one completes
    /// the handshake (what a join endpoint needs; see
    /// [`TcpConfig::anonymous_peer`](crate::transport::tcp::TcpConfig::anonymous_peer)).
    pub fn server_config_accepting_anonymous(&self, id: MemberId) -> Arc<ServerConfig> {
        let verifier = setup(
            WebPkiClientVerifier::builder(self.roots())
                .allow_unauthenticated()
                .build(),
            "client verifier",
        );
        let (chain, key) = self.identity(id);
        Arc::new(setup(
            ServerConfig::builder()
                .with_client_cert_verifier(verifier)
                .with_single_cert(chain, key),
            "server configuration",
        ))
    }

    /// A client side presenting no certificate, trusting servers with a certificate from this
    /// CA (a joining node's connection).
    pub fn anonymous_client_config(&self) -> Arc<ClientConfig> {
        Arc::new(
            ClientConfig::builder()
                .with_root_certificates(self.roots())
                .with_no_client_auth(),
        )
    }

    /// The client side of member `id`: presents a certificate from this CA and trusts servers
    /// with a certificate from this CA.
    pub fn client_config(&self, id: MemberId) -> Arc<ClientConfig> {
        self.client_config_trusting(id, self)
    }

    /// The client side of member `id` with a certificate from this CA, trusting servers with a
    /// certificate from `trust` (another CA: a client the servers must refuse).
    pub fn client_config_trusting(&self, id: MemberId, trust: &TestCa) -> Arc<ClientConfig> {
        self.client_config_for(self.identity(id), trust)
    }

    /// The client side presenting `identity`, trusting servers with a certificate from
    /// `trust`.
    pub fn client_config_for(&self, identity: TestIdentity, trust: &TestCa) -> Arc<ClientConfig> {
        let (chain, key) = identity;
        Arc::new(setup(
            ClientConfig::builder()
                .with_root_certificates(trust.roots())
                .with_client_auth_cert(chain, key),
            "client configuration",
        ))
    }
}
