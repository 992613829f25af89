//! Point to point: two processes converse over a pair of SPSC rings, request and
//! response.
//!
//! ```text
//! cargo run --release --example point_to_point
//! ```
//!
//! The client sends 100 000 requests of varying size (a number and some text), the server
//! answers each with the text reversed and the number squared; the client checks every
//! answer and measures the round trip. Invariant, checked: every answer belongs to its
//! request, in order. Prints round-trip p50/p99/p99.9. Exit status 0, or 1 if the
//! invariant does not hold; nothing is left in /dev/shm, also after Ctrl-C.

#[path = "support/mod.rs"]
mod support;

use ipcring::spsc::{Builder, Consumer, Producer};
use ipcring::RecvError;
use std::process::ExitCode;
use std::time::Instant;
use support::{mix, percentile, Run};

const REQUESTS: u64 = 100_000;

/// Request `n`: its number, then 0 to 200 bytes of text.
fn request(n: u64) -> Vec<u8> {
    let len = (mix(n) % 201) as usize;
    let mut v = n.to_le_bytes().to_vec();
    v.extend((0..len).map(|i| b'a' + ((n as usize + i) % 26) as u8));
    v
}

/// The answer to `req`: the number squared, then the text reversed.
fn answer(req: &[u8]) -> Vec<u8> {
    let n = u64::from_le_bytes(req[..8].try_into().expect("a number first"));
    let mut v = n.wrapping_mul(n).to_le_bytes().to_vec();
    v.extend(req[8..].iter().rev());
    v
}

/// The server: answers until the client is gone.
fn server(requests: &str, responses: &str) -> ExitCode {
    let mut rx = Consumer::open(requests).expect("open the request ring");
    let mut tx = Producer::open(responses).expect("open the response ring");
    println!("ready");
    let mut buf = Vec::new();
    loop {
        match rx.recv_into(&mut buf) {
            Ok(_) => tx.send(&answer(&buf)).expect("answer"),
            Err(RecvError::Disconnected) => return ExitCode::SUCCESS,
            Err(e) => panic!("server: {e}"),
        }
    }
}

fn main() -> ExitCode {
    if let Some((role, args)) = support::role() {
        assert_eq!(role, "server");
        return server(&args[0], &args[1]);
    }
    let run = Run::start("point_to_point");
    let (req_name, resp_name) = (run.queue("requests"), run.queue("responses"));
    let mut requests = Builder::new(&req_name)
        .capacity(1 << 16)
        .create_producer()
        .expect("create the request ring");
    let mut responses = Builder::new(&resp_name)
        .capacity(1 << 16)
        .create_consumer()
        .expect("create the response ring");
    let mut server = run.spawn("server", [req_name, resp_name]);
    server.expect("ready");
    let mut rtt = Vec::with_capacity(REQUESTS as usize);
    let mut buf = Vec::new();
    let started = Instant::now();
    for n in 0..REQUESTS {
        let req = request(n);
        let t = Instant::now();
        requests.send(&req).expect("send a request");
        responses.recv_into(&mut buf).expect("receive the answer");
        rtt.push(t.elapsed().as_nanos() as u64);
        run.check(
            buf == answer(&req),
            &format!("the answer to request {n} is wrong"),
        );
    }
    let took = started.elapsed();
    drop(requests);
    let (_, status) = server.finish();
    run.check(status.success(), "the server failed");
    let [p50, p99, p999] = [0.5, 0.99, 0.999].map(|q| percentile(&mut rtt, q));
    println!("point_to_point: {REQUESTS} requests (8-208 bytes) answered over two SPSC rings");
    println!("  round trip p50 {p50} ns, p99 {p99} ns, p99.9 {p999} ns; {took:.2?} in all");
    println!("  every answer checked against its request, in order");
    ExitCode::SUCCESS
}
