//! How `stack deploy` treats what the files no longer name.

/// Options of [`deploy`](crate::stack::deploy), as `docker stack deploy` takes them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeployOptions {
    /// `--prune`: remove the stack's services that the files no longer name (never its
    /// networks, secrets or configs, as docker).
    pub prune: bool,
}

impl DeployOptions {
    /// The options with `--prune` set to `prune`.
    pub fn with_prune(mut self, prune: bool) -> Self {
        self.prune = prune;
        self
    }
}
