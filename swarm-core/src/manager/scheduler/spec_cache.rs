//! The engine's task specs of one round, converted once per service and spec version.

use crate::manager::scheduler::engine_mirror::EngineMirror;
use crate::manager::scheduler::node_sync::TIE_BREAK_LABEL;
use crate::model::{ServiceId, Task};
use std::collections::HashMap;
use std::sync::Arc;
use swarm_sched::{PreferenceKey, SpreadPreference};

/// A spec for the engine, or the reason (rendered) why tasks of it cannot be placed.
pub(super) type SpecResult = Result<Arc<swarm_sched::TaskSpec>, String>;

/// Converted specs by (service, spec version, with the tie-breaking level).
#[derive(Default)]
pub(super) struct SpecCache {
    specs: HashMap<(ServiceId, u64, bool), SpecResult>,
}

impl SpecCache {
    /// The engine's spec for tasks of `task`'s service and spec version (the first such
    /// task's template, as `swarm_sched::group_pending` takes it), with the service's host
    /// ports. With `tie_break`, a spec without spread preferences gets the scheduler's
    /// tie-breaking level (see the module docs).
    pub(super) fn get(
        &mut self,
        task: &Task,
        mirror: &EngineMirror,
        tie_break: bool,
    ) -> SpecResult {
        let key = (task.service_id.clone(), task.spec_version, tie_break);
        self.specs
            .entry(key)
            .or_insert_with(|| {
                let mut spec = swarm_sched::TaskSpec::try_from(&task.spec)
                    .map_err(|e| format!("invalid task spec: {e}"))?;
                spec.host_ports = mirror.host_ports(&task.service_id).to_vec();
                if tie_break && spec.preferences.is_empty() {
                    spec.preferences.push(SpreadPreference {
                        key: PreferenceKey::NodeLabel(TIE_BREAK_LABEL.to_owned()),
                    });
                }
                Ok(Arc::new(spec))
            })
            .clone()
    }
}
