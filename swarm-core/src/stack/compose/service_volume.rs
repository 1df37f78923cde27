//! A service's `volumes:` entry in short (`data:/var/lib/db:ro`, `./html:/usr/share/html`,
//! `ch07-es-data:C:\data`) or long syntax.

use crate::stack::compose::file_parse::{FileParse, is_absolute_anywhere};
use crate::stack::compose::origin::Origin;
use crate::stack::error::StackError;
use crate::stack::syntax::node::{Node, child_path, item_path};
use serde_norway::Value;

/// The kind of a service volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ComposeVolumeType {
    /// A named (or anonymous) volume.
    Volume,
    /// A host path.
    Bind,
    /// A memory file system.
    Tmpfs,
    /// A Windows named pipe (not supported by the model).
    Npipe,
    /// A cluster (CSI) volume (not supported by the model).
    Cluster,
    /// An image mounted as a volume (not supported by the model).
    Image,
}

/// One entry of a service's `volumes:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComposeServiceVolume {
    /// Volume, bind, tmpfs, …
    pub kind: ComposeVolumeType,
    /// A top-level volume's key (volumes; empty for an anonymous one), or the host path (binds,
    /// made absolute against the project directory, `~` read from `HOME`).
    pub source: String,
    /// The path in the task.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
    /// Where the entry was written.
    pub origin: Origin,
}

fn is_windows_drive(buffer: &str, c: char) -> bool {
    c == ':' && buffer.chars().count() == 1 && buffer.chars().all(|b| b.is_alphabetic())
}

/// Whether a short-syntax source is a path (bind) rather than a volume name.
fn is_file_path(source: &str) -> bool {
    source.starts_with(['.', '/', '~'])
        || source.starts_with("\\\\")
        || is_absolute_anywhere(source)
}

/// What a short-syntax spec sets: source, target, mode options.
struct ShortSpec {
    source: String,
    target: String,
    options: Vec<String>,
}

/// Splits a short spec at its colons as docker's `volumespec.Parse`, where a colon after a
/// single letter is a Windows drive, not a separator.
fn split_short(spec: &str) -> Result<ShortSpec, String> {
    let mut fields: Vec<String> = Vec::new();
    let mut buffer = String::new();
    for c in spec.chars() {
        if is_windows_drive(&buffer, c) {
            buffer.push(c);
        } else if c == ':' {
            if buffer.is_empty() {
                return Err("empty section between colons".to_owned());
            }
            fields.push(std::mem::take(&mut buffer));
        } else {
            buffer.push(c);
        }
    }
    if buffer.is_empty() {
        return Err("empty section between colons".to_owned());
    }
    fields.push(buffer);
    match fields.len() {
        1 => Ok(ShortSpec {
            source: String::new(),
            target: fields.remove(0),
            options: Vec::new(),
        }),
        2 | 3 => {
            let options = if fields.len() == 3 {
                fields[2].split(',').map(str::to_owned).collect()
            } else {
                Vec::new()
            };
            Ok(ShortSpec {
                source: fields[0].clone(),
                target: fields[1].clone(),
                options,
            })
        }
        _ => Err("too many colons".to_owned()),
    }
}

/// Bind propagation modes docker reads in a short spec's options.
const PROPAGATIONS: &[&str] = &[
    "private", "rprivate", "shared", "rshared", "slave", "rslave",
];

fn short_volume(
    node: Node<'_>,
    spec: &str,
    cx: &mut FileParse<'_>,
) -> Result<ComposeServiceVolume, StackError> {
    if spec.is_empty() {
        return Err(node.error("invalid empty volume spec"));
    }
    let parsed =
        split_short(spec).map_err(|why| node.error(format!("invalid spec: {spec}: {why}")))?;
    let kind = if parsed.source.is_empty() || !is_file_path(&parsed.source) {
        ComposeVolumeType::Volume
    } else {
        ComposeVolumeType::Bind
    };
    let mut read_only = false;
    for option in &parsed.options {
        match option.as_str() {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "nocopy" => cx.not_supported(&format!("{} (nocopy)", node.path)),
            o if PROPAGATIONS.contains(&o) => cx.not_supported(&format!("{} ({o})", node.path)),
            // Docker ignores other options.
            _ => {}
        }
    }
    Ok(ComposeServiceVolume {
        kind,
        source: parsed.source,
        target: parsed.target,
        read_only,
        origin: Origin::new(node.file, node.path),
    })
}

fn long_volume(node: Node<'_>, cx: &mut FileParse<'_>) -> Result<ComposeServiceVolume, StackError> {
    let mut volume = ComposeServiceVolume {
        kind: ComposeVolumeType::Volume,
        source: String::new(),
        target: String::new(),
        read_only: false,
        origin: Origin::new(node.file, node.path),
    };
    let mut kind_given = false;
    for (key, value) in node.entries(false)? {
        let p = child_path(node.path, &key);
        let child = node.at(value, &p);
        match key.as_str() {
            "type" => {
                kind_given = true;
                volume.kind = match child.string()?.as_str() {
                    "volume" => ComposeVolumeType::Volume,
                    "bind" => ComposeVolumeType::Bind,
                    "tmpfs" => ComposeVolumeType::Tmpfs,
                    "npipe" => ComposeVolumeType::Npipe,
                    "cluster" => ComposeVolumeType::Cluster,
                    "image" => ComposeVolumeType::Image,
                    _ => {
                        return Err(child
                            .error("volume type must be volume, bind, tmpfs, npipe, or cluster"));
                    }
                }
            }
            "source" => volume.source = child.string()?,
            "target" => volume.target = child.string()?,
            "read_only" => volume.read_only = child.bool()?,
            "consistency" | "bind" | "volume" | "tmpfs" | "image" => cx.not_supported(&p),
            _ => return Err(child.error("unknown option")),
        }
    }
    if !kind_given {
        return Err(node.error("a volume in long syntax needs a type"));
    }
    Ok(volume)
}

/// Reads a service's `volumes:` list; binds' relative sources are made absolute.
pub(crate) fn parse_service_volumes(
    node: Node<'_>,
    cx: &mut FileParse<'_>,
) -> Result<Vec<ComposeServiceVolume>, StackError> {
    let mut out = Vec::new();
    for (i, item) in node.items()?.iter().enumerate() {
        let p = item_path(node.path, i);
        let child = node.at(item, &p);
        let mut volume = match item {
            Value::String(s) => short_volume(child, s, cx)?,
            Value::Mapping(_) => long_volume(child, cx)?,
            _ => return Err(child.type_error("a volume string or a mapping")),
        };
        match volume.kind {
            ComposeVolumeType::Bind => {
                if volume.source.is_empty() {
                    return Err(child.error(
                        "invalid mount config for type \"bind\": field Source must not be empty",
                    ));
                }
                volume.source = cx.resolve(&volume.source).to_string_lossy().into_owned();
            }
            ComposeVolumeType::Tmpfs if !volume.source.is_empty() => {
                return Err(child.error("invalid tmpfs source, source must be empty"));
            }
            ComposeVolumeType::Npipe | ComposeVolumeType::Cluster | ComposeVolumeType::Image => {
                cx.not_supported(&format!("{p} (type {:?})", volume.kind).to_lowercase());
            }
            _ => {}
        }
        if volume.target.is_empty() {
            return Err(child.error("no target given"));
        }
        out.push(volume);
    }
    Ok(out)
}

/// Merges a later file's volumes into a service's, as docker: keyed by target, sorted by target.
pub(crate) fn merge_service_volumes(
    base: &mut Vec<ComposeServiceVolume>,
    later: Vec<ComposeServiceVolume>,
) {
    for v in later {
        base.retain(|b| b.target != v.target);
        base.push(v);
    }
    base.sort_by(|a, b| a.target.cmp(&b.target));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_short_specs_with_windows_drives() {
        let s = split_short("ch07-es-data:C:\\data").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (s.source.as_str(), s.target.as_str()),
            ("ch07-es-data", "C:\\data")
        );
        let s = split_short("./html:/usr/share/html:ro").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (s.source.as_str(), s.target.as_str()),
            ("./html", "/usr/share/html")
        );
        assert_eq!(s.options, ["ro"]);
        let s = split_short("/data").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((s.source.as_str(), s.target.as_str()), ("", "/data"));
        assert!(split_short("ab::c").is_err());
        assert!(split_short("ab:cd:ro:gh").is_err());
        assert!(is_file_path("C:\\x") && is_file_path("./x") && !is_file_path("data"));
    }
}
