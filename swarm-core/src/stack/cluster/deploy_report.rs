//! What `stack deploy` did.

use crate::stack::cluster::stack_step::StackStep;

/// The outcome of [`deploy`](crate::stack::deploy): docker's warnings, the objects created,
/// updated and pruned in the order it changed them, and the services it left alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeployReport {
    /// The stack.
    pub stack: String,
    /// What docker prints before it deploys (`Ignoring unsupported options: build`, the
    /// deprecation warnings), then one line per option the files set that this library does not
    /// apply yet (`<file>: <field>: not supported yet, not applied`).
    pub warnings: Vec<String>,
    /// Networks, secrets and configs created, then services created and updated in name order,
    /// then services pruned.
    pub steps: Vec<StackStep>,
    /// Services of the stack whose spec did not change (no task was touched), sorted.
    pub unchanged_services: Vec<String>,
}

impl DeployReport {
    /// What `docker stack deploy` prints: the warnings, then a line per step
    /// (`Creating network nerd-dinner_default`, `Creating service nerd-dinner_web`,
    /// `Updating service nerd-dinner_web (id: …)`, `Removing service …`), each ending in a
    /// newline.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.warnings {
            out.push_str(line);
            out.push('\n');
        }
        for step in &self.steps {
            out.push_str(&step.to_string());
            out.push('\n');
        }
        out
    }

    /// The names of the services this deploy updated, in order.
    pub fn updated_services(&self) -> Vec<&str> {
        self.steps
            .iter()
            .filter(|s| s.action == crate::stack::StackAction::Update)
            .map(|s| s.name.as_str())
            .collect()
    }
}
