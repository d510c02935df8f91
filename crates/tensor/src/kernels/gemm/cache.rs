//! The geometry of this core's level-2 cache, read once from Linux's sysfs,
//! which sizes the packed B panel and decides whether B is read in place.

use std::sync::OnceLock;

/// A unified level-2 cache: its size, ways and sets of 64-byte lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct L2 {
    pub bytes: usize,
    pub ways: usize,
    pub sets: usize,
}

/// Assumed when sysfs cannot be read: 1 MiB of 16 ways (Zen 5's).
const FALLBACK: L2 = L2 { bytes: 1 << 20, ways: 16, sets: 1024 };

/// CPU 0's L2, read once.
pub(super) fn l2() -> L2 {
    static L2_CACHE: OnceLock<L2> = OnceLock::new();
    *L2_CACHE.get_or_init(|| read_l2(std::path::Path::new("/sys/devices/system/cpu/cpu0/cache")).unwrap_or(FALLBACK))
}

/// The unified level-2 cache under `dir`, from
/// `index*/{level,type,size,ways_of_associativity,number_of_sets}`; the
/// ways and sets are derived from the size (16 ways) when not given.
fn read_l2(dir: &std::path::Path) -> Option<L2> {
    std::fs::read_dir(dir).ok()?.flatten().find_map(|entry| {
        let read = |f: &str| std::fs::read_to_string(entry.path().join(f)).ok();
        let (level, kind, size) = (read("level")?, read("type")?, read("size")?);
        if level.trim() != "2" || kind.trim() == "Instruction" {
            return None;
        }
        let bytes = parse_size(size.trim())?;
        let number = |f: &str| read(f).and_then(|s| s.trim().parse::<usize>().ok()).filter(|&v| v > 0);
        let ways = number("ways_of_associativity").unwrap_or(16);
        let sets = number("number_of_sets").unwrap_or((bytes / 64 / ways).max(1));
        Some(L2 { bytes, ways, sets })
    })
}

/// `512K`, `2M` or a plain byte count, as sysfs writes a cache's size.
fn parse_size(size: &str) -> Option<usize> {
    let (digits, unit) = size.split_at(size.find(|c: char| !c.is_ascii_digit()).unwrap_or(size.len()));
    let scale = match unit {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        _ => return None,
    };
    digits.parse::<usize>().ok().map(|d| d * scale)
}

/// How many lines of `l2` the rows of one B strip read in place can
/// occupy when they are `row` bytes apart: a stride of whole lines that
/// shares a factor with the number of sets maps every row to a few sets
/// (1 KiB apart, 64 of 1,024), and only those sets' ways hold the strip.
pub(super) fn strip_lines(l2: L2, row: usize) -> usize {
    let sets = if row.is_multiple_of(64) { l2.sets / gcd(l2.sets, row / 64) } else { l2.sets };
    sets * l2.ways
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_as_sysfs_writes_them() {
        assert_eq!(parse_size("512K"), Some(512 << 10));
        assert_eq!(parse_size("2M"), Some(2 << 20));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("3G"), None);
        assert_eq!(parse_size("K"), None);
    }

    #[test]
    fn strided_rows_crowd_into_few_sets() {
        let zen2 = L2 { bytes: 512 << 10, ways: 8, sets: 1024 };
        // 1 KiB apart: every 16th set, 64 sets of 8 ways.
        assert_eq!(strip_lines(zen2, 1024), 512);
        assert_eq!(strip_lines(zen2, 2048), 256);
        assert_eq!(strip_lines(zen2, 3072), 512);
        // An odd number of lines, or not whole lines, reaches every set.
        assert_eq!(strip_lines(zen2, 3136), 8192);
        assert_eq!(strip_lines(zen2, 1000), 8192);
    }

    #[test]
    fn the_l2_is_read_from_a_sysfs_tree() {
        let dir = std::env::temp_dir().join(format!("strata-cache-{}", std::process::id()));
        let write = |index: &str, files: &[(&str, &str)]| {
            let d = dir.join(index);
            std::fs::create_dir_all(&d).unwrap();
            files.iter().for_each(|(f, v)| std::fs::write(d.join(f), format!("{v}\n")).unwrap());
        };
        write("index0", &[("level", "1"), ("type", "Data"), ("size", "32K")]);
        write(
            "index2",
            &[
                ("level", "2"),
                ("type", "Unified"),
                ("size", "512K"),
                ("ways_of_associativity", "8"),
                ("number_of_sets", "1024"),
            ],
        );
        assert_eq!(read_l2(&dir), Some(L2 { bytes: 512 << 10, ways: 8, sets: 1024 }));
        // Without ways and sets: 16 ways assumed.
        std::fs::remove_file(dir.join("index2/ways_of_associativity")).unwrap();
        std::fs::remove_file(dir.join("index2/number_of_sets")).unwrap();
        assert_eq!(read_l2(&dir), Some(L2 { bytes: 512 << 10, ways: 16, sets: 512 }));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(read_l2(&dir), None);
    }
}
