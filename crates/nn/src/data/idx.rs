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

use std::path::Path;

use crate::data::gzip::maybe_gunzip;
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
    parse(&maybe_gunzip(raw, &name)?, &name)
}

/// Parses IDX bytes (already inflated); `file` names them in errors.
///
/// # Errors
/// As [`read`].
pub fn parse(bytes: &[u8], file: &str) -> Result<IdxArray, Error> {
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
    let ndim = bytes[3] as usize;
    if ndim == 0 {
        return Err(Error::data(file, "zero dimensions in the IDX header"));
    }
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
