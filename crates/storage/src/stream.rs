//! Streaming blob content out of storage without holding it in memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::sync::mpsc;

/// Size of each read from disk. Two reads are buffered ahead of the network, so one download
/// holds at most three of these.
const READ_CHUNK: usize = 512 * 1024;

/// A blob's bytes, read ahead by a blocking thread and handed over in chunks.
#[derive(Debug)]
pub struct BlobStream {
    rx: mpsc::Receiver<io::Result<Bytes>>,
}

impl BlobStream {
    /// Streams `len` bytes of `file` from `offset`, reading on the blocking thread pool.
    pub(crate) fn from_file(mut file: File, offset: u64, len: u64) -> BlobStream {
        let (tx, rx) = mpsc::channel(2);
        tokio::task::spawn_blocking(move || {
            let mut remaining = len;
            if let Err(e) = file.seek(SeekFrom::Start(offset)) {
                let _ = tx.blocking_send(Err(e));
                return;
            }
            while remaining > 0 {
                let want = usize::try_from(remaining)
                    .unwrap_or(usize::MAX)
                    .min(READ_CHUNK);
                let mut buf = BytesMut::zeroed(want);
                let chunk = match file.read(&mut buf) {
                    Ok(0) => Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "blob file is shorter than its recorded size",
                    )),
                    Ok(n) => {
                        buf.truncate(n);
                        remaining -= n as u64;
                        Ok(buf.freeze())
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => Err(e),
                };
                let failed = chunk.is_err();
                // A closed channel means the client went away: stop reading.
                if tx.blocking_send(chunk).is_err() || failed {
                    return;
                }
            }
        });
        BlobStream { rx }
    }

    /// A stream fed by another producer (an object store's response, for example).
    pub fn from_channel(rx: mpsc::Receiver<io::Result<Bytes>>) -> BlobStream {
        BlobStream { rx }
    }
}

impl Stream for BlobStream {
    type Item = io::Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}
