//! One line of `docker stack ls`.

use crate::manager::cli_table::render_table;

/// A stack as `docker stack ls` shows it: its name and how many services carry its namespace
/// label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StackSummary {
    /// The stack's name.
    pub name: String,
    /// Its services.
    pub services: usize,
}

/// Renders `stacks` as `docker stack ls` prints them: `NAME` and `SERVICES`, sorted by name.
///
/// ```
/// use swarm_core::stack::{StackSummary, render_stack_ls};
///
/// let stacks = [StackSummary { name: "nerd-dinner".into(), services: 10 }];
/// assert_eq!(
///     render_stack_ls(&stacks),
///     "NAME          SERVICES\nnerd-dinner   10\n"
/// );
/// ```
pub fn render_stack_ls(stacks: &[StackSummary]) -> String {
    let mut sorted: Vec<&StackSummary> = stacks.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut rows = vec![vec!["NAME".to_owned(), "SERVICES".to_owned()]];
    rows.extend(
        sorted
            .into_iter()
            .map(|s| vec![s.name.clone(), s.services.to_string()]),
    );
    render_table(&rows)
}
