//! Transfer progress on the terminal: one bar per blob in flight and one for the total, with
//! rates, drawn on stderr only when stderr is a terminal, so logs and pipes stay clean.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

use hallmark_client::{NoProgress, Outcome, Progress};
use hallmark_oci::{Descriptor, Digest};
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
