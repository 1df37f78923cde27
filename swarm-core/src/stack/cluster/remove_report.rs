//! What `stack rm` removed.

use crate::stack::cluster::stack_step::StackStep;

/// The outcome of [`remove`](crate::stack::remove): the objects removed, services first, then
/// secrets, configs and networks, each kind in name order (docker's order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RemoveReport {
    /// The stack.
    pub stack: String,
    /// What was removed.
    pub steps: Vec<StackStep>,
}

impl RemoveReport {
    /// What `docker stack rm` prints: `Removing service nerd-dinner_web`, … one line each, or
    /// `Nothing found in stack: <stack>` when the stack had nothing.
    pub fn render(&self) -> String {
        if self.steps.is_empty() {
            return format!("Nothing found in stack: {}\n", self.stack);
        }
        let mut out = String::new();
        for step in &self.steps {
            out.push_str(&step.to_string());
            out.push('\n');
        }
        out
    }
}
