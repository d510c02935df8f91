//! The IDX format of MNIST: a 4-byte magic (`0 0 type ndim`), `ndim`
//! big-endian `u32` dimensions, then the elements. Files may be gzipped.
//!
//! Reading checks the magic, the element type (unsigned bytes, `0x08`, which
//! is what MNIST uses), the dimension count and that the data is exactly as
//! long as the dimensions say, so a truncated download is an error that
//! gives both lengths.
//!
//! ```
//! use strata_nn::data::idx;
//! let bytes = [0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6];
//! let a = idx::parse(&bytes, "tiny").unwrap();
//! assert_eq!((a.dims.as_slice(), a.data.as_slice()), (&[2usize, 3][..], &[1u8, 2, 3, 4, 5, 6][..]));
//! let err = idx::parse(&bytes[..10], "tiny").unwrap_err();
//! assert!(err.to_string().contains("truncated"));
//! ```

use std::io::Read;
use std::path::Path;

use crate::error::Error;

/// An IDX array of unsigned bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdxArray {
    /// The dimensions (`[60000, 28, 28]` for MNIST training images).
    pub dims: Vec<usize>,
    /// The elements, row-major.
    pub data: Vec<u8>,
}

/// Reads an IDX file, gzipped or raw.
///
/// # Errors
/// [`Error::Io`] if it cannot be read; [`Error::Data`] naming the file if it
/// is corrupt gzip, has a wrong magic number or element type, or is truncated
/// or too long.
pub fn read(path: impl AsRef<Path>) -> Result<IdxArray, Error> {
    let path = path.as_ref();
    let name = path.display().to_string();
    let raw = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    if !is_gzip(&raw) {
        return parse(&raw, &name);
    }
    // Inflate the header first, then at most the bytes it promises plus one
    // (to tell trailing data): a small file whose header promises little
    // but inflates to gigabytes is rejected after reading a byte too many,
    // not after inflating it all.
    let mut z = flate2::read::GzDecoder::new(&raw[..]);
    let gz_err = |e: std::io::Error| Error::data(&name, format!("gzip stream is corrupt or truncated ({e})"));
    let mut head = [0u8; 4];
    let got = read_up_to(&mut z, &mut head).map_err(gz_err)?;
    check_magic(&head[..got], &name)?;
    let ndim = head[3] as usize;
    let mut dims_bytes = vec![0u8; 4 * ndim];
    let got_dims = read_up_to(&mut z, &mut dims_bytes).map_err(gz_err)?;
    let mut bytes = head.to_vec();
    bytes.extend_from_slice(&dims_bytes[..got_dims]);
    let (_, _, expected) = header_and_size(&bytes, &name)?;
    let limit = u64::try_from(expected).unwrap_or(u64::MAX).saturating_add(1);
    std::io::Read::take(&mut z, limit).read_to_end(&mut bytes).map_err(gz_err)?;
    let found = bytes.len() - 4 - 4 * ndim;
    if found > expected {
        let dims: Vec<u32> = dims_bytes.chunks_exact(4).map(|c| u32::from_be_bytes(c.try_into().expect("4"))).collect();
        return Err(Error::data(
            &name,
            format!("the header promises {expected} data bytes (dimensions {dims:?}); the stream inflates to more"),
        ));
    }
    parse(&bytes, &name)
}

fn is_gzip(raw: &[u8]) -> bool {
    raw.len() >= 2 && raw[0] == 0x1f && raw[1] == 0x8b
}

/// Fills `buf` from `r` as far as it goes; the count read.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

fn check_magic(bytes: &[u8], file: &str) -> Result<(), Error> {
    if bytes.len() < 4 {
        return Err(Error::data(file, format!("truncated: {} bytes, too short for the IDX magic number", bytes.len())));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(Error::data(
            file,
            format!(
                "wrong magic number {:02x} {:02x} {:02x} {:02x}: not an IDX file",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        ));
    }
    if bytes[2] != 0x08 {
        return Err(Error::data(
            file,
            format!("element type 0x{:02x} is not supported (only unsigned bytes, 0x08)", bytes[2]),
        ));
    }
    if bytes[3] == 0 {
        return Err(Error::data(file, "zero dimensions in the IDX header"));
    }
    Ok(())
}

/// The header's length, the dimensions, and the data length they promise
/// (checked arithmetic: the dimensions come from the file).
fn header_and_size(bytes: &[u8], file: &str) -> Result<(usize, Vec<usize>, usize), Error> {
    check_magic(bytes, file)?;
    let ndim = bytes[3] as usize;
    let header = 4 + 4 * ndim;
    if bytes.len() < header {
        return Err(Error::data(
            file,
            format!("truncated: {} bytes, the header of {ndim} dimensions needs {header}", bytes.len()),
        ));
    }
    let dims: Vec<usize> =
        bytes[4..header].chunks_exact(4).map(|c| u32::from_be_bytes(c.try_into().expect("4 bytes")) as usize).collect();
    let expected = dims
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .ok_or_else(|| Error::data(file, format!("dimensions {dims:?} overflow")))?;
    Ok((header, dims, expected))
}

/// Parses IDX bytes (already inflated); `file` names them in errors.
///
/// # Errors
/// As [`read`].
pub fn parse(bytes: &[u8], file: &str) -> Result<IdxArray, Error> {
    let (header, dims, expected) = header_and_size(bytes, file)?;
    let found = bytes.len() - header;
    if found < expected {
        return Err(Error::data(
            file,
            format!("truncated: dimensions {dims:?} need {expected} data bytes, the file has {found}"),
        ));
    }
    if found > expected {
        return Err(Error::data(
            file,
            format!("{} bytes beyond the {expected} that dimensions {dims:?} describe", found - expected),
        ));
    }
    Ok(IdxArray { dims, data: bytes[header..].to_vec() })
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut b = vec![0, 0, 8, dims.len() as u8];
        dims.iter().for_each(|d| b.extend_from_slice(&d.to_be_bytes()));
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn parses_and_rejects() {
        let ok = idx(&[2, 2], &[1, 2, 3, 4]);
        assert_eq!(parse(&ok, "f").unwrap().dims, vec![2, 2]);
        let e = parse(&ok[..7], "f").unwrap_err().to_string();
        assert!(e.contains("header of 2 dimensions needs 12"), "{e}");
        let e = parse(&ok[..14], "f").unwrap_err().to_string();
        assert!(e.contains("need 4 data bytes, the file has 2"), "{e}");
        let mut long = ok.clone();
        long.push(9);
        assert!(parse(&long, "f").unwrap_err().to_string().contains("1 bytes beyond"));
        let mut magic = ok.clone();
        magic[0] = 0x1f;
        assert!(parse(&magic, "f").unwrap_err().to_string().contains("wrong magic number"));
        let mut float = ok;
        float[2] = 0x0d;
        assert!(parse(&float, "f").unwrap_err().to_string().contains("element type 0x0d"));
    }

    /// A gzip bomb: a few kilobytes whose header promises 10 bytes but that
    /// inflate to 64 MiB. Rejected after inflating 11 bytes of data, naming
    /// the promise; it used to inflate all of it first.
    #[test]
    fn a_gzip_bomb_is_rejected_after_the_bytes_its_header_promises() {
        let dir = std::env::temp_dir().join(format!("strata-idx-bomb-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&idx(&[10], &[0; 10])).unwrap();
        let zeros = vec![0u8; 1 << 20];
        for _ in 0..64 {
            gz.write_all(&zeros).unwrap();
        }
        let gz = gz.finish().unwrap();
        assert!(gz.len() < 200_000, "{}", gz.len());
        let path = dir.join("bomb-idx1-ubyte.gz");
        std::fs::write(&path, &gz).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("bomb-idx1-ubyte.gz"), "{e}");
        assert!(e.contains("the header promises 10 data bytes (dimensions [10]); the stream inflates to more"), "{e}");
        // A gzipped header that lies the other way is truncation, as for raw files.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&idx(&[100], &[1; 10])).unwrap();
        std::fs::write(&path, gz.finish().unwrap()).unwrap();
        let e = read(&path).unwrap_err().to_string();
        assert!(e.contains("need 100 data bytes, the file has 10"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reads_gzip_and_raw_files_and_names_them() {
        let dir = std::env::temp_dir().join(format!("strata-idx-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bytes = idx(&[3], &[7, 8, 9]);
        std::fs::write(dir.join("raw-idx1-ubyte"), &bytes).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&bytes).unwrap();
        let gz = gz.finish().unwrap();
        std::fs::write(dir.join("z-idx1-ubyte.gz"), &gz).unwrap();
        assert_eq!(read(dir.join("raw-idx1-ubyte")).unwrap().data, vec![7, 8, 9]);
        assert_eq!(read(dir.join("z-idx1-ubyte.gz")).unwrap().data, vec![7, 8, 9]);
        std::fs::write(dir.join("cut.gz"), &gz[..gz.len() - 6]).unwrap();
        let e = read(dir.join("cut.gz")).unwrap_err().to_string();
        assert!(e.contains("cut.gz") && e.contains("gzip"), "{e}");
        let e = read(dir.join("missing")).unwrap_err().to_string();
        assert!(e.contains("missing"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
