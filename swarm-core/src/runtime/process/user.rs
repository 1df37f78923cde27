//! Resolving the `user` of a spec to numeric ids.

use crate::runtime::error::{LifecycleStep, RuntimeError};
use nix::unistd::{Gid, Group, Uid, User};
use std::path::PathBuf;

/// The identity a task runs as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskUser {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Home directory from the password database, if the user has an entry.
    pub home: Option<PathBuf>,
}

/// Resolves `user` as Docker does: `name`, `uid`, `name:group`, `uid:gid` (names looked up in
/// the password and group databases). A numeric uid without a password entry runs with gid 0.
pub fn resolve_user(user: &str) -> Result<TaskUser, RuntimeError> {
    let field = "container.user";
    let (u, g) = match user.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (user, None),
    };
    if u.is_empty() {
        return Err(RuntimeError::invalid_spec(field, "empty user name"));
    }
    let lookup_err = |what: &str, e: nix::Error| {
        RuntimeError::with_source(
            crate::runtime::ErrorKind::Temporary,
            LifecycleStep::Prepare,
            format!("looking up {what} `{user}`"),
            e,
        )
    };
    let (uid, mut gid, home) = if let Ok(n) = u.parse::<u32>() {
        match User::from_uid(Uid::from_raw(n)).map_err(|e| lookup_err("user", e))? {
            Some(entry) => (n, entry.gid.as_raw(), Some(entry.dir)),
            None => (n, 0, None),
        }
    } else {
        match User::from_name(u).map_err(|e| lookup_err("user", e))? {
            Some(entry) => (entry.uid.as_raw(), entry.gid.as_raw(), Some(entry.dir)),
            None => {
                return Err(RuntimeError::invalid_spec(
                    field,
                    format!("no user named `{u}` on this node"),
                ));
            }
        }
    };
    if let Some(g) = g {
        if g.is_empty() {
            return Err(RuntimeError::invalid_spec(field, "empty group name"));
        }
        gid = if let Ok(n) = g.parse::<u32>() {
            n
        } else {
            match Group::from_name(g).map_err(|e| lookup_err("group", e))? {
                Some(entry) => entry.gid.as_raw(),
                None => {
                    return Err(RuntimeError::invalid_spec(
                        field,
                        format!("no group named `{g}` on this node"),
                    ));
                }
            }
        };
    }
    Ok(TaskUser { uid, gid, home })
}

/// `true` when this process runs as root and may switch users and chown files.
pub fn is_root() -> bool {
    Uid::effective().is_root()
}

/// The effective ids of this process.
pub fn current_ids() -> (u32, u32) {
    (Uid::effective().as_raw(), Gid::effective().as_raw())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_and_named() {
        let root = resolve_user("root").unwrap();
        assert_eq!((root.uid, root.gid), (0, 0));
        assert_eq!(resolve_user("0:0").unwrap().uid, 0);
        let anon = resolve_user("54321").unwrap();
        assert_eq!((anon.uid, anon.gid), (54321, 0));
        assert_eq!(resolve_user("54321:777").unwrap().gid, 777);
        assert!(
            resolve_user("no-such-user-xyz")
                .unwrap_err()
                .to_string()
                .contains("container.user")
        );
        assert!(resolve_user(":0").is_err());
        assert!(resolve_user("0:").is_err());
    }
}
