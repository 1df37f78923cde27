//! Rules for a node spec.

use crate::model::{Node, NodeSpec};
use crate::validate::Validate;
use crate::validate::error::{ObjectKind, Report, ValidationErrors};
use crate::validate::names::{check_dns_name, check_labels};

impl Validate for NodeSpec {
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut r = Report::new(ObjectKind::Node, &self.name);
        check_spec(&mut r, self);
        r.finish()
    }
}

impl Validate for Node {
    /// Checks the spec, naming the node by [`Node::display_name`].
    fn validate(&self) -> Result<(), ValidationErrors> {
        let mut r = Report::new(ObjectKind::Node, self.display_name());
        check_spec(&mut r, &self.spec);
        r.finish()
    }
}

fn check_spec(r: &mut Report, spec: &NodeSpec) {
    // A name is optional; when given it must be a host name.
    if !spec.name.is_empty() {
        check_dns_name(r, "name", &spec.name);
    }
    check_labels(r, "labels", &spec.labels);
}
