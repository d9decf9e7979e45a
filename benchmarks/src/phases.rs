//! Where a build's time goes: the phases of `rpack build` (from the lifecycle's `===> PHASE` lines) and the
//! steps of `podman build` (its `STEP n/m:` lines), from the times at which their output lines arrived.

use std::fmt::Write as _;

use crate::stats::{median, secs};

/// Named parts of one build, in order, in seconds.
#[derive(Clone, Debug, Default)]
pub struct Breakdown(pub Vec<(String, f64)>);

/// `rpack build`'s parts: `start` (rpack's checks, the app copy and the container's start, until the
/// lifecycle's first phase), each lifecycle phase, `finish` (rpack completing and storing the image, after the
/// lifecycle's last line), and `import` (into podman, timed separately).
pub fn rpack(lines: &[(f64, String)], total: f64, import: f64) -> Breakdown {
    let mut parts = Vec::new();
    let marks: Vec<(f64, String)> = lines
        .iter()
        .filter_map(|(at, line)| {
            line.trim()
                .strip_prefix("===> ")
                .map(|p| (*at, p.trim().to_lowercase()))
        })
        .collect();
    // The last line the lifecycle printed: rpack's own closing lines come after it.
    let lifecycle_end = lines
        .iter()
        .rev()
        .find(|(_, l)| {
            let l = l.trim_start();
            let l = l.strip_prefix("- ").unwrap_or(l);
            !(l.starts_with("Built ") || l.starts_with("Imported ") || l.is_empty())
        })
        .map_or(total, |(at, _)| *at);
    let Some((first, _)) = marks.first() else {
        parts.push(("build".to_owned(), total));
        parts.push(("import".to_owned(), import));
        return Breakdown(parts);
    };
    parts.push(("start".to_owned(), *first));
    for (i, (at, name)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map_or(lifecycle_end, |(next, _)| *next);
        parts.push((name.clone(), (end - at).max(0.0)));
    }
    parts.push(("finish".to_owned(), (total - lifecycle_end).max(0.0)));
    parts.push(("import".to_owned(), import));
    Breakdown(parts)
}

/// `podman build`'s steps, each named by its instruction (`RUN pip install`, `COPY . .`), and `commit` (the
/// image written after the last step).
pub fn dockerfile(lines: &[(f64, String)], total: f64) -> Breakdown {
    let steps: Vec<(f64, String)> = lines
        .iter()
        .filter_map(|(at, line)| {
            let rest = line.strip_prefix("STEP ")?;
            let (_, instruction) = rest.split_once(": ")?;
            Some((*at, short(instruction)))
        })
        .collect();
    let commit = lines
        .iter()
        .rev()
        .find(|(_, l)| l.starts_with("COMMIT"))
        .map_or(total, |(at, _)| *at);
    let mut parts = Vec::new();
    if let Some((first, _)) = steps.first() {
        parts.push(("start".to_owned(), *first));
    }
    for (i, (at, name)) in steps.iter().enumerate() {
        let end = steps.get(i + 1).map_or(commit, |(next, _)| *next);
        parts.push((name.clone(), (end - at).max(0.0)));
    }
    parts.push(("commit".to_owned(), (total - commit).max(0.0)));
    Breakdown(parts)
}

/// An instruction in a few words: `RUN --mount=... /venv/bin/pip install -r requirements.txt` is
/// `RUN pip install`.
fn short(instruction: &str) -> String {
    let mut words = instruction.split_whitespace();
    let verb = words.next().unwrap_or_default();
    let args: Vec<&str> = words
        .filter(|w| !w.starts_with("--"))
        .map(|w| w.rsplit('/').next().unwrap_or(w))
        .take(2)
        .collect();
    format!("{verb} {}", args.join(" "))
}

/// The median of each part over several builds, in the order of the first; parts under 10 ms are left out.
pub fn summary(breakdowns: &[Breakdown]) -> String {
    let Some(first) = breakdowns.first() else {
        return "—".to_owned();
    };
    let mut out = String::new();
    for (name, _) in &first.0 {
        let values: Vec<f64> = breakdowns
            .iter()
            .filter_map(|b| b.0.iter().find(|(n, _)| n == name).map(|(_, v)| *v))
            .collect();
        let m = median(&values);
        if m < 0.01 {
            continue;
        }
        if !out.is_empty() {
            out.push_str(" · ");
        }
        let _ = write!(out, "{} {}", name.replace('|', "/"), secs(m));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(items: &[(f64, &str)]) -> Vec<(f64, String)> {
        items.iter().map(|(t, l)| (*t, (*l).to_owned())).collect()
    }

    #[test]
    fn rpack_phases_run_from_marker_to_marker() {
        let out = lines(&[
            (0.1, "## Building x"),
            (0.5, "===> ANALYZING"),
            (0.6, "===> DETECTING"),
            (0.7, "===> EXPORTING"),
            (1.5, "Adding cache layer"),
            (1.7, "- Built x (abc) (1.7s)"),
        ]);
        let parts = rpack(&out, 1.8, 0.3).0;
        let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(
            names,
            [
                "start",
                "analyzing",
                "detecting",
                "exporting",
                "finish",
                "import"
            ]
        );
        assert!((parts[3].1 - 0.8).abs() < 1e-9);
        assert!((parts[4].1 - 0.3).abs() < 1e-9);
    }

    #[test]
    fn dockerfile_steps_are_named_by_instruction() {
        let out = lines(&[
            (0.2, "STEP 1/3: FROM localhost/rpack/python-build:latest"),
            (
                0.4,
                "STEP 2/3: RUN --mount=type=cache,target=/root/.cache/pip /venv/bin/pip install -r r.txt",
            ),
            (2.4, "STEP 3/3: COPY . ."),
            (2.6, "COMMIT localhost/x"),
        ]);
        let parts = dockerfile(&out, 3.0).0;
        assert_eq!(parts[2].0, "RUN pip install");
        assert!((parts[2].1 - 2.0).abs() < 1e-9);
        assert_eq!(parts.last().map(|p| p.0.as_str()), Some("commit"));
    }
}
