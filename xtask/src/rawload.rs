//! A small closed-loop HTTP/1.1 load generator for what `wrk` cannot measure.
//!
//! wrk's response parser does not know which request a response answers, so after a `HEAD`
//! whose response carries `Content-Length` (as it must: the length of the GET) it waits for a
//! body that never comes and counts nothing. This generator works like `wrk -t N -c N`: one
//! thread per keep-alive connection, each sending a request, reading the whole response and
//! sending the next, for a fixed time.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

/// Requests per second completed on `addr` by `connections` connections repeating
/// `<method> <path>` with an `Accept` header for `seconds`. Any status other than 200 fails.
pub fn rate(
    addr: SocketAddr,
    method: &str,
    path: &str,
    accept: &str,
    connections: u32,
    seconds: u64,
) -> Result<f64> {
    let request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: {accept}\r\n\r\n");
    let head = method == "HEAD";
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let request = request.clone();
            thread::spawn(move || connection_loop(addr, request.as_bytes(), head, deadline))
        })
        .collect();
    let mut done = 0u64;
    for w in workers {
        done += w
            .join()
            .map_err(|_| anyhow::anyhow!("load thread panicked"))??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    ensure!(done > 0, "no request completed on {addr}{path}");
    Ok(done as f64 / elapsed)
}

fn connection_loop(addr: SocketAddr, request: &[u8], head: bool, deadline: Instant) -> Result<u64> {
    let mut s = TcpStream::connect(addr).with_context(|| format!("connecting to {addr}"))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = vec![0u8; 64 * 1024];
    let mut done = 0u64;
    while Instant::now() < deadline {
        s.write_all(request)?;
        read_response(&mut s, &mut buf, head)?;
        done += 1;
    }
    Ok(done)
}

/// Reads one response: the head, then `Content-Length` bytes of body unless it answers a
/// HEAD. Responses are not pipelined, so nothing follows the body.
fn read_response(s: &mut TcpStream, buf: &mut [u8], head: bool) -> Result<()> {
    let mut filled = 0;
    let end = loop {
        if filled == buf.len() {
            bail!("response head larger than {} bytes", buf.len());
        }
        let n = s.read(&mut buf[filled..])?;
        ensure!(n > 0, "connection closed mid-response");
        filled += n;
        if let Some(i) = buf[..filled].windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let text = std::str::from_utf8(&buf[..end]).context("response head is not UTF-8")?;
    let status = text.get(9..12).unwrap_or_default();
    ensure!(status == "200", "status {status}, not 200");
    let length: usize = text
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .context("response without Content-Length")?;
    if head {
        ensure!(filled == end, "body bytes after a HEAD response");
        return Ok(());
    }
    let mut remaining = (end + length).saturating_sub(filled);
    ensure!(filled <= end + length, "bytes after the response body");
    while remaining > 0 {
        let want = remaining.min(buf.len());
        let n = s.read(&mut buf[..want])?;
        ensure!(n > 0, "connection closed mid-body");
        remaining -= n;
    }
    Ok(())
}
