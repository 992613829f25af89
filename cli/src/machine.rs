//! What machine a run was made on.

use std::fs;

/// (label, value) lines describing this machine and the pinning.
pub fn describe(cpus: Option<(usize, usize)>) -> Vec<(String, String)> {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|v| v.trim_start_matches([' ', '\t', ':']))
        })
        .unwrap_or("unknown")
        .to_owned();
    let hypervisor = cpuinfo
        .lines()
        .any(|l| l.starts_with("flags") && l.split_whitespace().any(|f| f == "hypervisor"));
    let container = fs::metadata("/.dockerenv").is_ok()
        || fs::read_to_string("/proc/1/cgroup").is_ok_and(|c| c.contains("docker"));
    let virt = match (hypervisor, container) {
        (true, true) => "virtual machine (cpuinfo hypervisor flag), in a container",
        (true, false) => "virtual machine (cpuinfo hypervisor flag)",
        (false, true) => "container on bare metal",
        (false, false) => "bare metal",
    };
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let load = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    // SAFETY: plain libc query.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let pinned = match cpus {
        Some((a, b)) => format!("parent on CPU {a}, child on CPU {b}"),
        None => "not pinned (fewer than two CPUs allowed)".to_owned(),
    };
    vec![
        ("cpu".into(), model),
        ("cpus".into(), format!("{online} online")),
        ("kernel".into(), kernel.trim().to_owned()),
        ("machine".into(), virt.to_owned()),
        (
            "load".into(),
            format!(
                "{} (1/5/15 min, at start)",
                load.split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ")
            ),
        ),
        ("pinning".into(), pinned),
    ]
}
