//! Image references (`localhost/app:latest`) and where the lifecycle's layout convention puts them on disk.
//!
//! Every part is checked against the grammar of the distribution spec (`docker/distribution/reference`), so a
//! reference always maps to a path of plain components under the store's `images` dir: no `..`, no `/` inside
//! a part, nothing absolute.

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

/// Why a string is not an image reference rpack can use. Messages show the input with control characters
/// escaped, so a hostile reference cannot drive the terminal.
#[derive(Debug, thiserror::Error)]
pub enum InvalidImageRef {
    /// Empty input.
    #[error("an image reference cannot be empty")]
    Empty,
    /// Digest references are not supported as build targets.
    #[error("`{0}` names a digest; give a tag instead (like `localhost/app:latest`)")]
    Digest(Shown),
    /// The digest part breaks the digest grammar.
    #[error(
        "`{reference}` has an invalid digest `{digest}`: expected `algorithm:hex` like `sha256:` and 64 hex characters"
    )]
    BadDigest {
        /// The whole reference.
        reference: Shown,
        /// The bad digest.
        digest: Shown,
    },
    /// The registry part is not a host name or address with an optional port.
    #[error(
        "`{reference}` has an invalid registry `{registry}`: use a host name (letters, digits, `-`, dot-separated), an IP address or `[IPv6]`, with an optional `:port`"
    )]
    Registry {
        /// The whole reference.
        reference: Shown,
        /// The bad registry part.
        registry: Shown,
    },
    /// A path component breaks the repository rules.
    #[error(
        "`{reference}` has an invalid repository part `{component}`: use lowercase letters and digits, separated by one `.`, one or two `_`, or `-`s"
    )]
    Repository {
        /// The whole reference.
        reference: Shown,
        /// The bad component.
        component: Shown,
    },
    /// The whole name is longer than the spec allows.
    #[error("`{0}` is too long: a repository name may have at most 255 characters")]
    TooLong(Shown),
    /// The tag breaks the tag rules.
    #[error(
        "`{reference}` has an invalid tag `{tag}`: use up to 128 letters, digits, `_`, `.` or `-`, not starting with `.` or `-`"
    )]
    Tag {
        /// The whole reference.
        reference: Shown,
        /// The bad tag.
        tag: Shown,
    },
}

/// Text from the user or from a file, shown with control characters (and backslashes) escaped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shown(String);

impl Shown {
    /// Wraps `text`.
    #[must_use]
    pub(crate) fn new(text: &str) -> Self {
        Self(text.to_owned())
    }
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.0))
    }
}

/// `text` with control characters (C0, DEL, C1) written as `\u{..}` escapes, and `\` doubled so an escape
/// cannot be faked. Printable text, non-ASCII letters included, is kept as it is.
#[must_use]
pub(crate) fn escape_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_unicode());
        } else if c == '\\' {
            out.push_str("\\\\");
        } else {
            out.push(c);
        }
    }
    out
}

impl ImageRef {
    /// The registry host (`localhost`, `index.docker.io`, `127.0.0.1:5000`).
    #[must_use]
    pub(crate) fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path (`library/app`).
    #[must_use]
    pub(crate) fn repository(&self) -> &str {
        &self.repository
    }

    /// The tag.
    #[must_use]
    pub fn tag(&self) -> &str {
        &self.tag
    }

    /// `<registry>/<repository>/<tag>`: where the lifecycle reads and writes this image under a layout dir.
    /// Every part was validated, so the path is relative and made of plain components only.
    #[must_use]
    pub fn layout_path(&self) -> PathBuf {
        let mut path = PathBuf::from(&self.registry);
        path.extend(self.repository.split('/'));
        path.push(&self.tag);
        path
    }

    /// The same repository with another tag.
    ///
    /// # Errors
    /// When `tag` is not a valid tag.
    pub fn with_tag(&self, tag: &str) -> Result<Self, InvalidImageRef> {
        if !valid_tag(tag) {
            return Err(InvalidImageRef::Tag {
                reference: Shown(format!("{}/{}:{tag}", self.registry, self.repository)),
                tag: Shown::new(tag),
            });
        }
        Ok(Self {
            tag: tag.to_owned(),
            ..self.clone()
        })
    }
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}:{}", self.registry, self.repository, self.tag)
    }
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `path-component := [a-z0-9]+ (separator [a-z0-9]+)*` with `separator := [_.] | __ | -+`.
fn valid_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    if !bytes.first().is_some_and(|b| is_alnum(*b)) || !bytes.last().is_some_and(|b| is_alnum(*b)) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum(bytes[i]) {
            i += 1;
        }
        let sep = &bytes[start..i];
        let ok = matches!(sep, b"." | b"_" | b"__") || sep.iter().all(|b| *b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

/// `tag := [\w][\w.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    tag.len() <= 128
        && tag.bytes().next().is_some_and(word)
        && tag.bytes().all(|b| word(b) || matches!(b, b'.' | b'-'))
}

/// `domain-component := [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn valid_domain_component(part: &str) -> bool {
    let bytes = part.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

/// `host[:port]`: dot-separated domain components (which covers IPv4 addresses), or `[IPv6]`.
fn valid_registry(registry: &str) -> bool {
    let (host_ok, port) = if let Some(rest) = registry.strip_prefix('[') {
        let Some((ip, after)) = rest.split_once(']') else {
            return false;
        };
        let ip_ok = ip.contains(':')
            && ip
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
        match after {
            "" => (ip_ok, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (ip_ok, Some(port)),
                None => return false,
            },
        }
    } else {
        let (host, port) = match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        };
        (host.split('.').all(valid_domain_component), port)
    };
    let port_ok =
        port.is_none_or(|p| (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// `digest := algorithm ":" hex` with `algorithm := [A-Za-z][A-Za-z0-9]* ([+._-] [A-Za-z][A-Za-z0-9]*)*` and
/// `hex := [0-9a-fA-F]{32,}`.
fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let algorithm_ok = algorithm.split(['+', '.', '_', '-']).all(|part| {
        part.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && part.bytes().all(|b| b.is_ascii_alphanumeric())
    });
    algorithm_ok && hex.len() >= 32 && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Names longer than this are refused (the distribution spec's limit).
const MAX_NAME_LEN: usize = 255;

impl FromStr for ImageRef {
    type Err = InvalidImageRef;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err(InvalidImageRef::Empty);
        }
        let shown = || Shown::new(s);
        let (name_tag, digest) = match s.split_once('@') {
            Some((name, digest)) => (name, Some(digest)),
            None => (s, None),
        };
        if let Some(digest) = digest {
            return Err(if valid_digest(digest) {
                InvalidImageRef::Digest(shown())
            } else {
                InvalidImageRef::BadDigest {
                    reference: shown(),
                    digest: Shown::new(digest),
                }
            });
        }
        // As docker does: the first part is a registry when it looks like a host (has a dot or a port, is
        // `localhost`, or has uppercase letters, which repositories never have).
        let (registry, path) = match name_tag.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.bytes().any(|b| b.is_ascii_uppercase()) =>
            {
                (first, rest)
            }
            _ => ("index.docker.io", name_tag),
        };
        if !valid_registry(registry) {
            return Err(InvalidImageRef::Registry {
                reference: shown(),
                registry: Shown::new(registry),
            });
        }
        // A `:` after the last `/` separates the tag.
        let (path, tag) = match path.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, t),
            _ => (path, "latest"),
        };
        if !valid_tag(tag) {
            return Err(InvalidImageRef::Tag {
                reference: shown(),
                tag: Shown::new(tag),
            });
        }
        if let Some(bad) = path.split('/').find(|c| !valid_component(c)) {
            return Err(InvalidImageRef::Repository {
                reference: shown(),
                component: Shown::new(bad),
            });
        }
        let repository = if registry == "index.docker.io" && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        // The name as it is shown and stored (`library/` added), so what parses also parses as displayed.
        if registry.len() + 1 + repository.len() > MAX_NAME_LEN {
            return Err(InvalidImageRef::TooLong(shown()));
        }
        Ok(Self {
            registry: registry.to_owned(),
            repository,
            tag: tag.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Component;

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
        assert_eq!(path("[::1]:5000/a:v1"), "[::1]:5000/a/v1");
        assert_eq!(path("Registry.example/a"), "Registry.example/a/latest");
    }

    #[test]
    fn rejects_what_the_exporter_would_reject() {
        assert!("Localhost/App".parse::<ImageRef>().is_err());
        assert!("localhost/app:-x".parse::<ImageRef>().is_err());
        assert!("".parse::<ImageRef>().is_err());
        assert!("localhost/a--b".parse::<ImageRef>().is_ok());
        assert!("localhost/a__b".parse::<ImageRef>().is_ok());
        for bad in [
            "localhost/a..b",
            "localhost/a___b",
            "localhost/a_-b",
            "localhost/a._b",
        ] {
            assert!(bad.parse::<ImageRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn digests_are_checked_then_refused_as_build_targets() {
        let good = format!("localhost/app@sha256:{}", "a".repeat(64));
        let err = good.parse::<ImageRef>().unwrap_err().to_string();
        assert!(err.contains("names a digest"), "{err}");
        let err = "localhost/app@sha256:abc"
            .parse::<ImageRef>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid digest `sha256:abc`"), "{err}");
    }

    #[test]
    fn registries_that_are_not_hosts_are_refused() {
        for bad in [
            "../lifecycle:0.21.17",
            "./x/y",
            "..:1/x",
            "a..b/x",
            "-a.b/x",
            "a.b-/x",
            "host:port/x",
            "host:123456/x",
            "host:/x",
            "[::1/x",
            "[zz]:1/x",
            "[::1]x/y",
        ] {
            let err = bad.parse::<ImageRef>().unwrap_err();
            assert!(
                matches!(err, InvalidImageRef::Registry { .. }),
                "{bad}: {err}"
            );
        }
        let err = "../lifecycle:0.21.17"
            .parse::<ImageRef>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid registry `..`"), "{err}");
    }

    #[test]
    fn no_reference_maps_outside_the_images_dir() {
        let hostile = [
            "../lifecycle:0.21.17",
            "localhost/../../x:1",
            "localhost/..:1",
            "localhost/x:..",
            "localhost/x:.",
            "localhost//x",
            "/etc/passwd",
            "localhost/x/",
            "..",
            ".",
            "localhost/x:a/b",
            "a.b/./c",
            "localhost/\u{1b}[2J:1",
        ];
        for text in hostile {
            if let Ok(image) = text.parse::<ImageRef>() {
                let path = image.layout_path();
                assert!(
                    path.components().all(|c| matches!(c, Component::Normal(_))),
                    "{text} maps to {}",
                    path.display()
                );
            }
        }
        for text in hostile {
            assert!(text.parse::<ImageRef>().is_err(), "{text}");
        }
    }

    #[test]
    fn control_characters_are_escaped_in_errors() {
        let err = "localhost/a\u{1b}[2Jb:1"
            .parse::<ImageRef>()
            .unwrap_err()
            .to_string();
        assert!(!err.chars().any(char::is_control), "{err:?}");
        assert!(err.contains("a\\u{1b}[2Jb"), "{err}");
        let err = "localhost/a:1\u{7}\u{9b}"
            .parse::<ImageRef>()
            .unwrap_err()
            .to_string();
        assert!(!err.chars().any(char::is_control), "{err:?}");
    }

    #[test]
    fn a_docker_hub_name_is_measured_with_library_so_it_parses_as_displayed() {
        // Found by the image_ref fuzz target: 236 characters parsed, but displayed with `library/` it was too long.
        let name = "x".repeat(236);
        assert!(matches!(
            name.parse::<ImageRef>(),
            Err(InvalidImageRef::TooLong(_))
        ));
        let fits = "x".repeat(231);
        let parsed: ImageRef = fits.parse().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(parsed.to_string().parse::<ImageRef>().ok(), Some(parsed));
    }

    #[test]
    fn long_names_are_refused() {
        let long = format!("localhost/{}", "a".repeat(250));
        assert!(matches!(
            long.parse::<ImageRef>(),
            Err(InvalidImageRef::TooLong(_))
        ));
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
