//! Multi-platform builders: a `builder.toml` whose `[[targets]]` name several platforms (or another than the
//! host's) makes one builder image per platform, each from that platform's build image, lifecycle and
//! buildpack binaries, stored under one name as an image index. A platform whose inputs are unchanged keeps
//! its image (and digest).

use std::path::Path;
use std::time::Instant;

use libbuildpack::data::BuilderToml;

use super::{
    Builder, BuilderError, INPUTS_LABEL, assemble, fingerprint, gather_inputs, io_err, publish,
};
use crate::oci::reference::ImageRef;
use crate::oci::{Image, Layout, Platform, index};
use crate::provision::Error;
use crate::store::Store;
use crate::toolbox::ui::Ui;

/// The platforms builder.toml's `[[targets]]` name (`linux` when a target names no os), in their order; the
/// host's when there are none.
///
/// # Errors
/// When builder.toml cannot be read.
pub(super) fn platforms(config: &Path) -> Result<Vec<Platform>, Error> {
    let toml = BuilderToml::read(config).map_err(BuilderError::from)?;
    let mut platforms: Vec<Platform> = Vec::new();
    for target in &toml.targets {
        let Some(arch) = target.arch.as_deref().filter(|a| !a.is_empty()) else {
            continue;
        };
        let os = target
            .os
            .as_deref()
            .filter(|o| !o.is_empty())
            .unwrap_or("linux");
        let platform = Platform {
            variant: target.variant.clone().filter(|v| !v.is_empty()),
            ..Platform::new(os, arch)
        };
        if !platforms.contains(&platform) {
            platforms.push(platform);
        }
    }
    if platforms.is_empty() {
        platforms.push(Platform::host());
    }
    Ok(platforms)
}

/// Makes the builder `name` for every platform of `platforms` that is in `make`, and stores it as one image
/// index with the stored images of the others (those builder.toml still targets), in `platforms`' order.
pub(super) fn create(
    store: &Store,
    config: &Path,
    name: &ImageRef,
    renamed: &publish::Renamed,
    platforms: &[Platform],
    make: &[Platform],
    ui: &Ui,
) -> Result<Builder, Error> {
    let started = Instant::now();
    ui.section(&format!(
        "Creating builder {name} for {}",
        make.iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(" and ")
    ));
    let work = store.scratch_dir("builder-")?;
    let dest = store.image_layout(name);
    let job = Job {
        store,
        config,
        name,
        renamed,
        ui,
    };
    let mut parts = Vec::new();
    for platform in platforms {
        let stored = dest.clone().for_platform(platform.clone());
        if !make.contains(platform) {
            // Kept as it is: a build for one platform never makes another platform's stack.
            if Image::load(stored.clone()).is_ok_and(|image| image.arch() == platform.arch) {
                parts.push(stored);
            }
            continue;
        }
        let dir = work.path().join(platform.to_string().replace('/', "-"));
        parts.push(job.make_one(platform, stored, &dir)?);
    }
    let merged = Layout::create(work.path().join("index"))?;
    index::write_multi(&merged, &parts, name.tag())?;
    crate::store::replace_dir(merged.root(), dest.root())
        .map_err(io_err("move into place", dest.root()))?;
    ui.done(&format!("Builder {name} ready"), started.elapsed());
    Builder::load(store, name)
}

/// What every platform's image of one builder is made from.
struct Job<'a> {
    store: &'a Store,
    config: &'a Path,
    name: &'a ImageRef,
    renamed: &'a publish::Renamed,
    ui: &'a Ui,
}

impl Job<'_> {
    /// The image of `platform`: `stored` when its inputs are unchanged, else made under `dir`. Either way the
    /// digest of its sources is recorded, so the next build for that platform finds it up to date without
    /// cargo (see [`super::ensure_for`]).
    fn make_one(&self, platform: &Platform, stored: Layout, dir: &Path) -> Result<Layout, Error> {
        let step = Instant::now();
        // Hashed before cargo runs, so a source edited during the build is seen by the next one.
        let sources = super::sources::fingerprint(self.store, self.config, platform);
        let inputs = gather_inputs(
            self.store,
            self.config,
            dir,
            self.renamed,
            platform,
            self.ui,
        )?;
        let fingerprint = fingerprint(self.store, &inputs)?;
        let record = || {
            if let Some(sources) = &sources {
                super::sources::Record::of(self.store, self.name, platform)
                    .write(sources, &fingerprint);
            }
        };
        if let Ok(existing) = Image::load(stored.clone())
            && existing.arch() == platform.arch
            && existing.label(INPUTS_LABEL).as_deref() == Some(fingerprint.as_str())
        {
            record();
            self.ui.done(
                &format!("{platform}: up to date (its inputs are unchanged)"),
                step.elapsed(),
            );
            return Ok(stored);
        }
        let staging = Layout::create(dir.join("image"))?;
        assemble(self.store, &inputs, &fingerprint, &staging, self.name.tag())?;
        record();
        self.ui.done(
            &format!(
                "{platform}: {} buildpacks, lifecycle {}",
                inputs.buildpacks.len(),
                inputs.lifecycle.version()
            ),
            step.elapsed(),
        );
        Ok(staging)
    }
}
