//! Command-line flags.

use std::net::SocketAddr;
use std::path::PathBuf;

/// The default socket, as dockerd's `/var/run/docker.sock`.
pub(crate) const DEFAULT_SOCKET: &str = "/run/swarmd.sock";
/// The default data directory.
pub(crate) const DEFAULT_DATA_DIR: &str = "/var/lib/swarmd";

pub(crate) const USAGE: &str = "\
swarmd: a swarm-mode daemon the docker CLI drives (docker -H unix://SOCKET swarm init)

Usage: swarmd [OPTIONS]

Options:
  --data-dir DIR          where the node keeps its state [default: /var/lib/swarmd]
  --socket PATH           the Engine API unix socket [default: /run/swarmd.sock]
  --tcp ADDR              also serve the Engine API on TCP (e.g. 127.0.0.1:2375; no TLS)
  --listen-addr ADDR      the cluster port when `swarm init/join` gives the CLI default
                          (e.g. 127.0.0.1:2377; port 0 picks a free port)
  --advertise-addr ADDR   the address to advertise when `swarm init/join` gives none
  --hostname NAME         the hostname the node reports (several swarmd on one host)
  --runtime KIND          the task runtime: process (default); docker is not available yet
  -h, --help              this text
";

/// The task runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuntimeKind {
    /// swarm-core's process runtime: tasks are OS processes.
    Process,
}

/// The parsed flags.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Args {
    pub(crate) data_dir: PathBuf,
    pub(crate) socket: PathBuf,
    pub(crate) tcp: Option<SocketAddr>,
    pub(crate) listen_addr: Option<SocketAddr>,
    pub(crate) advertise_addr: Option<String>,
    pub(crate) hostname: Option<String>,
    pub(crate) runtime: RuntimeKind,
    pub(crate) help: bool,
}

/// A flag that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum ArgsError {
    #[error("{flag}: a value is needed")]
    MissingValue { flag: String },
    #[error("{flag}: {value:?} is not an IP:port address")]
    BadAddress { flag: String, value: String },
    #[error("unknown flag {0:?} (see --help)")]
    Unknown(String),
    #[error(
        "--runtime {0}: only the process runtime is available in this version (the docker runtime adapter is not wired into swarmd yet)"
    )]
    Runtime(String),
}

impl Args {
    /// Parses the flags (`--flag value` or `--flag=value`).
    pub(crate) fn parse(argv: impl IntoIterator<Item = String>) -> Result<Args, ArgsError> {
        let mut args = Args {
            data_dir: PathBuf::from(DEFAULT_DATA_DIR),
            socket: PathBuf::from(DEFAULT_SOCKET),
            tcp: None,
            listen_addr: None,
            advertise_addr: None,
            hostname: None,
            runtime: RuntimeKind::Process,
            help: false,
        };
        let mut it = argv.into_iter();
        while let Some(arg) = it.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
                _ => (arg.clone(), None),
            };
            if flag == "-h" || flag == "--help" {
                args.help = true;
                continue;
            }
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| it.next())
                    .ok_or_else(|| ArgsError::MissingValue { flag: flag.clone() })
            };
            match flag.as_str() {
                "--data-dir" => args.data_dir = PathBuf::from(value()?),
                "--socket" => args.socket = PathBuf::from(value()?),
                "--tcp" => args.tcp = Some(addr(&flag, &value()?)?),
                "--listen-addr" => args.listen_addr = Some(addr(&flag, &value()?)?),
                "--advertise-addr" => args.advertise_addr = Some(value()?),
                "--hostname" => args.hostname = Some(value()?),
                "--runtime" => {
                    let v = value()?;
                    if v != "process" {
                        return Err(ArgsError::Runtime(v));
                    }
                }
                _ => return Err(ArgsError::Unknown(arg)),
            }
        }
        Ok(args)
    }
}

fn addr(flag: &str, value: &str) -> Result<SocketAddr, ArgsError> {
    value.parse().map_err(|_| ArgsError::BadAddress {
        flag: flag.to_owned(),
        value: value.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &[&str]) -> Result<Args, ArgsError> {
        Args::parse(s.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_with_and_without_equals() {
        let a = parse(&[
            "--socket=/tmp/s.sock",
            "--data-dir",
            "/tmp/d",
            "--listen-addr",
            "127.0.0.1:0",
            "--hostname",
            "n1",
        ])
        .unwrap();
        assert_eq!(a.socket, PathBuf::from("/tmp/s.sock"));
        assert_eq!(a.data_dir, PathBuf::from("/tmp/d"));
        assert_eq!(a.listen_addr, Some("127.0.0.1:0".parse().unwrap()));
        assert_eq!(a.hostname.as_deref(), Some("n1"));
        assert_eq!(a.runtime, RuntimeKind::Process);
    }

    #[test]
    fn docker_runtime_is_refused_clearly() {
        let e = parse(&["--runtime", "docker"]).unwrap_err();
        assert!(e.to_string().contains("only the process runtime"), "{e}");
        assert!(parse(&["--runtime", "process"]).is_ok());
        assert_eq!(
            parse(&["--tcp"]).unwrap_err(),
            ArgsError::MissingValue {
                flag: "--tcp".into()
            }
        );
        assert!(matches!(parse(&["--bogus"]), Err(ArgsError::Unknown(_))));
    }
}
