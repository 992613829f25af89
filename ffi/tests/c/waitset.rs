//! Wait sets from C, in real processes: the C program of statuses and bad input of wait
//! sets, and examples/gateway.c, an event loop that serves two rings fed by two forked
//! producers through the set's descriptor and poll(2).

use super::{leftovers, programs, run_checks, text, Rings, Running};
use std::process::{Child, Command};

#[test]
fn waitset_input_from_c_gets_status_codes() {
    run_checks(&programs().waitset_input, "waitset");
}

#[test]
fn c_gateway_serves_two_rings_from_poll() {
    let gateway = Running::spawn(Command::new(&programs().gateway).arg("20000"), "C gateway");
    // gateway names its rings after its process id.
    let pid = gateway.child.as_ref().map_or(0, Child::id);
    let rings = Rings::with_prefix(format!("gateway-c-{pid}"));
    let out = gateway.finish();
    assert!(out.status.success(), "gateway failed:\n{}", text(&out));
    assert_eq!(leftovers(&rings), Vec::<String>::new());
    let said = String::from_utf8_lossy(&out.stdout);
    for line in [
        "gateway: ring 0: 20000 messages, 0 bad",
        "gateway: ring 1: 20000 messages, 0 bad",
        "producer 0: sent 20000 messages",
        "producer 1: sent 20000 messages",
    ] {
        assert!(said.contains(line), "no {line:?} in:\n{}", text(&out));
    }
}
