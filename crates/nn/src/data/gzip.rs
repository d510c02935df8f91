//! Transparent gzip: data files may be compressed or not.

use std::io::Read;

use crate::error::Error;

/// The bytes of `raw`, inflated if they start with the gzip magic `1f 8b`.
pub(crate) fn maybe_gunzip(raw: Vec<u8>, file: &str) -> Result<Vec<u8>, Error> {
    if raw.len() < 2 || raw[0] != 0x1f || raw[1] != 0x8b {
        return Ok(raw);
    }
    let mut out = Vec::with_capacity(raw.len() * 4);
    flate2::read::GzDecoder::new(&raw[..])
        .read_to_end(&mut out)
        .map_err(|e| Error::data(file, format!("gzip stream is corrupt or truncated ({e})")))?;
    Ok(out)
}
