use super::*;
use crate::model::{
    Mount, MountType, NodeDescription, NodeId, Platform, ServiceSpec, Task, TaskSpec,
};
use std::borrow::Cow;
use std::time::SystemTime;

fn service() -> ServiceSpec {
    let mut service = ServiceSpec::new("web", "nginx:1.27");
    service.labels.insert("tier".into(), "front".into());
    service
        .labels
        .insert("com.example.team".into(), "blue".into());
    service
}

fn task(slot: Option<u64>) -> Task {
    let mut task = Task::new(
        "t1".into(),
        "s1".into(),
        TaskSpec::default(),
        SystemTime::UNIX_EPOCH,
    );
    task.slot = slot;
    task
}

fn node() -> NodeDescription {
    NodeDescription {
        hostname: "node-a".into(),
        platform: Platform::new("linux", "arm64"),
        ..NodeDescription::default()
    }
}

fn replicated() -> TemplateContext {
    TemplateContext::new(
        &task(Some(3)),
        &service(),
        &NodeId::new("n1"),
        Some(&node()),
    )
}

fn global() -> TemplateContext {
    TemplateContext::new(&task(None), &service(), &NodeId::new("n1"), Some(&node()))
}

fn expand(ctx: &TemplateContext, text: &str) -> Result<String, TemplateError> {
    ctx.expand("container.hostname", text).map(Cow::into_owned)
}

fn ok(ctx: &TemplateContext, text: &str) -> String {
    match expand(ctx, text) {
        Ok(s) => s,
        Err(e) => panic!("{text:?} failed: {e}"),
    }
}

fn err(ctx: &TemplateContext, text: &str) -> TemplateError {
    match expand(ctx, text) {
        Ok(s) => panic!("{text:?} expanded to {s:?}, expected an error"),
        Err(e) => e,
    }
}

#[test]
fn each_placeholder_expands() {
    let ctx = replicated();
    let cases = [
        ("{{.Service.ID}}", "s1"),
        ("{{.Service.Name}}", "web"),
        (
            "{{.Service.Labels}}",
            "map[com.example.team:blue tier:front]",
        ),
        ("{{.Service.Labels.tier}}", "front"),
        ("{{.Node.ID}}", "n1"),
        ("{{.Node.Hostname}}", "node-a"),
        ("{{.Node.Platform.OS}}", "linux"),
        ("{{.Node.Platform.Architecture}}", "arm64"),
        ("{{.Node.Platform}}", "{arm64 linux}"),
        ("{{.Task.ID}}", "t1"),
        ("{{.Task.Name}}", "web.3.t1"),
        ("{{.Task.Slot}}", "3"),
    ];
    for (template, expected) in cases {
        assert_eq!(ok(&ctx, template), expected, "{template}");
    }
}

#[test]
fn docker_style_templates_expand_with_surrounding_text() {
    let ctx = replicated();
    assert_eq!(
        ok(&ctx, "{{.Node.Hostname}}-{{.Service.Name}}"),
        "node-a-web"
    );
    assert_eq!(
        ok(&ctx, "/data/{{.Service.Name}}/{{.Task.Slot}}"),
        "/data/web/3"
    );
    assert_eq!(ok(&ctx, "héllo-{{.Task.ID}}-ü"), "héllo-t1-ü");
    assert_eq!(ok(&ctx, "{{.Task.ID}}{{.Task.ID}}"), "t1t1");
}

#[test]
fn service_labels_print_as_an_empty_go_map_when_there_are_none() {
    let mut ctx = replicated();
    ctx.service_labels.clear();
    assert_eq!(ok(&ctx, "{{.Service.Labels}}"), "map[]");
}

#[test]
fn index_on_labels_gives_the_value_or_an_empty_string() {
    let ctx = replicated();
    assert_eq!(ok(&ctx, r#"{{index .Service.Labels "tier"}}"#), "front");
    assert_eq!(
        ok(&ctx, r#"{{index .Service.Labels "com.example.team"}}"#),
        "blue"
    );
    assert_eq!(ok(&ctx, "{{index .Service.Labels `tier`}}"), "front");
    assert_eq!(ok(&ctx, r#"x{{index .Service.Labels "missing"}}y"#), "xy");
    // Without a key, index gives the map itself, as Go's.
    assert_eq!(
        ok(&ctx, "{{index .Service.Labels}}"),
        "map[com.example.team:blue tier:front]"
    );
}

#[test]
fn index_key_may_be_a_field() {
    let mut ctx = replicated();
    ctx.service_labels.insert("web".into(), "by-name".into());
    assert_eq!(
        ok(&ctx, "{{index .Service.Labels .Service.Name}}"),
        "by-name"
    );
}

#[test]
fn quoted_keys_may_hold_braces_and_escapes() {
    let mut ctx = replicated();
    ctx.service_labels.insert("a}}b".into(), "braces".into());
    ctx.service_labels.insert("q\"t".into(), "quote".into());
    assert_eq!(ok(&ctx, r#"{{index .Service.Labels "a}}b"}}"#), "braces");
    assert_eq!(ok(&ctx, r#"{{index .Service.Labels "q\"t"}}"#), "quote");
}

#[test]
fn a_missing_label_by_field_is_an_error() {
    let error = err(&replicated(), "{{.Service.Labels.missing}}");
    assert_eq!(
        error,
        TemplateError::MissingLabel {
            field: "container.hostname".into(),
            placeholder: "{{.Service.Labels.missing}}".into(),
            key: "missing".into(),
        }
    );
}

#[test]
fn whitespace_and_trim_markers() {
    let ctx = replicated();
    assert_eq!(ok(&ctx, "{{ .Task.ID }}"), "t1");
    assert_eq!(ok(&ctx, "{{\t.Task.ID\n}}"), "t1");
    assert_eq!(ok(&ctx, "a \n {{- .Task.ID -}} \t b"), "at1b");
    assert_eq!(ok(&ctx, "a {{- .Task.ID }} b"), "at1 b");
    assert_eq!(ok(&ctx, "a {{ .Task.ID -}} b"), "a t1b");
    assert_eq!(
        ok(&ctx, r#"a {{- index .Service.Labels "tier" -}} b"#),
        "afrontb"
    );
    // `{{-3}}` is not a trim marker (Go reads a number), and numbers are not supported.
    assert!(matches!(
        err(&ctx, "a {{-3}}"),
        TemplateError::Unsupported { .. }
    ));
}

#[test]
fn global_and_replicated_task_names() {
    let replicated = replicated();
    assert_eq!(replicated.task_name, "web.3.t1");
    assert_eq!(replicated.task_slot, Some(3));

    let global = global();
    assert_eq!(global.task_name, "web.n1.t1");
    assert_eq!(global.task_slot, None);
    // Without a slot, .Task.Slot is the node's id, as SwarmKit's.
    assert_eq!(ok(&global, "{{.Task.Slot}}"), "n1");
    assert_eq!(ok(&global, "{{.Task.Name}}"), "web.n1.t1");

    // Slot 0 means none, as SwarmKit's.
    let zero = TemplateContext::new(&task(Some(0)), &service(), &NodeId::new("n1"), None);
    assert_eq!(zero.task_name, "web.n1.t1");
    assert_eq!(zero.task_slot, None);
}

#[test]
fn unknown_node_description_gives_empty_values() {
    let ctx = TemplateContext::new(&task(Some(1)), &service(), &NodeId::new("n1"), None);
    assert_eq!(
        ok(&ctx, "[{{.Node.Hostname}}][{{.Node.Platform.OS}}]"),
        "[][]"
    );
    assert_eq!(ok(&ctx, "{{.Node.ID}}"), "n1");
}

#[test]
fn text_without_placeholders_is_returned_borrowed_and_unchanged() {
    let ctx = replicated();
    for text in ["", "plain", "a } b }} c", "{ {.Task.ID} }", "$HOME"] {
        assert!(matches!(
            ctx.expand("container.hostname", text),
            Ok(Cow::Borrowed(t)) if t == text
        ));
    }
    // Not a template, so not held to the template limit either.
    let long = "x".repeat(MAX_TEMPLATE_BYTES * 2);
    assert!(matches!(
        ctx.expand("container.hostname", &long),
        Ok(Cow::Borrowed(t)) if t.len() == long.len()
    ));
}

#[test]
fn unknown_fields_are_errors_naming_field_and_placeholder() {
    let ctx = replicated();
    for (template, path) in [
        ("{{.Service.Mode}}", ".Service.Mode"),
        ("{{.task.id}}", ".task.id"),
        ("{{.Node.Platform.Os}}", ".Node.Platform.Os"),
        ("{{.Service.Labels.tier.x}}", ".Service.Labels.tier.x"),
        ("{{.Task.Slot.X}}", ".Task.Slot.X"),
        ("{{.Cluster}}", ".Cluster"),
    ] {
        assert_eq!(
            err(&ctx, &format!("x-{template}")),
            TemplateError::UnknownField {
                field: "container.hostname".into(),
                placeholder: template.into(),
                path: path.into(),
            },
            "{template}"
        );
    }
}

#[test]
fn unclosed_placeholders_are_errors() {
    let ctx = replicated();
    for (template, placeholder) in [
        ("a-{{.Task.ID", "{{.Task.ID"),
        ("a-{{.Task.ID}", "{{.Task.ID}"),
        ("{{", "{{"),
        (
            r#"{{index .Service.Labels "tier}}"#,
            r#"{{index .Service.Labels "tier}}"#,
        ),
        (
            "{{index .Service.Labels `tier}}",
            "{{index .Service.Labels `tier}}",
        ),
        ("{{.Task.ID}} then {{.Task.Name", "{{.Task.Name"),
    ] {
        assert_eq!(
            err(&ctx, template),
            TemplateError::Unclosed {
                field: "container.hostname".into(),
                placeholder: placeholder.into(),
            },
            "{template}"
        );
    }
}

#[test]
fn wrong_index_arguments_are_errors() {
    let ctx = replicated();
    for template in [
        "{{index}}",
        r#"{{index "tier"}}"#,
        r#"{{index .Service.Name "x"}}"#,
        r#"{{index .Node.Platform "OS"}}"#,
        r#"{{index .Service.Labels "tier" "x"}}"#,
        "{{index .Service.Labels .Service.Labels}}",
        "{{index .Service.Labels .Node.Platform}}",
    ] {
        match err(&ctx, template) {
            TemplateError::BadIndex {
                field, placeholder, ..
            } => {
                assert_eq!(field, "container.hostname");
                assert_eq!(placeholder, template);
            }
            other => panic!("{template}: {other:?}"),
        }
    }
}

#[test]
fn syntax_outside_the_subset_is_refused() {
    let ctx = replicated();
    for template in [
        "{{}}",
        "{{ }}",
        "{{.}}",
        "{{.Service}}",
        "{{.Node}}",
        "{{.Task}}",
        "{{.Service.Name | printf}}",
        r#"{{printf "%s" .Task.ID}}"#,
        r#"{{join "," .Task.ID}}"#,
        "{{if .Task.Slot}}x{{end}}",
        "{{range .Service.Labels}}x{{end}}",
        "{{$x := .Task.ID}}",
        "{{/* comment */}}",
        "{{(.Task.ID)}}",
        r#"{{"literal"}}"#,
        "{{.Task.ID .Task.Name}}",
        "{{.Task.}}",
        "{{.Task..ID}}",
        "{{.Task.ID\"x\"}}",
        "{{.Task.ID-}}",
        "{{.5}}",
        r#"{{index .Service.Labels "a\qb"}}"#,
        "{{index .Service.Labels \"a\nb\"}}",
        "{{index .Service.Labels tier}}",
    ] {
        match err(&ctx, template) {
            TemplateError::Unsupported { field, .. } => {
                assert_eq!(field, "container.hostname", "{template}");
            }
            other => panic!("{template}: {other:?}"),
        }
    }
}

#[test]
fn error_messages_name_field_and_placeholder() {
    let error = replicated()
        .expand("container.env[2]", "{{.Service.Mode}}")
        .unwrap_err();
    assert_eq!(error.field(), "container.env[2]");
    assert_eq!(
        error.to_string(),
        "container.env[2]: unknown field .Service.Mode in {{.Service.Mode}}"
    );
}

#[test]
fn reported_placeholders_are_cut_to_the_limit() {
    let name = "é".repeat(MAX_REPORTED_PLACEHOLDER_BYTES);
    let template = format!("{{{{.Service.{name}}}}}");
    let TemplateError::UnknownField { placeholder, .. } = err(&replicated(), &template) else {
        panic!("expected an unknown field");
    };
    assert!(placeholder.ends_with('…'));
    assert!(placeholder.len() <= MAX_REPORTED_PLACEHOLDER_BYTES + '…'.len_utf8());
    assert!(template.starts_with(placeholder.trim_end_matches('…')));
}

#[test]
fn templates_longer_than_the_limit_are_refused() {
    let template = format!("{{{{.Task.ID}}}}{}", "x".repeat(MAX_TEMPLATE_BYTES));
    assert_eq!(
        err(&replicated(), &template),
        TemplateError::TooLong {
            field: "container.hostname".into(),
            len_bytes: MAX_TEMPLATE_BYTES + "{{.Task.ID}}".len(),
            max_bytes: MAX_TEMPLATE_BYTES,
        }
    );
    let at_limit = format!(
        "{{{{.Task.ID}}}}{}",
        "x".repeat(MAX_TEMPLATE_BYTES - "{{.Task.ID}}".len())
    );
    assert_eq!(ok(&replicated(), &at_limit).len(), MAX_TEMPLATE_BYTES - 10);
}

#[test]
fn more_placeholders_than_the_limit_are_refused() {
    let ctx = replicated();
    let at_limit = "{{.Task.Slot}}".repeat(MAX_PLACEHOLDERS_PER_TEXT);
    assert_eq!(ok(&ctx, &at_limit), "3".repeat(MAX_PLACEHOLDERS_PER_TEXT));
    let over = "{{.Task.Slot}}".repeat(MAX_PLACEHOLDERS_PER_TEXT + 1);
    assert_eq!(
        err(&ctx, &over),
        TemplateError::TooManyPlaceholders {
            field: "container.hostname".into(),
            max: MAX_PLACEHOLDERS_PER_TEXT,
        }
    );
}

#[test]
fn expansions_longer_than_the_limit_are_refused() {
    let mut ctx = replicated();
    let value_bytes = MAX_EXPANDED_BYTES / 4;
    ctx.service_labels
        .insert("big".into(), "v".repeat(value_bytes));
    let four = "{{.Service.Labels.big}}".repeat(4);
    assert_eq!(ok(&ctx, &four).len(), MAX_EXPANDED_BYTES);
    let five = "{{.Service.Labels.big}}".repeat(5);
    assert_eq!(
        err(&ctx, &five),
        TemplateError::OutputTooLarge {
            field: "container.hostname".into(),
            max_bytes: MAX_EXPANDED_BYTES,
        }
    );
    // The whole map printed is bounded too.
    assert!(matches!(
        err(
            &ctx,
            "{{.Service.Labels}}{{.Service.Labels}}{{.Service.Labels}}{{.Service.Labels}}"
        ),
        TemplateError::OutputTooLarge { .. }
    ));
}

fn templated_spec() -> TaskSpec {
    let mut spec = TaskSpec::default();
    let container = &mut spec.container;
    container.image = "img:{{.Task.ID}}".into();
    container.command = vec!["run-{{.Task.ID}}".into()];
    container.args = vec!["--slot={{.Task.Slot}}".into()];
    container.labels.insert("l".into(), "{{.Task.ID}}".into());
    container.workdir = Some("/w/{{.Task.ID}}".into());
    container.user = Some("{{.Task.ID}}".into());
    container.hostname = Some("{{.Node.Hostname}}-{{.Service.Name}}".into());
    container.env = vec![
        "TASK_SLOT={{.Task.Slot}}".into(),
        "PLAIN=value".into(),
        "BARE".into(),
        "{{.Task.ID}}=key-left-alone".into(),
        "BARE_{{.Task.ID}}".into(),
        "EQ=a=b={{.Service.Name}}".into(),
        "EMPTY=".into(),
    ];
    container.mounts = vec![
        Mount {
            kind: MountType::Volume,
            source: "data-{{.Task.Slot}}".into(),
            target: "/srv/{{.Service.Name}}".into(),
            read_only: true,
        },
        Mount {
            kind: MountType::Bind,
            source: "/host".into(),
            target: "/in".into(),
            read_only: false,
        },
    ];
    spec.force_update = 7;
    spec
}

#[test]
fn expand_task_spec_expands_only_the_templated_fields() {
    let spec = templated_spec();
    let expanded = match expand_task_spec(&spec, &replicated()) {
        Ok(expanded) => expanded,
        Err(e) => panic!("{e}"),
    };

    let mut expected = spec.clone();
    expected.container.hostname = Some("node-a-web".into());
    expected.container.env = vec![
        "TASK_SLOT=3".into(),
        "PLAIN=value".into(),
        "BARE".into(),
        "{{.Task.ID}}=key-left-alone".into(),
        "BARE_{{.Task.ID}}".into(),
        "EQ=a=b=web".into(),
        "EMPTY=".into(),
    ];
    expected.container.mounts[0].source = "data-3".into();
    expected.container.mounts[0].target = "/srv/web".into();
    assert_eq!(expanded, expected);
}

#[test]
fn expand_task_spec_without_placeholders_returns_an_equal_spec() {
    let mut spec = TaskSpec::default();
    spec.container.image = "nginx:1.27".into();
    spec.container.hostname = Some("web".into());
    spec.container.env = vec!["A=1".into(), "B".into()];
    spec.container.mounts = vec![Mount {
        kind: MountType::Bind,
        source: "/a".into(),
        target: "/b".into(),
        read_only: false,
    }];
    assert_eq!(expand_task_spec(&spec, &replicated()), Ok(spec));
}

#[test]
fn expand_task_spec_errors_name_the_spec_field() {
    let ctx = replicated();
    let field_of = |spec: &TaskSpec| match expand_task_spec(spec, &ctx) {
        Ok(_) => panic!("expected an error"),
        Err(e) => e.field().to_owned(),
    };

    let mut spec = templated_spec();
    spec.container.hostname = Some("{{.Nope}}".into());
    assert_eq!(field_of(&spec), "container.hostname");

    let mut spec = templated_spec();
    spec.container.env[2] = "BARE={{.Task.ID".into();
    assert_eq!(field_of(&spec), "container.env[2]");

    let mut spec = templated_spec();
    spec.container.mounts[1].source = "{{index .Service.Name \"x\"}}".into();
    assert_eq!(field_of(&spec), "container.mounts[1].source");

    let mut spec = templated_spec();
    spec.container.mounts[0].target = "/{{printf}}".into();
    assert_eq!(field_of(&spec), "container.mounts[0].target");
}
