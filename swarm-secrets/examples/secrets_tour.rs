//! A tour of swarm-secrets used alone: a keyring with autolock, sealing a secret at rest,
//! delivering it to one node, a join token, and issuing that node's certificate.
//!
//! Run with `cargo run -p swarm-mode-secrets --example secrets_tour`.

use swarm_secrets::tls::{self, ClusterTrust};
use swarm_secrets::{
    CertPolicy, ClusterCa, ClusterId, DeliveryBinding, JoinToken, JoinTokens, Keyring,
    NodeCredentials, NodeId, NodeKey, NodeSealKey, RevocationList, Role, SecretsError, UnlockKey,
    seal_for_node,
};

fn main() -> Result<(), SecretsError> {
    // 1. Autolock: the operator keeps the unlock key; the keyring is stored wrapped.
    let unlock_key = UnlockKey::generate()?;
    let keyring = Keyring::create(&unlock_key)?;
    println!(
        "unlock key (give it to the operator): {}",
        unlock_key.expose_human_readable().as_str()
    );

    // 2. Envelope encryption at rest, bound to the object id and version.
    let blob = keyring.seal(b"postgres://app:s3cr3t@db/app", b"secret/db-url@v1")?;
    println!(
        "sealed {} bytes under key {}: {blob:?}",
        blob.plaintext_len(),
        blob.key_id()
    );
    let stored_keyring = keyring.export()?;

    // After a restart the keyring is locked until the operator provides the key.
    let mut reloaded = Keyring::from_exported(&stored_keyring)?;
    match reloaded.open(&blob, b"secret/db-url@v1") {
        Err(SecretsError::Locked) => println!("restarted: keyring locked, as it should be"),
        other => println!("unexpected: {other:?}"),
    }
    if let Err(e) = reloaded.unlock(&UnlockKey::generate()?) {
        println!("a wrong key is refused: {e}");
    }
    reloaded.unlock(&UnlockKey::parse(&unlock_key.expose_human_readable())?)?;
    let plaintext = reloaded.open(&blob, b"secret/db-url@v1")?;
    println!("unlocked and opened: {plaintext:?} (Debug never shows the bytes)");

    // 3. The cluster CA and a join token for workers.
    let cluster = ClusterId::new("tour-cluster")?;
    let ca = ClusterCa::generate(cluster.clone(), CertPolicy::default())?;
    let mut tokens = JoinTokens::generate(ca.digest())?;
    let worker_token_text = tokens.token(Role::Worker).expose();
    println!("worker join token: {}", worker_token_text.as_str());

    // 4. A node joins: it checks the CA it downloaded against its token, then sends a CSR.
    let token = JoinToken::parse(&worker_token_text)?;
    token.verify_ca(ca.cert_der())?;
    let node_key = NodeKey::generate()?;
    let node_id = NodeId::new("worker-1")?;
    let issued = ca.issue_for_join(&tokens, &token, &node_key.csr_der()?, &node_id)?;
    println!(
        "issued certificate: CN={} OU={} O={}, renew at {:?}",
        issued.info.node_id, issued.info.role, issued.info.cluster_id, issued.renew_at
    );
    let creds = NodeCredentials::new(&node_key, &issued.cert_der, ca.cert_der())?;
    let trust = ClusterTrust::new(ca.cert_der(), cluster, RevocationList::new())?;
    let _client_config = tls::client_config(&creds, &trust)?;
    println!(
        "mutual-TLS client config ready for {}",
        creds.info().node_id
    );

    // Rotating the worker token: the old one stops working at once.
    tokens.rotate(Role::Worker)?;
    if let Err(e) = tokens.verify(&token) {
        println!("old token after rotation: {e}");
    }

    // 5. Deliver the secret to that node only, bound to the tasks that use it.
    let node_seal_key = NodeSealKey::generate()?;
    let binding = DeliveryBinding::new(node_id, ["task-1"], "secret/db-url@v1")?;
    let sealed = seal_for_node(
        &node_seal_key.public_key(),
        &binding,
        plaintext.expose_secret(),
    )?;
    let wire = sealed.to_bytes()?;
    println!("sealed delivery: {} bytes on the wire", wire.len());
    let received = swarm_secrets::SealedDelivery::from_bytes(&wire)?;
    let opened = node_seal_key.open(&received, &binding)?;
    println!("node opened {} bytes", opened.len());
    Ok(())
}
