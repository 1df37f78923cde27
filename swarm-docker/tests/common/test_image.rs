//! The test image `swarm-test-busybox:latest`: `FROM scratch` with the host's static busybox
//! and its applet links in `/bin`. When the engine lacks it, the first test of the process that
//! needs it builds it through the Engine API (classic builder, nothing pulled: no registry has
//! to be reachable); the other tests of the process wait for that one build.

use super::static_busybox::{BUSYBOX_PATH, read_static_busybox};
use super::tar_writer::TarWriter;
use bollard::Docker;
use bollard::query_parameters::BuildImageOptionsBuilder;
use futures::StreamExt;
use std::io::Write;
use std::time::{Duration, Instant};
use tokio::sync::OnceCell;

/// The image the tests run (the one `.ci/docker-up` builds too, the same way).
pub const TEST_IMAGE: &str = "swarm-test-busybox:latest";

/// The build's Dockerfile: busybox installs its applets as symlinks, so `/bin/sh` exists.
const DOCKERFILE: &str = "FROM scratch
ADD busybox /bin/busybox
RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]
CMD [\"/bin/sh\"]
";

/// Bound on the whole build (a few seconds normally; the vfs storage driver copies layers).
const BUILD_TIMEOUT: Duration = Duration::from_secs(300);

/// Why the test image is not there.
#[derive(Clone, Debug)]
pub enum ImageUnavailable {
    /// The host lacks what the build needs (the static busybox): the tests skip, or fail
    /// under CI.
    Missing(String),
    /// The engine refused or failed the build: a test failure.
    BuildFailed(String),
}

/// Makes sure the engine has [`TEST_IMAGE`]; builds it at most once per test process.
pub async fn ensure_test_image(docker: &Docker) -> Result<(), ImageUnavailable> {
    static READY: OnceCell<Result<(), ImageUnavailable>> = OnceCell::const_new();
    READY.get_or_init(|| build_if_absent(docker)).await.clone()
}

async fn build_if_absent(docker: &Docker) -> Result<(), ImageUnavailable> {
    if docker.inspect_image(TEST_IMAGE).await.is_ok() {
        return Ok(());
    }
    let busybox = read_static_busybox().map_err(ImageUnavailable::Missing)?;
    let mut context = TarWriter::default();
    context
        .file("Dockerfile", 0o644, DOCKERFILE.as_bytes())
        .and_then(|()| context.file("busybox", 0o755, &busybox))
        .map_err(ImageUnavailable::BuildFailed)?;

    let started = Instant::now();
    let _ = writeln!(
        std::io::stderr(),
        "swarm-docker tests: {TEST_IMAGE} is absent; building it FROM scratch with \
         {BUSYBOX_PATH} through the Engine API"
    );
    let options = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(TEST_IMAGE)
        .rm(true)
        .forcerm(true)
        .networkmode("none")
        .build();
    let body = bollard::body_full(context.finish().into());
    let build = async {
        let mut progress = docker.build_image(options, None, Some(body));
        while let Some(item) = progress.next().await {
            item.map_err(|e| e.to_string())?;
        }
        Ok::<(), String>(())
    };
    let outcome = match tokio::time::timeout(BUILD_TIMEOUT, build).await {
        Ok(outcome) => outcome,
        Err(_) => Err(format!("no answer within {BUILD_TIMEOUT:?}")),
    };
    // What counts is the image: another test process may have built it at the same time (two
    // builds of one tag both succeed; should one fail, the other's image is as good).
    match (outcome, docker.inspect_image(TEST_IMAGE).await) {
        (Ok(()), Ok(_)) => {
            let _ = writeln!(
                std::io::stderr(),
                "swarm-docker tests: built {TEST_IMAGE} in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        (Err(build), Ok(_)) => {
            let _ = writeln!(
                std::io::stderr(),
                "swarm-docker tests: our build of {TEST_IMAGE} failed ({build}) but the image \
                 is there (built concurrently by another test process)"
            );
            Ok(())
        }
        (Ok(()), Err(inspect)) => Err(ImageUnavailable::BuildFailed(format!(
            "the build of {TEST_IMAGE} finished but the image is absent: {inspect}"
        ))),
        (Err(build), Err(_)) => Err(ImageUnavailable::BuildFailed(format!(
            "building {TEST_IMAGE} failed: {build}"
        ))),
    }
}
