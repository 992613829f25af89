//! Parsers of the command line's numbers: sizes (`4096`, `64K`, `1MiB`), durations
//! (`500ms`, `2s`, `1m`), octal modes (`0660`), and a blackboard's entries (`price:16`,
//! `8:64`).

use std::time::Duration;

/// A size in bytes or a count: digits, then an optional binary suffix (`K`, `KiB`, `M`,
/// `MiB`, `G`, `GiB`, case-insensitive).
pub fn size(s: &str) -> Result<usize, String> {
    let at = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, suffix) = s.split_at(at);
    let n: usize = digits
        .parse()
        .map_err(|_| format!("{s:?} is not a number (for example 4096, 64K, 1MiB)"))?;
    let shift = match suffix.to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("unknown size suffix {suffix:?} (K, M or G)")),
    };
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

/// A duration: a number and a unit (`ns`, `us`, `ms`, `s`, `m`, `h`); a bare number is
/// seconds. Fractions are allowed (`0.5s`).
pub fn duration(s: &str) -> Result<Duration, String> {
    let at = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, unit) = s.split_at(at);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{s:?} is not a duration (for example 500ms, 2s, 1m)"))?;
    let secs = match unit {
        "ns" => n / 1e9,
        "us" => n / 1e6,
        "ms" => n / 1e3,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("unknown unit {unit:?} (ns, us, ms, s, m, h)")),
    };
    Duration::try_from_secs_f64(secs).map_err(|e| format!("{s:?}: {e}"))
}

/// Permission bits in octal (`0660`, `660`).
pub fn mode(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .map_err(|_| format!("{s:?} is not an octal mode (for example 0660)"))
}

/// A blackboard entry: `KEY:MAXSIZE` (`price:16`, `config:4K`; `:64` for an entry without
/// a key). The key is what comes before the last colon.
pub fn entry(s: &str) -> Result<(String, usize), String> {
    let (key, max) = s
        .rsplit_once(':')
        .ok_or_else(|| format!("{s:?} is not KEY:MAXSIZE (for example price:16)"))?;
    Ok((key.to_owned(), size(max)?))
}

/// Entries without keys: `N:MAXSIZE` (`8:64`).
pub fn entries(s: &str) -> Result<(usize, usize), String> {
    let (n, max) = s
        .split_once(':')
        .ok_or_else(|| format!("{s:?} is not N:MAXSIZE (for example 8:64)"))?;
    let n = n
        .parse()
        .map_err(|_| format!("{n:?} is not a number of entries"))?;
    Ok((n, size(max)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_take_binary_suffixes() {
        assert_eq!(size("4096"), Ok(4096));
        assert_eq!(size("64K"), Ok(65536));
        assert_eq!(size("1MiB"), Ok(1 << 20));
        assert_eq!(size("2g"), Ok(2 << 30));
        assert!(size("12Q").is_err());
        assert!(size("K").is_err());
        assert!(size("99999999999999999999G").is_err());
    }

    #[test]
    fn durations_take_units() {
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(duration("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1m"), Ok(Duration::from_secs(60)));
        assert!(duration("1 week").is_err());
        assert!(duration("-1s").is_err());
    }

    #[test]
    fn modes_are_octal() {
        assert_eq!(mode("0660"), Ok(0o660));
        assert_eq!(mode("600"), Ok(0o600));
        assert!(mode("0990").is_err());
    }

    #[test]
    fn entries_are_a_key_or_a_count_and_a_size() {
        assert_eq!(entry("price:16"), Ok(("price".to_owned(), 16)));
        assert_eq!(entry("a:b:4K"), Ok(("a:b".to_owned(), 4096)));
        assert_eq!(entry(":64"), Ok((String::new(), 64)));
        assert!(entry("price").is_err());
        assert!(entry("price:x").is_err());
        assert_eq!(entries("8:64"), Ok((8, 64)));
        assert!(entries("x:64").is_err());
        assert!(entries("8").is_err());
    }
}
