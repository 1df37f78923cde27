//! What the cluster holds, read through the control API.

use crate::manager::control::ServiceFilter;
use crate::model::{Secret, SecretSpec};
use crate::node::{Control, NodeError};
use crate::stack::plan::existing_stack::ExistingStack;

impl ExistingStack {
    /// Every service, network, secret and config of the cluster, read through `control` (four
    /// list calls). Secrets come without their value (the control API never returns one):
    /// their `data` is empty, so [`plan_deploy`](crate::stack::plan_deploy) would see every
    /// stack secret that exists as changed; [`deploy`](crate::stack::deploy) has the managers
    /// compare the values instead.
    pub async fn from_control(control: &Control) -> Result<ExistingStack, NodeError> {
        let services = control.services(&ServiceFilter::default()).await?;
        let networks = control.networks().await?;
        let secrets = control
            .secrets()
            .await?
            .into_iter()
            .map(|info| {
                let mut spec = SecretSpec::new(info.name, Vec::new());
                spec.labels = info.labels;
                Secret {
                    id: info.id,
                    meta: info.meta,
                    spec,
                }
            })
            .collect();
        let configs = control.configs().await?;
        Ok(ExistingStack {
            services,
            networks,
            secrets,
            configs,
        })
    }
}
