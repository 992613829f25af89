//! What machine a run was made on.

use serde_json::{json, Value};
use std::fs;

/// The machine and the pinning of one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Machine {
    /// The CPU model (`model name` of /proc/cpuinfo), "unknown" if there is none.
    pub cpu: String,
    /// CPUs online.
    pub cpus_online: u64,
    /// The kernel release.
    pub kernel: String,
    /// /proc/cpuinfo has the `hypervisor` flag: a virtual machine.
    pub hypervisor: bool,
    /// In a (docker) container.
    pub container: bool,
    /// Load average over 1, 5 and 15 minutes, at the start of the run.
    pub load: [f64; 3],
    /// The CPUs of the parent and of the child, if the run was pinned.
    pub pinned: Option<(usize, usize)>,
}

impl Machine {
    /// (label, value) lines for people.
    pub fn lines(&self) -> Vec<(String, String)> {
        let virt = match (self.hypervisor, self.container) {
            (true, true) => "virtual machine (cpuinfo hypervisor flag), in a container",
            (true, false) => "virtual machine (cpuinfo hypervisor flag)",
            (false, true) => "container on bare metal",
            (false, false) => "bare metal",
        };
        let [l1, l5, l15] = self.load;
        let pinned = match self.pinned {
            Some((a, b)) => format!("parent on CPU {a}, child on CPU {b}"),
            None => "not pinned (fewer than two CPUs allowed)".to_owned(),
        };
        vec![
            ("cpu".into(), self.cpu.clone()),
            ("cpus".into(), format!("{} online", self.cpus_online)),
            ("kernel".into(), self.kernel.clone()),
            ("machine".into(), virt.to_owned()),
            (
                "load".into(),
                format!("{l1:.2} {l5:.2} {l15:.2} (1/5/15 min, at start)"),
            ),
            ("pinning".into(), pinned),
        ]
    }

    /// The `machine` object of the JSON output (see `cli/JSON.md`).
    pub fn json(&self) -> Value {
        json!({
            "cpu": self.cpu,
            "cpus_online": self.cpus_online,
            "kernel": self.kernel,
            "hypervisor": self.hypervisor,
            "container": self.container,
            "load": self.load,
            "pinned_cpus": self.pinned.map(|(a, b)| [a, b]),
        })
    }
}

/// This machine, with the pinning `cpus`.
pub fn describe(cpus: Option<(usize, usize)>) -> Machine {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
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
    let kernel = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let loadavg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut load = [0.0; 3];
    for (slot, v) in load.iter_mut().zip(loadavg.split_whitespace()) {
        *slot = v.parse().unwrap_or(0.0);
    }
    // Through libc: rustix has no `sysconf`.
    // SAFETY: plain libc query.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    Machine {
        cpu,
        cpus_online: u64::try_from(online).unwrap_or(0),
        kernel: kernel.trim().to_owned(),
        hypervisor,
        container,
        load,
        pinned: cpus,
    }
}
