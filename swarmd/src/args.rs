//! Command-line flags.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// The default socket, as dockerd's `/var/run/docker.sock`.
pub(crate) const DEFAULT_SOCKET: &str = "/run/swarmd.sock";
/// The engine `--runtime docker` uses by default.
pub(crate) const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";
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
  --runtime KIND          the task runtime: process (default) or docker (containers of the
                          local Docker engine)
  --docker-host SOCKET    the engine of --runtime docker [default: unix:///var/run/docker.sock]
  --ingress-addr IP|none  where the routing mesh opens the published ingress ports of
                          --runtime docker, or none to open none [default: 0.0.0.0]
  -h, --help              this text
";

/// The task runtime.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuntimeKind {
    /// swarm-core's process runtime: tasks are OS processes.
    Process,
    /// swarm-docker's adapter: tasks are containers of a local Docker engine.
    Docker,
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
    pub(crate) docker_host: String,
    /// Where the routing mesh listens (`None`: no mesh).
    pub(crate) ingress_addr: Option<IpAddr>,
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
    #[error("--runtime {0}: unknown runtime (process or docker)")]
    Runtime(String),
    #[error("--docker-host {0}: only a unix socket is supported (unix:///path or /path)")]
    DockerHost(String),
    #[error("--ingress-addr {0}: not an IP address (or none)")]
    IngressAddr(String),
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
            docker_host: DEFAULT_DOCKER_HOST.to_owned(),
            ingress_addr: Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
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
                    args.runtime = match value()?.as_str() {
                        "process" => RuntimeKind::Process,
                        "docker" => RuntimeKind::Docker,
                        other => return Err(ArgsError::Runtime(other.to_owned())),
                    }
                }
                "--docker-host" => {
                    let v = value()?;
                    if !(v.starts_with("unix:///") || v.starts_with('/')) {
                        return Err(ArgsError::DockerHost(v));
                    }
                    args.docker_host = v;
                }
                "--ingress-addr" => {
                    let v = value()?;
                    args.ingress_addr = match v.as_str() {
                        "none" => None,
                        ip => Some(ip.parse().map_err(|_| ArgsError::IngressAddr(v.clone()))?),
                    };
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
    fn runtimes_and_docker_host() {
        let a = parse(&["--runtime", "docker"]).unwrap();
        assert_eq!(a.runtime, RuntimeKind::Docker);
        assert_eq!(a.docker_host, DEFAULT_DOCKER_HOST);
        let a = parse(&["--runtime=docker", "--docker-host", "/tmp/d.sock"]).unwrap();
        assert_eq!(a.docker_host, "/tmp/d.sock");
        assert_eq!(
            parse(&["--docker-host", "tcp://1.2.3.4:2375"]).unwrap_err(),
            ArgsError::DockerHost("tcp://1.2.3.4:2375".into())
        );
        let e = parse(&["--runtime", "kvm"]).unwrap_err();
        assert!(e.to_string().contains("process or docker"), "{e}");
        assert_eq!(
            parse(&["--runtime", "process"]).unwrap().runtime,
            RuntimeKind::Process
        );
        assert_eq!(
            parse(&["--tcp"]).unwrap_err(),
            ArgsError::MissingValue {
                flag: "--tcp".into()
            }
        );
        assert!(matches!(parse(&["--bogus"]), Err(ArgsError::Unknown(_))));
    }

    #[test]
    fn the_mesh_listens_everywhere_unless_told() {
        assert_eq!(
            parse(&[]).unwrap().ingress_addr,
            Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
        );
        assert_eq!(
            parse(&["--ingress-addr", "127.0.0.2"])
                .unwrap()
                .ingress_addr,
            Some("127.0.0.2".parse().unwrap())
        );
        assert_eq!(parse(&["--ingress-addr=none"]).unwrap().ingress_addr, None);
        assert_eq!(
            parse(&["--ingress-addr", "localhost"]).unwrap_err(),
            ArgsError::IngressAddr("localhost".into())
        );
    }
}
