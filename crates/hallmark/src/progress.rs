//! Progress on the terminal, drawn on stderr only when stderr is a terminal, so logs and pipes
//! stay clean: for transfers, one bar per blob in flight and one for the total, with rates;
//! for `v1 migrate`, one bar counting the tags of each pass.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use hallmark_client::{NoProgress, Outcome, Progress};
use hallmark_oci::{Descriptor, Digest};
use hallmark_v1::migrate::{NoTagProgress, Pass, TagProgress};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Bars for a transfer.
struct Bars {
    multi: MultiProgress,
    total: ProgressBar,
    blobs: Mutex<HashMap<Digest, ProgressBar>>,
}

/// Progress bars when stderr is a terminal, else nothing.
pub fn for_terminal() -> Box<dyn Progress> {
    if !std::io::stderr().is_terminal() {
        return Box::new(NoProgress);
    }
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
    let total = multi.add(ProgressBar::new(0));
    total.set_style(style("total"));
    Box::new(Bars {
        multi,
        total,
        blobs: Mutex::new(HashMap::new()),
    })
}

fn style(prefix: &str) -> ProgressStyle {
    let template = format!(
        "{prefix:>12} {{bar:30}} {{bytes:>10}}/{{total_bytes:<10}} {{bytes_per_sec:>12}} {{msg}}"
    );
    ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar())
}

impl Progress for Bars {
    fn start(&self, descriptor: &Descriptor) {
        self.total.inc_length(descriptor.size);
        let bar = self
            .multi
            .insert_before(&self.total, ProgressBar::new(descriptor.size));
        bar.set_style(style(&descriptor.digest.hex()[..12]));
        self.blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(descriptor.digest.clone(), bar);
    }

    fn advance(&self, digest: &Digest, n: u64) {
        self.total.inc(n);
        if let Some(bar) = self
            .blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(digest)
        {
            bar.inc(n);
        }
    }

    fn finish(&self, descriptor: &Descriptor, outcome: Outcome) {
        let bar = self
            .blobs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&descriptor.digest);
        if outcome != Outcome::Transferred {
            self.total.inc(descriptor.size);
        }
        if let Some(bar) = bar {
            let word = match outcome {
                Outcome::Transferred => "done",
                Outcome::Skipped => "exists",
                Outcome::Mounted => "mounted",
            };
            bar.finish_with_message(word);
            self.multi.remove(&bar);
        }
    }
}

impl Drop for Bars {
    fn drop(&mut self) {
        self.total.finish();
    }
}

/// Per-tag progress of `v1 migrate`'s passes when stderr is a terminal, else nothing.
pub fn for_tags() -> Box<dyn TagProgress> {
    if !std::io::stderr().is_terminal() {
        return Box::new(NoTagProgress);
    }
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix:>12} {bar:30} {pos:>6}/{len:<6} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    Box::new(TagBar(bar))
}

struct TagBar(ProgressBar);

impl TagProgress for TagBar {
    fn start(&self, pass: Pass, tags: usize) {
        self.0.reset();
        self.0.set_length(tags as u64);
        self.0.set_prefix(pass.name());
        self.0.set_message("");
    }

    fn done(&self, tag: &str) {
        self.0.set_message(tag.to_owned());
        self.0.inc(1);
    }
}

impl Drop for TagBar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}
