//! Choosing and pinning CPUs.

use ipcring_bench_support::pin::MAX_CPU;
pub use ipcring_bench_support::pin::{choose, pin};

/// Parses `A,B`: two different CPU numbers.
pub fn parse_pair(s: &str) -> Result<(usize, usize), String> {
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| format!("expected two CPUs as A,B, got {s:?}"))?;
    let num = |t: &str| {
        t.trim()
            .parse::<usize>()
            .map_err(|_| format!("{t:?} is not a CPU number"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if a == b {
        return Err(format!("the two CPUs must differ (got {a} twice)"));
    }
    if a >= MAX_CPU || b >= MAX_CPU {
        return Err(format!("CPU numbers must be below {MAX_CPU}"));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ipcring_bench_support::pin::allowed;

    #[test]
    fn a_pair_parses_with_spaces() {
        assert_eq!(parse_pair("0,1"), Ok((0, 1)));
        assert_eq!(parse_pair(" 3 , 12 "), Ok((3, 12)));
    }

    #[test]
    fn bad_pairs_are_refused_with_a_reason() {
        assert!(parse_pair("1").unwrap_err().contains("A,B"));
        assert!(parse_pair("1,1").unwrap_err().contains("differ"));
        assert!(parse_pair("a,1").unwrap_err().contains("not a CPU"));
        assert!(parse_pair("0,-1").is_err());
        assert!(parse_pair("0,100000").unwrap_err().contains("below"));
    }

    #[test]
    fn the_default_pair_is_two_allowed_cpus() {
        let cpus = allowed().unwrap();
        match choose(None).unwrap() {
            Some((a, b)) => assert!(a != b && cpus.contains(&a) && cpus.contains(&b)),
            None => assert!(cpus.len() < 2),
        }
    }
}
