//! A [`ComposeProject`] to the cluster objects of one stack.

use crate::model::{ConfigData, ConfigSpec, NetworkSpec, SecretSpec};
use crate::stack::compose::project::ComposeProject;
use crate::stack::compose::service_options::DEPRECATED_SERVICE_OPTIONS;
use crate::stack::error::StackError;
use crate::stack::objects::external_refs::ExternalRefs;
use crate::stack::objects::labels::{scoped, with_namespace};
use crate::stack::objects::service_spec::{DEFAULT_NETWORK, ServiceConverter};
use crate::stack::objects::stack_objects::StackObjects;
use std::collections::BTreeSet;

/// Converts a loaded project into the objects of stack `stack`, as `docker stack deploy`
/// does before it calls the engine: services `<stack>_<key>` (labelled
/// `com.docker.stack.namespace=<stack>` and `com.docker.stack.image=<image>`, containers with
/// the namespace label), the networks they use (`<stack>_default` for services that name
/// none; overlay unless a driver is given), the secrets and configs declared with a `file:`,
/// and the external networks, secrets and configs by name. Errors name the file, the service
/// and the field (`undefined secret "x"`, `no image specified`, replicas in global mode, …).
///
/// ```
/// use std::collections::BTreeMap;
/// use std::path::Path;
/// use swarm_core::model::ServiceMode;
/// use swarm_core::stack::{ComposeFile, NAMESPACE_LABEL, convert, load};
///
/// let yaml = "services:\n  web:\n    image: nginx:1.27\n    deploy:\n      replicas: 2\n";
/// let project = load(&[ComposeFile::new("stack.yml", yaml)], &BTreeMap::new(), &|p: &Path| std::fs::read(p))?;
/// let objects = convert(&project, "demo")?;
/// let web = objects.service("web").unwrap();
/// assert_eq!(web.name, "demo_web");
/// assert_eq!(web.mode, ServiceMode::Replicated { replicas: 2 });
/// assert_eq!(web.labels[NAMESPACE_LABEL], "demo");
/// assert_eq!(objects.networks[0].name, "demo_default");
/// # Ok::<(), swarm_core::stack::StackError>(())
/// ```
pub fn convert(project: &ComposeProject, stack: &str) -> Result<StackObjects, StackError> {
    let trimmed = stack.trim_matches(|c: char| c.is_whitespace() || c == '"' || c == '\'');
    if trimmed.is_empty() {
        return Err(StackError::InvalidStackName(stack.to_owned()));
    }
    let mut external = ExternalRefs::default();
    let mut services = Vec::with_capacity(project.services.len());
    {
        let mut converter = ServiceConverter {
            project,
            stack,
            external: &mut external,
        };
        for service in project.services.values() {
            services.push(converter.convert(service)?);
        }
    }
    services.sort_by(|a, b| a.name.cmp(&b.name));

    let used: BTreeSet<&str> = project
        .services
        .values()
        .flat_map(|s| {
            if s.networks.is_empty() {
                vec![DEFAULT_NETWORK]
            } else {
                s.networks.keys().map(String::as_str).collect()
            }
        })
        .collect();
    let mut networks = Vec::new();
    for key in used {
        let decl = project.networks.get(key).cloned().unwrap_or_default();
        if decl.external {
            continue;
        }
        let mut spec = NetworkSpec::new(decl.name.clone().unwrap_or_else(|| scoped(stack, key)));
        spec.labels = with_namespace(&decl.labels, stack);
        if let Some(driver) = decl.driver.filter(|d| !d.is_empty()) {
            spec.driver = driver;
        }
        spec.driver_options = decl.driver_opts;
        if let Some(ipam) = decl.ipam {
            spec.ipam = ipam;
        }
        spec.internal = decl.internal;
        spec.attachable = decl.attachable;
        networks.push(spec);
    }
    networks.sort_by(|a, b| a.name.cmp(&b.name));

    let mut secrets = Vec::new();
    for (key, decl) in project.secrets.iter().filter(|(_, d)| !d.external) {
        let mut spec = SecretSpec::new(
            decl.name.clone().unwrap_or_else(|| scoped(stack, key)),
            decl.data.clone().unwrap_or_default(),
        );
        spec.labels = with_namespace(&decl.labels, stack);
        secrets.push(spec);
    }
    secrets.sort_by(|a, b| a.name.cmp(&b.name));

    let mut configs = Vec::new();
    for (key, decl) in project.configs.iter().filter(|(_, d)| !d.external) {
        let data = decl
            .data
            .as_ref()
            .map(|d| ConfigData::new(d.expose().to_vec()))
            .unwrap_or_default();
        let mut spec = ConfigSpec::new(
            decl.name.clone().unwrap_or_else(|| scoped(stack, key)),
            data,
        );
        spec.labels = with_namespace(&decl.labels, stack);
        configs.push(spec);
    }
    configs.sort_by(|a, b| a.name.cmp(&b.name));

    let mut warnings = project.load_warnings.clone();
    if !project.ignored_options.is_empty() {
        let names: Vec<&str> = project.ignored_options.iter().map(String::as_str).collect();
        warnings.push(format!(
            "Ignoring unsupported options: {}",
            names.join(", ")
        ));
    }
    if !project.deprecated_options.is_empty() {
        let explained: Vec<String> = DEPRECATED_SERVICE_OPTIONS
            .iter()
            .filter(|(name, _)| project.deprecated_options.contains(*name))
            .map(|(name, why)| format!("{name}: {why}"))
            .collect();
        warnings.push(format!(
            "Ignoring deprecated options:\n\n{}",
            explained.join("\n\n")
        ));
    }

    Ok(StackObjects {
        stack: stack.to_owned(),
        services,
        networks,
        secrets,
        configs,
        external,
        warnings,
        not_supported: project.not_supported.iter().cloned().collect(),
    })
}
