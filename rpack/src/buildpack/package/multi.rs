//! Multi-platform buildpackages: one `.cnb` whose OCI layout lists one image per `[[targets]]` platform, each
//! with that platform's os/architecture and the buildpack layers built for it (an image index, as pack writes
//! multi-arch buildpackages). Each platform's image is the one a single-platform package would have, so its
//! digest is the same and as reproducible.

use std::time::Instant;

use super::{
    Format, PackageOptions, Packaged, Plan, Prepared, cnb, output_kind, output_path,
    prepare_platform, write_cnb,
};
use crate::buildpack::Error;
use crate::oci::{Layout, index};
use crate::toolbox::ui::Ui;

/// Packages `plan` once per Rust target (`first`, then `rest`) and writes them as one multi-platform `.cnb`.
pub(super) fn package_index(
    options: &PackageOptions,
    plan: &Plan,
    (first, rest): (&str, &[&str]),
    ui: &Ui,
) -> Result<Packaged, Error> {
    debug_assert_eq!(options.format, Format::File);
    let started = Instant::now();
    let output = output_path(options, &plan.main_descriptor, None);
    crate::toolbox::output::check(&output, output_kind(options.format))?;
    let mut parts = Vec::new();
    let mut platforms = Vec::new();
    let mut last = prepare_image(options, plan, first, ui)?;
    for target in rest {
        let next = prepare_image(options, plan, target, ui)?;
        let (done, layout) = std::mem::replace(&mut last, next);
        platforms.push(format!("{}/{}", done.os, done.arch));
        parts.push((done, layout));
    }
    platforms.push(format!("{}/{}", last.0.os, last.0.arch));
    let (
        Prepared {
            main, buildpacks, ..
        },
        last_layout,
    ) = &last;
    let layouts: Vec<Layout> = parts
        .iter()
        .map(|(_, l)| l.clone())
        .chain(std::iter::once(last_layout.clone()))
        .collect();
    let work = crate::toolbox::scratch::dir()
        .map_err(super::io_err("create a temp dir for", &options.path))?;
    let layout = Layout::create(work.path().join("index"))?;
    let version = plan.main_descriptor.buildpack.version.to_string();
    index::write_multi(&layout, &layouts, &version)?;
    write_cnb(&layout, &output)?;
    ui.done(
        &format!(
            "Wrote {} ({} buildpack{}, {})",
            output.display(),
            buildpacks.len(),
            if buildpacks.len() == 1 { "" } else { "s" },
            platforms.join(" and ")
        ),
        started.elapsed(),
    );
    Ok(Packaged {
        output,
        descriptor: main.descriptor.clone(),
        buildpacks: buildpacks.clone(),
    })
}

/// Prepares `plan` for `target` and writes its image into a layout in the prepared work dir.
fn prepare_image(
    options: &PackageOptions,
    plan: &Plan,
    target: &str,
    ui: &Ui,
) -> Result<(Prepared, Layout), Error> {
    let platform = prepare_platform(options, plan, target, ui)?;
    let layout = Layout::create(platform.work.path().join("layout"))?;
    cnb::write_image(
        &layout,
        &platform.main.descriptor,
        &platform.buildpacks,
        (&platform.os, &platform.arch),
    )?;
    Ok((platform, layout))
}
