//! Rules for a task template as a whole.

use crate::model::ServiceMode;
use crate::model::TaskSpec;
use crate::validate::container::check_container;
use crate::validate::duration::check_duration;
use crate::validate::error::{Report, Rule};
use crate::validate::names::check_dns_name;
use crate::validate::placement::check_placement;
use crate::validate::resources::check_requirements;

pub(crate) fn check_task_spec(
    r: &mut Report,
    path: &str,
    t: &TaskSpec,
    mode: Option<&ServiceMode>,
) {
    check_container(r, &format!("{path}.container"), &t.container);
    check_requirements(r, &format!("{path}.resources"), &t.resources);
    // The restart policy's fields are unsigned: only their size is bounded.
    let restart = format!("{path}.restart_policy");
    check_duration(r, &format!("{restart}.delay"), t.restart_policy.delay);
    check_duration(r, &format!("{restart}.window"), t.restart_policy.window);
    check_placement(r, &format!("{path}.placement"), &t.placement, mode);
    for (i, net) in t.networks.iter().enumerate() {
        let field = format!("{path}.networks[{i}]");
        if net.target.is_empty() {
            r.push(format!("{field}.target"), Rule::Empty);
        } else if let Some(first) = t.networks[..i].iter().position(|n| n.target == net.target) {
            r.push(
                format!("{field}.target"),
                Rule::DuplicateNetwork {
                    target: net.target.clone(),
                    first,
                },
            );
        }
        for (j, alias) in net.aliases.iter().enumerate() {
            check_dns_name(r, &format!("{field}.aliases[{j}]"), alias);
        }
    }
}
