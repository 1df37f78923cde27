//! The labels docker puts on a stack's objects.

use std::collections::BTreeMap;

/// The label naming the stack an object belongs to, on every service, container, network,
/// secret and config a stack creates (docker's `com.docker.stack.namespace`).
pub const NAMESPACE_LABEL: &str = "com.docker.stack.namespace";

/// The service label holding the image as the compose file names it (docker's
/// `com.docker.stack.image`).
pub const IMAGE_LABEL: &str = "com.docker.stack.image";

/// `labels` with the namespace label of `stack` added.
pub(crate) fn with_namespace(
    labels: &BTreeMap<String, String>,
    stack: &str,
) -> BTreeMap<String, String> {
    let mut out = labels.clone();
    out.insert(NAMESPACE_LABEL.to_owned(), stack.to_owned());
    out
}

/// `<stack>_<name>`, the name a stack gives what it creates.
pub(crate) fn scoped(stack: &str, name: &str) -> String {
    format!("{stack}_{name}")
}

/// Whether a network name is one a service can carry aliases on and that must exist in the
/// cluster: not one of the engine's predefined local networks (docker's `IsUserDefined`).
pub(crate) fn is_user_defined_network(name: &str) -> bool {
    !matches!(name, "default" | "bridge" | "host" | "none") && !name.starts_with("container:")
}
