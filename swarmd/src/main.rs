//! swarmd: one process per node serving the Docker Engine API's swarm subset on a unix
//! socket, so that the real `docker` CLI drives a swarm-rs cluster. Built only from the
//! public APIs of swarm-core: read it as the reference for composing an orchestrator.
//!
//! Nothing happens until `docker swarm init` or `docker swarm join` reaches it; after a
//! restart with a data directory that holds a node, it resumes that node. See README.md.

#![recursion_limit = "256"]

mod api;
mod api_error;
mod args;
mod daemon;
mod docker;
mod event_log;
mod mesh_routes;
mod query;
mod reply;
mod router;
mod routing_mesh;
mod server;
mod task_runtime;

use args::{Args, RuntimeKind};
use daemon::{Daemon, DaemonConfig};
use std::process::ExitCode;
use task_runtime::{TaskRuntime, TaskRuntimeError};
use tokio::net::{TcpListener, UnixListener};
use tokio::signal::unix::{SignalKind, signal};

fn main() -> ExitCode {
    let args = match Args::parse(std::env::args().skip(1)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("swarmd: {e}");
            return ExitCode::from(2);
        }
    };
    if args.help {
        print!("{}", args::USAGE);
        return ExitCode::SUCCESS;
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("swarmd: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Why the daemon could not run.
#[derive(Debug, thiserror::Error)]
enum StartError {
    #[error(transparent)]
    Runtime(#[from] TaskRuntimeError),
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
}

async fn run(args: Args) -> Result<(), StartError> {
    let io = |what: &'static str, path: String| move |source| StartError::Io { what, path, source };
    let tasks = match args.runtime {
        RuntimeKind::Process => TaskRuntime::process(args.hostname.clone())?,
        RuntimeKind::Docker => {
            TaskRuntime::docker(&args.docker_host, args.hostname.as_deref()).await?
        }
    };
    std::fs::create_dir_all(&args.data_dir).map_err(io(
        "cannot create the data directory",
        args.data_dir.display().to_string(),
    ))?;
    let daemon = Daemon::new(DaemonConfig {
        data_dir: args.data_dir.clone(),
        listen_addr: args.listen_addr,
        advertise_addr: args.advertise_addr.clone(),
        hostname: args.hostname.clone(),
        tasks,
    });
    daemon.resume().await;
    tokio::spawn(daemon.clone().sweep_after_resume());

    let sock = args.socket.display().to_string();
    match std::fs::remove_file(&args.socket) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(io("cannot remove the old socket", sock)(e));
        }
        _ => {}
    }
    let unix = UnixListener::bind(&args.socket).map_err(io("cannot listen on", sock.clone()))?;
    let (stop, token) = server::tokio_util_shim::cancel_pair();
    let token_for_mesh = token.clone();
    let mut tasks = vec![tokio::spawn(server::serve_unix(
        daemon.clone(),
        unix,
        token.clone(),
    ))];
    if let Some(addr) = args.tcp {
        let tcp = TcpListener::bind(addr)
            .await
            .map_err(io("cannot listen on", addr.to_string()))?;
        tracing::warn!(%addr, "serving the Engine API on TCP without TLS");
        tasks.push(tokio::spawn(server::serve_tcp(daemon.clone(), tcp, token)));
    }
    if let (Some(ip), TaskRuntime::Docker(docker)) = (args.ingress_addr, &daemon.config.tasks) {
        let mesh = routing_mesh::RoutingMesh::new(ip, docker.client().clone());
        tasks.push(tokio::spawn(mesh.run(token_for_mesh)));
    }
    tracing::info!(socket = %sock, data_dir = %args.data_dir.display(), "swarmd ready");

    let mut term = signal(SignalKind::terminate()).map_err(io("cannot watch", "SIGTERM".into()))?;
    let mut int = signal(SignalKind::interrupt()).map_err(io("cannot watch", "SIGINT".into()))?;
    tokio::select! {
        _ = term.recv() => tracing::info!("SIGTERM: stopping"),
        _ = int.recv() => tracing::info!("SIGINT: stopping"),
    }
    stop.cancel();
    for t in tasks {
        let _ = t.await;
    }
    daemon.shutdown().await;
    let _ = std::fs::remove_file(&args.socket);
    tracing::info!("stopped");
    Ok(())
}
