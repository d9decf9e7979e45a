//! `project.toml` in the app dir, as pack reads it: the default builder, which files of the app go into the
//! build, build env, and a buildpack group (buildpacks from the builder by id, dirs by uri, and inline scripts)
//! that replaces the builder's order for this build.
//!
//! pack makes an ephemeral builder image for a project group; rpack mounts the extra buildpacks and an
//! `order.toml` into the build container instead, which gives the lifecycle the same inputs without writing an
//! image.

use std::path::{Path, PathBuf};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use libbuildpack::data::{
    BuildpackId, BuildpackVersion, GroupEntry, OrderGroup, OrderToml, ProjectBuildpack,
    ProjectToml, TomlFileError,
};
use libbuildpack::toolbox::file::FileError;

use crate::buildpack::package;
use crate::provision::builder::Builder;
use crate::toolbox::ui::Ui;

/// The file name pack and rpack look for in the app dir.
pub(crate) const FILE_NAME: &str = "project.toml";

/// A project descriptor found in an app dir.
#[derive(Clone, Debug)]
pub(crate) struct Project {
    path: PathBuf,
    toml: ProjectToml,
}

/// A buildpack group that replaces the builder's order: the order file and the buildpack dirs to mount.
#[derive(Clone, Debug)]
pub(crate) struct GroupOverride {
    /// The `order.toml` to give the lifecycle.
    pub order: PathBuf,
    /// Buildpack dirs and where they go in the build container (`/cnb/buildpacks/<id>/<version>`).
    pub mounts: Vec<(PathBuf, String)>,
}

/// What failed with project.toml.
#[derive(Debug, thiserror::Error)]
pub enum ProjectError {
    /// project.toml is invalid.
    #[error(transparent)]
    Toml(#[from] TomlFileError),
    /// A group entry names a buildpack the builder does not have.
    #[error(
        "{path}: io.buildpacks.group[{index}] wants {id}{version}, which the builder does not have (it has: {available})"
    )]
    NotInBuilder {
        /// project.toml.
        path: PathBuf,
        /// The entry.
        index: usize,
        /// The id.
        id: String,
        /// ` 1.2.3` or empty.
        version: String,
        /// What the builder has.
        available: String,
    },
    /// An id or version in the group is invalid.
    #[error("{path}: io.buildpacks.group[{index}]: {why}")]
    BadEntry {
        /// project.toml.
        path: PathBuf,
        /// The entry.
        index: usize,
        /// Why.
        why: String,
    },
    /// An include or exclude pattern is invalid.
    #[error("{path}: invalid pattern in io.buildpacks include/exclude: {why}")]
    BadPattern {
        /// project.toml.
        path: PathBuf,
        /// Why.
        why: String,
    },
    /// A file operation failed.
    #[error(transparent)]
    Io(#[from] FileError),
}

crate::toolbox::file_error::io_err!(ProjectError);

impl Project {
    /// Reads `<app_dir>/project.toml` when there is one.
    ///
    /// # Errors
    /// When it exists but is invalid (the error names file, field and line).
    pub(crate) fn find(app_dir: &Path) -> Result<Option<Self>, ProjectError> {
        let path = app_dir.join(FILE_NAME);
        if !path.is_file() {
            return Ok(None);
        }
        let toml = ProjectToml::read(&path)?;
        toml.validate(&path)?;
        Ok(Some(Self { path, toml }))
    }

    /// `[io.buildpacks] builder`.
    #[must_use]
    pub(crate) fn builder(&self) -> Option<&str> {
        self.toml
            .io_buildpacks
            .as_ref()
            .and_then(|io| io.builder.as_deref())
    }

    /// `[[io.buildpacks.build.env]]` as (name, value).
    #[must_use]
    pub(crate) fn env(&self) -> Vec<(String, String)> {
        let io = self.toml.io_buildpacks.as_ref();
        io.and_then(|io| io.build.as_ref())
            .map(|b| {
                b.env
                    .iter()
                    .map(|e| (e.name.clone(), e.value.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Decides which app files go into the build: `include` keeps only matches, `exclude` drops matches
    /// (gitignore patterns, relative to the app dir). `project.toml` itself always goes in.
    ///
    /// # Errors
    /// When a pattern is invalid.
    pub(crate) fn file_filter(&self) -> Result<FileFilter, ProjectError> {
        let Some(io) = &self.toml.io_buildpacks else {
            return Ok(FileFilter::All);
        };
        let (patterns, include) = if io.include.is_empty() {
            (&io.exclude, false)
        } else {
            (&io.include, true)
        };
        if patterns.is_empty() {
            return Ok(FileFilter::All);
        }
        let root = self.path.parent().unwrap_or_else(|| Path::new("."));
        let mut builder = GitignoreBuilder::new(root);
        for pattern in patterns {
            builder
                .add_line(None, pattern)
                .map_err(|e| ProjectError::BadPattern {
                    path: self.path.clone(),
                    why: e.to_string(),
                })?;
        }
        let matcher = builder.build().map_err(|e| ProjectError::BadPattern {
            path: self.path.clone(),
            why: e.to_string(),
        })?;
        Ok(if include {
            FileFilter::Include(matcher)
        } else {
            FileFilter::Exclude(matcher)
        })
    }

    /// The project's buildpack group as an order for the lifecycle, with inline buildpacks written and dir
    /// buildpacks prepared under `work`; `None` when the project has no group.
    ///
    /// # Errors
    /// When an entry is invalid, names a buildpack the builder lacks, or a buildpack cannot be prepared.
    pub(crate) fn group(
        &self,
        builder: &Builder,
        work: &Path,
        ui: &Ui,
    ) -> Result<Option<GroupOverride>, crate::build::Error> {
        let Some(io) = self
            .toml
            .io_buildpacks
            .as_ref()
            .filter(|io| !io.group.is_empty())
        else {
            return Ok(None);
        };
        let mut entries = Vec::new();
        let mut mounts = Vec::new();
        for (index, entry) in io.group.iter().enumerate() {
            let (id, version, dir) = self.group_entry(index, entry, builder, work, ui)?;
            let bad = |why: String| ProjectError::BadEntry {
                path: self.path.clone(),
                index,
                why,
            };
            let id: BuildpackId = id.parse().map_err(|e| bad(format!("{e}")))?;
            let version: BuildpackVersion = version.parse().map_err(|e| bad(format!("{e}")))?;
            if let Some(dir) = dir {
                mounts.push((dir, format!("/cnb/buildpacks/{}/{version}", id.escaped())));
            }
            entries.push(GroupEntry::new(id, version));
        }
        let order = OrderToml {
            order: vec![OrderGroup::new(entries)],
            ..OrderToml::default()
        };
        let path = work.join("project-order.toml");
        order.write(&path).map_err(ProjectError::from)?;
        Ok(Some(GroupOverride {
            order: path,
            mounts,
        }))
    }

    /// The id and version of the group's entry `index`, and the dir to mount for it unless the builder has it:
    /// an inline script written under `work`, or a buildpack by uri prepared under `work`.
    fn group_entry(
        &self,
        index: usize,
        entry: &ProjectBuildpack,
        builder: &Builder,
        work: &Path,
        ui: &Ui,
    ) -> Result<(String, String, Option<PathBuf>), crate::build::Error> {
        if let Some(script) = &entry.script {
            let id = entry.id.clone().unwrap_or_default();
            let version = entry.version.clone().unwrap_or_else(|| "0.0.0".to_owned());
            let dir = work.join("inline").join(index.to_string());
            write_inline(
                &dir,
                &id,
                &version,
                script.api.as_deref().unwrap_or_default(),
                script.shell(),
                &script.inline,
            )?;
            return Ok((id, version, Some(dir)));
        }
        if let Some(uri) = &entry.uri {
            let base = self.path.parent().unwrap_or_else(|| Path::new("."));
            let prepared = package::prepare(&base.join(uri), &work.join("buildpacks"), ui)?;
            let info = &prepared.descriptor.buildpack;
            return Ok((
                info.id.as_str().to_owned(),
                info.version.to_string(),
                Some(prepared.dir.clone()),
            ));
        }
        let (id, version) = self.in_builder(index, entry, builder)?;
        Ok((id, version, None))
    }

    /// The id and version of the builder's buildpack that the group's entry `index` names by id (and version,
    /// when it gives one).
    fn in_builder(
        &self,
        index: usize,
        entry: &ProjectBuildpack,
        builder: &Builder,
    ) -> Result<(String, String), ProjectError> {
        let id = entry.id.clone().unwrap_or_default();
        let found = builder.buildpacks.iter().find(|(bid, bversion)| {
            bid == &id && entry.version.as_ref().is_none_or(|v| v == bversion)
        });
        let Some((_, version)) = found else {
            return Err(ProjectError::NotInBuilder {
                path: self.path.clone(),
                index,
                version: entry
                    .version
                    .as_ref()
                    .map(|v| format!(" {v}"))
                    .unwrap_or_default(),
                id,
                available: builder
                    .buildpacks
                    .iter()
                    .map(|(i, v)| format!("{i} {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        Ok((id, version.clone()))
    }
}

/// Writes an inline buildpack the way pack does: `buildpack.toml` with the script's api, `bin/build` running the
/// script with the shell, and a `bin/detect` that always passes. No targets: the lifecycle infers linux from
/// `bin/build`.
fn write_inline(
    dir: &Path,
    id: &str,
    version: &str,
    api: &str,
    shell: &str,
    script: &str,
) -> Result<(), ProjectError> {
    let bin = dir.join("bin");
    fs_err::create_dir_all(&bin).map_err(io_err("create", &bin))?;
    let descriptor = format!("api = {api:?}\n\n[buildpack]\nid = {id:?}\nversion = {version:?}\n");
    let files = [
        (dir.join("buildpack.toml"), descriptor, 0o644),
        (bin.join("build"), format!("#!{shell}\n\n{script}\n"), 0o755),
        (bin.join("detect"), format!("#!{shell}\n\nexit 0\n"), 0o755),
    ];
    for (path, text, mode) in files {
        fs_err::write(&path, text).map_err(io_err("write", &path))?;
        fs_err::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(mode))
            .map_err(io_err("chmod", &path))?;
    }
    Ok(())
}

/// Which app files a build gets.
#[derive(Clone, Debug)]
pub(crate) enum FileFilter {
    /// Every file.
    All,
    /// Only files matching these patterns (and the dirs that hold them).
    Include(Gitignore),
    /// Every file but these.
    Exclude(Gitignore),
}

impl FileFilter {
    /// Whether `path` (inside the app dir) goes into the build.
    #[must_use]
    pub(crate) fn keeps(&self, path: &Path, is_dir: bool) -> bool {
        if path.file_name().is_some_and(|n| n == FILE_NAME) {
            return true;
        }
        match self {
            Self::All => true,
            Self::Include(matcher) => {
                is_dir
                    || matcher
                        .matched_path_or_any_parents(path, is_dir)
                        .is_ignore()
            }
            Self::Exclude(matcher) => !matcher
                .matched_path_or_any_parents(path, is_dir)
                .is_ignore(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(dir: &Path, text: &str) -> Project {
        fs_err::write(dir.join(FILE_NAME), text).unwrap();
        Project::find(dir).unwrap().unwrap()
    }

    #[test]
    fn exclude_drops_matches_and_keeps_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(
            dir.path(),
            "[io.buildpacks]\nexclude = [\"*.log\", \"tmp/\"]\n",
        );
        let filter = p.file_filter().unwrap();
        assert!(!filter.keeps(&dir.path().join("debug.log"), false));
        assert!(!filter.keeps(&dir.path().join("tmp/x.txt"), false));
        assert!(filter.keeps(&dir.path().join("app.py"), false));
        assert!(filter.keeps(&dir.path().join(FILE_NAME), false));
    }

    #[test]
    fn include_keeps_only_matches() {
        let dir = tempfile::tempdir().unwrap();
        let p = project(
            dir.path(),
            "[io.buildpacks]\ninclude = [\"src/\", \"*.toml\"]\n",
        );
        let filter = p.file_filter().unwrap();
        assert!(filter.keeps(&dir.path().join("src/main.py"), false));
        assert!(filter.keeps(&dir.path().join("pyproject.toml"), false));
        assert!(!filter.keeps(&dir.path().join("notes.md"), false));
    }

    #[test]
    fn inline_buildpacks_are_written_as_pack_writes_them() {
        let dir = tempfile::tempdir().unwrap();
        write_inline(
            dir.path(),
            "acme/inline",
            "0.0.0",
            "0.10",
            "/bin/bash",
            "echo hi",
        )
        .unwrap();
        assert_eq!(
            fs_err::read_to_string(dir.path().join("bin/build")).unwrap(),
            "#!/bin/bash\n\necho hi\n"
        );
        assert_eq!(
            fs_err::read_to_string(dir.path().join("bin/detect")).unwrap(),
            "#!/bin/bash\n\nexit 0\n"
        );
        let descriptor: libbuildpack::data::BuildpackDescriptor =
            libbuildpack::data::BuildpackDescriptor::read(dir.path().join("buildpack.toml"))
                .unwrap();
        assert_eq!(descriptor.buildpack.id.as_str(), "acme/inline");
    }

    #[test]
    fn a_missing_api_is_an_error_naming_the_entry() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join(FILE_NAME), "[[io.buildpacks.group]]\nid = \"a/b\"\n[io.buildpacks.group.script]\ninline = \"true\"\n").unwrap();
        let err = Project::find(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("io.buildpacks.group[0].script has no api"),
            "{err}"
        );
    }
}
