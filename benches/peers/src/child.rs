//! The child process of a cross-process row: `child TAG NAME CPU JOB…` (see
//! [`crate::spawn`]). It attaches its ends to the rings the parent named, says `ready`,
//! then echoes until `STOP` (a round trip) or receives a stream and says `done`.

use crate::job::{Job, Lib};
use crate::measure::{self, Msg, Receiver, BLOCK};
use crate::{cleanup, iceoryx, ipc, pin, ringfire};
use rustix::process::{getppid, set_parent_process_death_signal, Signal};

/// The child's `main`, given the words after `child`.
pub fn main(args: &[String]) {
    let [tag, name, cpu, job @ ..] = args else {
        panic!("child TAG NAME CPU JOB…, not {args:?}");
    };
    cleanup::set_tag(tag.clone());
    let job = Job::parse(job).unwrap_or_else(|| panic!("not a job: {job:?}"));
    // Dies with the parent, whatever kills it; and not after it, if it is already gone.
    set_parent_process_death_signal(Some(Signal::KILL)).expect("PR_SET_PDEATHSIG");
    if getppid() != cleanup::parent_pid() {
        return;
    }
    if let Ok(cpu) = cpu.parse() {
        pin::pin(cpu).expect("pin");
    }
    if job.n == 0 {
        let mut end = match job.lib {
            Lib::Ipcring => ipc::child_end(&job, name),
            Lib::Ringfire => ringfire::child_end(&job, name),
            Lib::Iceoryx2 => iceoryx::child_end(name),
        };
        println!("ready");
        measure::echo(end.as_mut());
    } else if job.size == BLOCK {
        stream::<[u8; BLOCK]>(&job, name);
    } else {
        stream::<u64>(&job, name);
    }
}

fn stream<M: Msg>(job: &Job, name: &str) {
    let mut rx: Box<dyn Receiver<M>> = match job.lib {
        Lib::Ipcring => ipc::stream_rx(job, name),
        Lib::Ringfire => ringfire::stream_rx(job, name),
        Lib::Iceoryx2 => panic!("no iceoryx2 streams"),
    };
    println!("ready");
    measure::sink(rx.as_mut(), job.n);
    println!("done");
}
