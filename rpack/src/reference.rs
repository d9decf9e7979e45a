//! Image references (`localhost/app:latest`) and where the lifecycle's layout convention puts them on disk.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// A tagged image reference, normalized the way the lifecycle (go-containerregistry) normalizes it:
/// `app` is `index.docker.io/library/app:latest`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    registry: String,
    repository: String,
    tag: String,
}

/// Why a string is not an image reference rpack can use.
#[derive(Debug, thiserror::Error)]
pub enum InvalidImageRef {
    /// Empty input.
    #[error("an image reference cannot be empty")]
    Empty,
    /// Digest references are not supported as build targets.
    #[error("`{0}` names a digest; give a tag instead (like `localhost/app:latest`)")]
    Digest(String),
    /// A path component breaks the repository rules.
    #[error(
        "`{reference}` has an invalid repository part `{component}`: use lowercase letters, digits and single `.`, `_` or `-` between them"
    )]
    Repository {
        /// The whole reference.
        reference: String,
        /// The bad component.
        component: String,
    },
    /// The registry is not a host name with an optional port.
    #[error(
        "`{reference}` has an invalid registry `{registry}`: use a host name or IP address with an optional `:port`, like `localhost:5000`"
    )]
    Registry {
        /// The whole reference.
        reference: String,
        /// The bad registry.
        registry: String,
    },
    /// The tag breaks the tag rules.
    #[error(
        "`{reference}` has an invalid tag `{tag}`: use up to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
    )]
    Tag {
        /// The whole reference.
        reference: String,
        /// The bad tag.
        tag: String,
    },
}

impl ImageRef {
    /// The registry host (`localhost`, `index.docker.io`, `127.0.0.1:5000`).
    #[must_use]
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path (`library/app`).
    #[must_use]
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag.
    #[must_use]
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// `<registry>/<repository>/<tag>`: where the lifecycle reads and writes this image under a layout dir.
    #[must_use]
    pub fn layout_path(&self) -> PathBuf {
        let mut path = PathBuf::from(&self.registry);
        path.extend(self.repository.split('/'));
        path.push(&self.tag);
        path
    }

    /// The same repository with another tag.
    #[must_use]
    pub fn with_tag(&self, tag: &str) -> Self {
        Self {
            tag: tag.to_owned(),
            ..self.clone()
        }
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let is_alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let is_sep = |b: &u8| matches!(b, b'.' | b'_' | b'-');
    !bytes.is_empty()
        && bytes.first().is_some_and(is_alnum)
        && bytes.last().is_some_and(is_alnum)
        && bytes.iter().all(|b| is_alnum(b) || is_sep(b))
        // Dashes may repeat (`a--b`); a dot may not touch another separator.
        && !bytes.windows(2).any(|w| is_sep(&w[0]) && is_sep(&w[1]) && (w[0] == b'.' || w[1] == b'.'))
}

/// A registry as Docker's reference grammar has it: dot-separated parts of letters, digits and inner `-`, or a
/// bracketed IPv6 address, with an optional `:port`. The registry is also a dir name in the store
/// ([`ImageRef::layout_path`]): `.` and `..` would put the image beside its own dir, or outside the store.
fn valid_registry(registry: &str) -> bool {
    let (host, port) = match registry.rsplit_once(':') {
        Some((host, port)) if !port.contains(']') => (host, Some(port)),
        _ => (registry, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(v6) => {
            !v6.is_empty()
                && v6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        }
        None => host.split('.').all(|part| {
            !part.is_empty()
                && !part.starts_with('-')
                && !part.ends_with('-')
                && part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        }),
    };
    port_ok && host_ok
}

fn valid_tag(tag: &str) -> bool {
    tag.len() <= 128
        && tag
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

impl FromStr for ImageRef {
    type Err = InvalidImageRef;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(InvalidImageRef::Empty);
        }
        if s.contains('@') {
            return Err(InvalidImageRef::Digest(s.to_owned()));
        }
        let (first, rest) = s.split_once('/').unwrap_or(("", s));
        let is_registry = first.contains('.') || first.contains(':') || first == "localhost";
        let (registry, path) = if is_registry {
            (first.to_owned(), rest)
        } else {
            ("index.docker.io".to_owned(), s)
        };
        // A `:` after the last `/` separates the tag.
        let (path, tag) = match path.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, t),
            _ => (path, "latest"),
        };
        if !valid_registry(&registry) {
            return Err(InvalidImageRef::Registry {
                reference: s.to_owned(),
                registry,
            });
        }
        if !valid_tag(tag) {
            return Err(InvalidImageRef::Tag {
                reference: s.to_owned(),
                tag: tag.to_owned(),
            });
        }
        if let Some(bad) = path.split('/').find(|c| !valid_component(c)) {
            return Err(InvalidImageRef::Repository {
                reference: s.to_owned(),
                component: bad.to_owned(),
            });
        }
        let repository = if registry == "index.docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Ok(Self {
            registry,
            repository,
            tag: tag.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn path(s: &str) -> String {
        s.parse::<ImageRef>()
            .unwrap()
            .layout_path()
            .display()
            .to_string()
    }

    #[test]
    fn maps_references_like_the_lifecycle_layout_convention() {
        assert_eq!(path("busybox"), "index.docker.io/library/busybox/latest");
        assert_eq!(path("localhost/run:latest"), "localhost/run/latest");
        assert_eq!(path("my-app"), "index.docker.io/library/my-app/latest");
        assert_eq!(path("127.0.0.1:5000/a/b:v2"), "127.0.0.1:5000/a/b/v2");
    }

    #[test]
    fn rejects_what_the_exporter_would_reject() {
        assert!("Localhost/App".parse::<ImageRef>().is_err());
        assert!("localhost/app@sha256:abc".parse::<ImageRef>().is_err());
        assert!("localhost/app:-x".parse::<ImageRef>().is_err());
        assert!("".parse::<ImageRef>().is_err());
        assert!("localhost/a--b".parse::<ImageRef>().is_ok());
        assert!("localhost/a..b".parse::<ImageRef>().is_err());
    }

    #[test]
    fn registries_are_host_names_so_images_stay_in_their_dir() {
        // Found by the image_ref fuzz target: `..` counted as a registry (it has a dot), and the image's
        // layout path climbed out of the store's images dir.
        for bad in [
            "../app",
            "./app",
            "..:5000/app",
            "a..b/app",
            "-a.b/app",
            "a.b:/app",
            "a.b:x/app",
            "[]:5000/app",
        ] {
            assert!(
                matches!(
                    bad.parse::<ImageRef>(),
                    Err(InvalidImageRef::Registry { .. })
                ),
                "{bad}"
            );
        }
        for good in [
            "localhost:5000/app",
            "my-registry.example.com/a/b",
            "127.0.0.1:5000/app",
            "[::1]:5000/app",
        ] {
            let reference: ImageRef = good.parse().unwrap();
            assert!(
                reference
                    .layout_path()
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_))),
                "{good}"
            );
        }
    }
}
