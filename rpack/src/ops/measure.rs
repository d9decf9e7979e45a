//! Before and after (`rpack buildpack new --from-inline --measure`): an app built with its project.toml's inline
//! script and with the buildpack converted from it, each a first build and a rebuild with nothing changed, with
//! the real lifecycle. Each build works on a copy of the app whose
//! project.toml has the group to measure, so the user's files are not touched; the images and caches made are
//! removed afterwards.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::build::platform::{self, BuildOptions, BuilderSource};
use crate::oci::reference::ImageRef;
use crate::store::Store;
use crate::toolbox::ui::Ui;

/// The app could not be prepared for measuring.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    /// The app could not be copied.
    #[error("could not copy the app in {path} to measure its builds")]
    CopyApp {
        /// The app dir.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// project.toml's text is not TOML.
    #[error("could not read the project.toml text to measure with")]
    ProjectToml(#[source] toml::de::Error),
}

/// The wall times of one way of building the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Times {
    /// The first build (no previous image, no cache).
    pub first: Duration,
    /// A rebuild with nothing changed.
    pub rebuild: Duration,
}

/// Both ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measurement {
    /// With the inline script.
    pub before: Times,
    /// With the new buildpack.
    pub after: Times,
}

impl Measurement {
    /// The table the CLI prints.
    #[must_use]
    pub fn to_text(&self, name: &str) -> String {
        let secs = |d: Duration| format!("{:.1} s", d.as_secs_f64());
        let rows = [
            (
                "build (wall time)".to_owned(),
                "first".to_owned(),
                "no-change rebuild".to_owned(),
            ),
            (
                "inline script".to_owned(),
                secs(self.before.first),
                secs(self.before.rebuild),
            ),
            (
                format!("{name} (compiled in its first build)"),
                secs(self.after.first),
                secs(self.after.rebuild),
            ),
        ];
        let width = rows
            .iter()
            .map(|(label, _, _)| label.len())
            .max()
            .unwrap_or(0);
        rows.iter()
            .fold(String::new(), |mut out, (label, first, rebuild)| {
                let _ = writeln!(out, "{label:<width$}  {first:>8}  {rebuild:>17}");
                out
            })
    }
}

/// Dirs of an app a measuring copy leaves out.
const SKIP: &[&str] = &["target", ".git", ".venv", "node_modules"];

fn copy_app(from: &Path, to: &Path, skip: &[PathBuf]) -> std::io::Result<()> {
    fs_err::create_dir_all(to)?;
    for entry in fs_err::read_dir(from)? {
        let entry = entry?;
        let path = entry.path();
        let name = entry.file_name();
        if SKIP.iter().any(|s| name == *s) || skip.iter().any(|s| s == &path) {
            continue;
        }
        let kind = entry.file_type()?;
        if kind.is_dir() {
            copy_app(&path, &to.join(&name), skip)?;
        } else if kind.is_file() {
            fs_err::copy(&path, to.join(&name))?;
        }
    }
    Ok(())
}

/// project.toml's text with every relative group `uri` made absolute (from `base`), so a copy of the app
/// elsewhere finds the same buildpacks.
fn absolute_uris(text: &str, base: &Path) -> Result<String, toml::de::Error> {
    let mut table: toml::Table = text.parse()?;
    if let Some(group) = table
        .get_mut("io")
        .and_then(|io| io.get_mut("buildpacks"))
        .and_then(|b| b.get_mut("group"))
        .and_then(toml::Value::as_array_mut)
    {
        for entry in group.iter_mut().filter_map(toml::Value::as_table_mut) {
            if let Some(toml::Value::String(uri)) = entry.get_mut("uri")
                && !uri.contains("://")
                && !uri.starts_with("cargo:")
                && Path::new(uri.as_str()).is_relative()
            {
                *uri = base.join(&*uri).display().to_string();
            }
        }
    }
    Ok(table.to_string())
}

/// Removes the image, its build cache and its cache volume, and the dirs they leave empty.
fn forget(store: &Store, image: &ImageRef) {
    let _ = crate::store::images::remove(store, image);
    for dir in [store.build_cache_dir(image), store.cache_volume_dir(image)] {
        let _ = fs_err::remove_dir_all(&dir);
        // `remove_dir` removes only empty dirs: what other images share stays.
        for parent in dir.ancestors().skip(1).take(2) {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

fn measure_one(
    store: &Store,
    app: &Path,
    project_text: &str,
    builder: &BuilderSource,
    image: &ImageRef,
    ui: &Ui,
) -> Result<Times, super::Error> {
    let io = |source: std::io::Error| MeasureError::CopyApp {
        path: app.to_owned(),
        source,
    };
    let work = store.scratch_dir("measure-")?;
    let copy = work.path().join("app");
    let skip: Vec<PathBuf> = Vec::new();
    copy_app(app, &copy, &skip).map_err(io)?;
    let base = std::path::absolute(app).map_err(io)?;
    let text = absolute_uris(project_text, &base).map_err(MeasureError::ProjectToml)?;
    fs_err::write(copy.join("project.toml"), text).map_err(io)?;
    forget(store, image);
    let options = BuildOptions {
        image: image.clone(),
        app_dir: copy,
        builder: builder.clone(),
        env: Vec::new(),
        clear_cache: true,
        timeout: None,
    };
    let result = (|| -> Result<Times, super::Error> {
        let first = platform::build(store, &options, ui)?.elapsed;
        let again = BuildOptions {
            clear_cache: false,
            ..options.clone()
        };
        let rebuild = platform::build(store, &again, ui)?.elapsed;
        Ok(Times { first, rebuild })
    })();
    forget(store, image);
    result
}

/// Builds the app in `app` twice with `before` as its project.toml and twice with `after`, with `builder` (made
/// first when it is a builder.toml, so its making is not measured).
///
/// # Errors
/// When the builder cannot be made, the app cannot be copied, or a build fails.
pub fn measure(
    store: &Store,
    app: &Path,
    before: &str,
    after: &str,
    builder: &BuilderSource,
    name: &str,
    ui: &Ui,
) -> Result<Measurement, super::Error> {
    let image = |way: &str| -> Result<ImageRef, super::Error> {
        Ok(format!("localhost/rpack-measure/{name}-{way}:latest").parse()?)
    };
    // The builder is made (or found up to date) before the clock starts: both ways use the same one.
    let builder = match builder {
        BuilderSource::Config(path) => {
            let made = crate::provision::builder::ensure(
                store,
                path,
                &platform::builder_ref_for_config(path),
                ui,
            )?;
            BuilderSource::Image(made.image)
        }
        image @ BuilderSource::Image(_) => image.clone(),
    };
    let builder = &builder;
    ui.section("Measuring: the app with the inline script");
    let before = measure_one(store, app, before, builder, &image("inline")?, ui)?;
    ui.section(&format!("Measuring: the app with {name}"));
    let after = measure_one(store, app, after, builder, &image("rust")?, ui)?;
    Ok(Measurement { before, after })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_lines_up() {
        let times = |first, rebuild| Times {
            first: Duration::from_millis(first),
            rebuild: Duration::from_millis(rebuild),
        };
        let measured = Measurement {
            before: times(15_900, 12_900),
            after: times(3_800, 1_100),
        };
        insta::assert_snapshot!(measured.to_text("my-buildpack"), @r"
        build (wall time)                              first  no-change rebuild
        inline script                                 15.9 s             12.9 s
        my-buildpack (compiled in its first build)     3.8 s              1.1 s
        ");
    }

    #[test]
    fn relative_uris_become_absolute() {
        let text =
            "[[io.buildpacks.group]]\nuri = \"../bp\"\n[[io.buildpacks.group]]\nid = \"x/y\"\n";
        let out = absolute_uris(text, Path::new("/apps/one")).unwrap();
        assert!(out.contains("uri = \"/apps/one/../bp\""), "{out}");
        assert!(out.contains("id = \"x/y\""), "{out}");
    }
}
