//! Finding and masking passwords in URLs (`https://user:password@host/...`), as an app's files sometimes hold
//! them (a private index in `requirements.txt`): the password shows as [`MASK`], the rest of the URL stays, so
//! a reader still sees which index and which user.
//!
//! ```
//! use libbuildpack::redact::{mask_url_passwords, url_passwords};
//! let line = "--index-url https://ci:s3cret@pypi.example.invalid/simple";
//! assert_eq!(url_passwords(line), ["s3cret"]);
//! assert_eq!(mask_url_passwords(line), "--index-url https://ci:****@pypi.example.invalid/simple");
//! ```

/// What a masked secret is shown as (as pip shows a password in a URL).
pub const MASK: &str = "****";

/// The byte range of each URL password in `text`. A password that is an env var reference (`${TOKEN}`, which
/// pip expands) or already [`MASK`] is not one: it holds no secret.
fn password_ranges(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find("://") {
        let start = from + found + 3;
        let authority_len = text[start..]
            .find(|c: char| {
                matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>') || c.is_whitespace()
            })
            .unwrap_or(text.len() - start);
        let authority = &text[start..start + authority_len];
        if let Some(at) = authority.rfind('@')
            && let Some(colon) = authority[..at].find(':')
        {
            let password = &authority[colon + 1..at];
            let is_reference = password.starts_with("${") && password.ends_with('}');
            if !password.is_empty() && !is_reference && password != MASK {
                ranges.push(start + colon + 1..start + at);
            }
        }
        from = start + authority_len;
    }
    ranges
}

/// The passwords of the URLs in `text` (`scheme://user:password@host...`), in order.
#[must_use]
pub fn url_passwords(text: &str) -> Vec<&str> {
    password_ranges(text)
        .into_iter()
        .map(|range| &text[range])
        .collect()
}

/// `text` with the password of each URL in it replaced by [`MASK`].
#[must_use]
pub fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for range in password_ranges(text) {
        out.push_str(&text[last..range.start]);
        out.push_str(MASK);
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_of_index_and_direct_urls_are_found_and_nothing_else() {
        let text = "--index-url https://ci:pw1@127.0.0.1:8080/simple/\n\
                    pkg @ http://u:p@ss@host/pkg.whl\n\
                    -e git+https://tok:pw3@git.example.invalid/x.git#egg=x\n\
                    --extra-index-url https://user@host/simple\n\
                    https://host:8080/x.whl\n\
                    --index-url https://u:${PIP_PASSWORD}@host/simple\n\
                    flask==3.0 # see https://a:b@c";
        assert_eq!(url_passwords(text), ["pw1", "p@ss", "pw3", "b"]);
        assert_eq!(
            mask_url_passwords(text),
            "--index-url https://ci:****@127.0.0.1:8080/simple/\n\
             pkg @ http://u:****@host/pkg.whl\n\
             -e git+https://tok:****@git.example.invalid/x.git#egg=x\n\
             --extra-index-url https://user@host/simple\n\
             https://host:8080/x.whl\n\
             --index-url https://u:${PIP_PASSWORD}@host/simple\n\
             flask==3.0 # see https://a:****@c"
        );
        assert_eq!(mask_url_passwords("no url"), "no url");
        assert!(url_passwords(&mask_url_passwords(text)).is_empty());
    }
}
