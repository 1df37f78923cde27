//! Image references and pulling.

use crate::error::DockerError;
use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures::StreamExt;

/// Most progress messages read from one pull before it is given up (a pull of a large image
/// sends a few thousand).
pub const MAX_PULL_PROGRESS_MESSAGES: usize = 1_000_000;

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
            return Err(DockerError::PullFailed {
                image: image.to_owned(),
                message: e.to_string(),
            });
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

#[cfg(test)]
mod tests {
    use super::*;

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
