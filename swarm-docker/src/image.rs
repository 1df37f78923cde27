//! Image references and pulling.

use crate::error::DockerError;
use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;

/// Most progress messages read from one pull before it is given up (a pull of a large image
/// sends a few thousand).
const MAX_PULL_PROGRESS_MESSAGES: usize = 1_000_000;

/// Splits an image reference into the `fromImage` and `tag` of the pull API. A reference
/// without tag or digest means `latest` (the API would otherwise pull every tag).
pub(crate) fn split_image_ref(image: &str) -> (&str, &str) {
    if image.contains('@') {
        // A digest pins the image: pass it whole.
        return (image, "");
    }
    let name_start = image.rfind('/').map_or(0, |i| i + 1);
    match image[name_start..].rfind(':') {
        Some(i) => {
            let colon = name_start + i;
            (&image[..colon], &image[colon + 1..])
        }
        None => (image, "latest"),
    }
}

/// Pulls `image`, draining the engine's progress stream.
pub(crate) async fn pull_image(docker: &Docker, image: &str) -> Result<(), DockerError> {
    let (from_image, tag) = split_image_ref(image);
    let mut options = CreateImageOptionsBuilder::default().from_image(from_image);
    if !tag.is_empty() {
        options = options.tag(tag);
    }
    let mut stream = docker.create_image(Some(options.build()), None, None);
    let mut messages = 0usize;
    while let Some(item) = stream.next().await {
        if let Err(e) = item {
            return Err(pull_error(image, e));
        }
        messages += 1;
        if messages >= MAX_PULL_PROGRESS_MESSAGES {
            return Err(DockerError::PullFailed {
                image: image.to_owned(),
                message: format!("more than {MAX_PULL_PROGRESS_MESSAGES} progress messages"),
            });
        }
    }
    tracing::info!(image, "pulled image");
    Ok(())
}

/// A failed pull: the engine's 404 means the registry has no such image (or denies it), which
/// no retry fixes; anything else (registry unreachable, transfer cut) is temporary.
fn pull_error(image: &str, err: bollard::errors::Error) -> DockerError {
    match err {
        bollard::errors::Error::DockerResponseServerError {
            status_code: 404,
            message,
        } => DockerError::ImageNotInRegistry {
            image: image.to_owned(),
            message,
        },
        other => DockerError::PullFailed {
            image: image.to_owned(),
            message: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_not_found_is_permanent_other_pull_failures_temporary() {
        let server =
            |status_code: u16, message: &str| bollard::errors::Error::DockerResponseServerError {
                status_code,
                message: message.to_owned(),
            };
        let e = pull_error(
            "team/app:v9",
            server(404, "manifest for team/app:v9 not found: manifest unknown"),
        );
        assert!(matches!(e, DockerError::ImageNotInRegistry { .. }), "{e}");
        assert!(!e.is_retryable());
        assert!(e.to_string().contains("team/app:v9"), "{e}");
        let e = pull_error(
            "127.0.0.1:9/app:1",
            server(500, "dial tcp 127.0.0.1:9: connect: connection refused"),
        );
        assert!(matches!(e, DockerError::PullFailed { .. }), "{e}");
        assert!(e.is_retryable());
    }

    #[test]
    fn splits_references() {
        assert_eq!(split_image_ref("busybox"), ("busybox", "latest"));
        assert_eq!(split_image_ref("busybox:1.36"), ("busybox", "1.36"));
        assert_eq!(
            split_image_ref("registry:5000/team/app"),
            ("registry:5000/team/app", "latest")
        );
        assert_eq!(
            split_image_ref("registry:5000/team/app:v2"),
            ("registry:5000/team/app", "v2")
        );
        assert_eq!(split_image_ref("app@sha256:abcd"), ("app@sha256:abcd", ""));
    }
}
