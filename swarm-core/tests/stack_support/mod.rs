//! What the stack tests share: the NerdDinner fixture files and in-memory readers.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};
use swarm_core::stack::{ComposeFile, ComposeProject, StackError, StackObjects, convert, load};

/// The folder of the NerdDinner fixture files.
pub(crate) fn nerddinner_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/nerddinner")
}

/// A fixture file named as docker's CLI names it (its bare file name), with its contents.
pub(crate) fn nerddinner(name: &str) -> ComposeFile {
    let contents = std::fs::read(nerddinner_dir().join(name)).unwrap();
    ComposeFile::new(name, contents)
}

/// Reads files the fixtures name (relative to the fixture folder, as the CLI run there would).
pub(crate) fn read_nerddinner(path: &Path) -> io::Result<Vec<u8>> {
    std::fs::read(nerddinner_dir().join(path))
}

/// Loads fixture files with an empty environment.
pub(crate) fn load_nerddinner(names: &[&str]) -> Result<ComposeProject, StackError> {
    let files: Vec<ComposeFile> = names.iter().map(|n| nerddinner(n)).collect();
    load(&files, &BTreeMap::new(), &read_nerddinner)
}

/// Loads and converts fixture files as stack `nerd-dinner`.
pub(crate) fn nerddinner_stack(names: &[&str]) -> StackObjects {
    convert(&load_nerddinner(names).unwrap(), "nerd-dinner").unwrap()
}

/// A reader over an in-memory set of files.
pub(crate) fn reader(files: &[(&str, &str)]) -> impl Fn(&Path) -> io::Result<Vec<u8>> + use<> {
    let files: BTreeMap<PathBuf, Vec<u8>> = files
        .iter()
        .map(|(p, c)| (PathBuf::from(p), c.as_bytes().to_vec()))
        .collect();
    move |p: &Path| {
        files
            .get(p)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }
}

/// An environment from pairs.
pub(crate) fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Loads one in-memory file `stack.yml` with `env` and the files `files`.
pub(crate) fn load_one(
    yaml: &str,
    env: &BTreeMap<String, String>,
    files: &[(&str, &str)],
) -> Result<ComposeProject, StackError> {
    load(&[ComposeFile::new("stack.yml", yaml)], env, &reader(files))
}

/// Loads and converts one in-memory file as stack `demo` with no environment and no files.
pub(crate) fn convert_one(yaml: &str) -> Result<StackObjects, StackError> {
    convert(&load_one(yaml, &BTreeMap::new(), &[])?, "demo")
}
